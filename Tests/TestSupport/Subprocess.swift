import Foundation
@_exported public import HostProcesses

/// What a finished command printed and how it ended.
public struct CommandResult: Sendable {
    /// Exit code, or 128 + the signal that ended it.
    public let status: Int32
    public let standardOutput: String
    public let standardError: String
}

extension ChildProcess {
    /// A sine tone played into an ALSA PCM for `seconds` (`sox | aplay`, S16
    /// stereo, half of full scale). `send` and `stop` reach the player too
    /// (the pipeline is the child's process group), so no sound outlives its
    /// test into the next.
    public static func tone(pcm: String, seconds: Double, frequency: Int = 440, sampleRate: Int = 48000,
                            environment: [String: String]? = nil) throws -> ChildProcess {
        try ChildProcess(["bash", "-c", "sox -n -r \(sampleRate) -c 2 -b 16 -e signed -t raw - synth \(seconds) "
                          + "sine \(frequency) vol 0.5 | aplay -q -D '\(pcm)' -t raw -f S16_LE -r \(sampleRate) -c 2"],
                         environment: environment)
    }
}

/// Runs tools the tests check results with (ffprobe, aplay, sox, the bench).
public enum Subprocess {
    /// Runs `arguments[0]` (searched on PATH) to completion and captures its output.
    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
        let out = Pipe(), err = Pipe()
        let child = try ChildProcess(arguments, environment: environment,
                                     standardOutput: .descriptor(out.fileHandleForWriting.fileDescriptor),
                                     standardError: .descriptor(err.fileHandleForWriting.fileDescriptor))
        try out.fileHandleForWriting.close()
        try err.fileHandleForWriting.close()
        // Read both pipes while the child runs, so a chatty child never blocks.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        return CommandResult(status: child.wait().status,
                             standardOutput: String(decoding: outData, as: UTF8.self),
                             standardError: String(decoding: errData, as: UTF8.self))
    }
}
