import Dispatch
import Foundation
import RecorderEngine

/// SIGUSR1 pauses the session, SIGUSR2 resumes it, for as long as this
/// object lives. Two signals rather than one that toggles: each says what
/// it wants, so a script that sends one twice (a retry, two operators)
/// gets what it asked for, and two toggles coalescing while pending cannot
/// leave the recording in the opposite state.
final class PauseSignals: @unchecked Sendable {  // `sources` is set once, in init
    private let sources: [any DispatchSourceSignal]

    init(session: RecordingSession, log: @escaping @Sendable (String) -> Void) {
        let signals: [(number: Int32, pausing: Bool)] = [(SIGUSR1, true), (SIGUSR2, false)]
        sources = signals.map { number, pausing in
            // Delivered to the source, not to the default action (which ends the process).
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: { Self.handle(session: session, pausing: pausing, log: log) })
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    private static func handle(session: RecordingSession, pausing: Bool, log: (String) -> Void) {
        do {
            let at = try pausing ? session.pause() : session.resume()
            let seconds = Double(at.components.seconds) + Double(at.components.attoseconds) / 1e18
            log((pausing ? "paused" : "resumed") + " at " + String(format: "%.2f", seconds) + " s of the recording")
        } catch {
            // A pause while paused (a resume while recording): what was asked for holds already.
            if error != .alreadyPaused && error != .notPaused {
                log((pausing ? "pause" : "resume") + " refused: \(error)")
            }
        }
    }
}
