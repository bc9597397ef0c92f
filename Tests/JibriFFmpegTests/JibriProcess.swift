import Foundation
import TestSupport

/// jibri-ffmpeg run as Jibri runs it: stdout and stderr merged into one pipe
/// (`redirectErrorStream(true)`), read line by line as the lines come, each
/// fed to Jibri's capturer state (`JibriCapturerState`), stopped with SIGINT.
final class JibriProcess: @unchecked Sendable {
    /// The jibri-ffmpeg built with the tests.
    static let binary = Repository.product("jibri-ffmpeg")

    let child: ChildProcess
    private let lock = NSLock()
    private var received: [String] = []
    private var jibri = JibriCapturerState()
    private var runningAfter: Double?
    private var stopping = false
    private var exitStatus: Int32?
    private let launched = Date()
    private let readerDone = DispatchSemaphore(value: 0)

    init(_ arguments: [String], binary: String = JibriProcess.binary, environment: [String: String]? = nil) throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw FixtureError.failed("pipe: \(errno)") }
        defer { close(ends[1]) }
        do {
            child = try ChildProcess([binary] + arguments, environment: environment,
                                     standardOutput: .descriptor(ends[1]), standardError: .descriptor(ends[1]))
        } catch {
            close(ends[0])
            throw error
        }
        let descriptor = ends[0]
        Thread.detachNewThread { [self] in
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            var pending = Data()
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                pending.append(data)
                // Java's readLine ends a line at \n, \r or \r\n, as ffmpeg's \r-ended progress needs.
                while let end = pending.firstIndex(where: { $0 == 10 || $0 == 13 }) {
                    let line = String(decoding: pending[pending.startIndex..<end], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...end)
                    if !line.isEmpty { take(line) }
                }
            }
            if !pending.isEmpty { take(String(decoding: pending, as: UTF8.self)) }
            readerDone.signal()
        }
    }

    private func take(_ line: String) {
        lock.withLock {
            received.append(line)
            jibri.read(line)
            if runningAfter == nil && jibri.state == .running { runningAfter = Date().timeIntervalSince(launched) }
        }
    }

    /// Every line so far.
    var lines: [String] { lock.withLock { received } }
    /// Jibri's view of the capturer now.
    var state: JibriCapturerState.State { lock.withLock { jibri.state } }
    var transitions: [JibriCapturerState.State] { lock.withLock { jibri.transitions.map(\.to) } }
    /// Seconds from launch to the line that moved Jibri to running.
    var secondsToRunning: Double? { lock.withLock { runningAfter } }
    var progressLines: [String] { lines.filter { $0.hasPrefix("frame=") } }

    /// The media time the last progress line gave, in seconds.
    var mediaSeconds: Double { progressLines.last.flatMap(Self.mediaSeconds) ?? 0 }

    static func mediaSeconds(in line: String) -> Double? {
        guard let range = line.range(of: #"time=(\d+):(\d+):(\d+\.\d+)"#, options: .regularExpression) else { return nil }
        let parts = line[range].dropFirst(5).split(separator: ":").compactMap { Double($0) }
        return parts.count == 3 ? parts[0] * 3600 + parts[1] * 60 + parts[2] : nil
    }

    /// The frame count the last progress line gave.
    var frames: Int? {
        guard let line = progressLines.last, let range = line.range(of: #"frame=\s*\d+"#, options: .regularExpression)
        else { return nil }
        return Int(line[range].dropFirst(6).trimmingCharacters(in: .whitespaces))
    }

    /// Polls until `condition` holds or `seconds` pass; whether it held.
    func waitUntil(seconds: Double, _ condition: (JibriProcess) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(self) { return true }
            if exited { return condition(self) }
            usleep(50_000)
        }
        return condition(self)
    }

    /// Stops it as Jibri does: its exit check is cancelled, then SIGINT.
    func interrupt() {
        lock.withLock {
            stopping = true
            jibri.stopRequested()
        }
        child.send(SIGINT)
    }

    private var exited: Bool { lock.withLock { exitStatus != nil } || peekExit() }

    private func peekExit() -> Bool {
        guard let status = child.wait(timeout: 0.001)?.status else { return false }
        finishExit(status)
        return true
    }

    /// Waits up to `seconds` for the process to end and its output to be
    /// read; its exit status, or nil. When Jibri did not stop it, Jibri's
    /// exit check sees the last line.
    func waitForExit(seconds: Double) -> Int32? {
        if let status = lock.withLock({ exitStatus }) { return status }
        guard let status = child.wait(timeout: seconds)?.status else { return nil }
        finishExit(status)
        return status
    }

    private func finishExit(_ status: Int32) {
        guard lock.withLock({ exitStatus == nil }) else { return }
        _ = readerDone.wait(timeout: .now() + 10)
        lock.withLock {
            exitStatus = status
            if !stopping, let last = received.last { jibri.processExited(lastLine: last) }
        }
    }

    /// Kills it if a test left it running.
    deinit {
        if lock.withLock({ exitStatus == nil }) {
            child.send(SIGKILL)
            child.wait()
        }
    }

    /// Lines Jibri would act on that are not ours to print: anything
    /// classified encoding that is not a progress line, any error line, a
    /// finished line anywhere but last.
    var misleadingLines: [String] {
        let all = lines
        return all.enumerated().compactMap { index, line in
            switch JibriOutputParser.classify(line) {
            case .unknown: return nil
            case .encoding: return line.hasPrefix("frame=") ? nil : line
            case .finished: return index == all.count - 1 ? nil : line
            case .error(.badRtmpUrl): return index == all.count - 1 ? nil : line
            case .error: return line
            }
        }
    }

    var log: String { lines.joined(separator: "\n") }
}
