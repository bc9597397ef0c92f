/// Jibri's ffmpeg capturer state, driven by a program's output as Jibri
/// drives it (jitsi/jibri `FfmpegStatusStateMachine.kt`, `FfmpegCapturer.kt`,
/// `util/ProcessStatePublisher.kt`, `util/JibriSubprocess.kt`):
///
/// - every line read is classified (`JibriOutputParser`) as if the process
///   were still running: progress is `EncodingLine`, unknown is `OtherLine`,
///   `Exiting ... signal 2` is `FinishLine`, an error line `ErrorLine`;
/// - when no line came for 2 s, Jibri looks at the process: if it has exited,
///   the last line is classified as exited, where a progress or unknown last
///   line is `QuitUnexpectedly`. Jibri stops that check when it stops the
///   process itself (`JibriSubprocess.stop` cancels it before the SIGINT), so
///   after `stopRequested()` only lines count;
/// - StartingUp goes to Running on the first progress line; Running and
///   StartingUp go to Error on an error line, to Finished on a finished line;
///   Error and Finished are final.
public struct JibriCapturerState: Sendable {
    public enum State: Equatable, Sendable {
        case startingUp, running, finished
        case error(JibriError)
    }

    public private(set) var state: State = .startingUp
    /// Every transition, in order, with the line that caused it.
    public private(set) var transitions: [(to: State, line: String)] = []
    private var stopping = false

    public init() {}

    /// A line of the program's merged stdout and stderr, read while it runs.
    public mutating func read(_ line: String) {
        switch JibriOutputParser.classify(line) {
        case .encoding: transition(to: .running, line: line, onlyFrom: .startingUp)
        case .unknown: break
        case .finished: transition(to: .finished, line: line)
        case let .error(error): transition(to: .error(error), line: line)
        }
    }

    /// Jibri began stopping the process (SIGINT): exits no longer count.
    public mutating func stopRequested() { stopping = true }

    /// The process exited with `lastLine` as its last line, and Jibri's
    /// periodic check noticed it (only before `stopRequested()`).
    public mutating func processExited(lastLine: String) {
        guard !stopping else { return }
        switch JibriOutputParser.classify(lastLine) {
        case .encoding, .unknown: transition(to: .error(.quitUnexpectedly), line: lastLine)
        case .finished: transition(to: .finished, line: lastLine)
        case let .error(error): transition(to: .error(error), line: lastLine)
        }
    }

    private mutating func transition(to next: State, line: String, onlyFrom: State? = nil) {
        guard state == .startingUp || state == .running else { return }  // Error and Finished are final
        if let onlyFrom, state != onlyFrom { return }
        guard next != state else { return }
        state = next
        transitions.append((next, line))
    }
}
