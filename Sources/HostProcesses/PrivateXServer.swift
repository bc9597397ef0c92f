import Foundation
import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// An Xvfb of this process's own, on a display number the server picks
/// (`-displayfd`: no race for a free number), as `scripts/testbench`
/// starts the bench's: `-nolisten tcp -noreset +extension MIT-SHM -shmem`
/// (the framebuffer in a shared segment, which the capture reads in place),
/// a 24-bit screen by default. Ready once it has written its number, which
/// it does when it accepts connections. Stopped with its process group.
public final class PrivateXServer: Sendable {
    /// `:N`.
    public let display: String
    /// The server's process.
    public let process: ChildProcess

    /// Starts the server and blocks until it is ready.
    ///
    /// - `arguments`: added after the defaults (`-extension DAMAGE`, `-fbdir DIR`...).
    /// - `log`: where its output goes (appended); nil discards it.
    /// - Throws: `ChildProcess.SpawnFailure`, or `PrivateServerFailure` when
    ///   it does not report a display within `readyWithin` seconds.
    public convenience init(width: Int = 640, height: Int = 480, depth: Int = 24, arguments: [String] = [],
                            program: String = "Xvfb", log: String? = nil, readyWithin: Double = 20) throws {
        let (process, reader) = try Self.spawn(width: width, height: height, depth: depth, arguments: arguments,
                                               program: program, log: log)
        defer { close(reader) }
        let line = LineReader.readLine(reader, deadline: .now + .milliseconds(Int(readyWithin * 1000)))
        try self.init(process: process, line: line, program: program, log: log, readyWithin: readyWithin)
    }

    /// The same for a task: waits for readiness by `readyWithin` or the
    /// task's cancellation, and then stops the server.
    /// - Throws: as `init`, or `CancellationError`.
    public static func start(width: Int, height: Int, depth: Int = 24, arguments: [String] = [],
                             program: String = "Xvfb", log: String? = nil, readyWithin: Double = 15) async throws -> PrivateXServer {
        let (process, reader) = try spawn(width: width, height: height, depth: depth, arguments: arguments,
                                          program: program, log: log)
        defer { close(reader) }
        let line: String?
        do {
            line = try await LineReader.readLine(reader, deadline: .now + .milliseconds(Int(readyWithin * 1000)))
        } catch {
            await process.terminate(grace: .seconds(1))
            throw error
        }
        return try PrivateXServer(process: process, line: line, program: program, log: log, readyWithin: readyWithin)
    }

    private init(process: ChildProcess, line: String?, program: String, log: String?, readyWithin: Double) throws {
        guard let number = line.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else {
            process.stop(grace: 1)
            throw PrivateServerFailure("\(program) did not report a display within \(readyWithin) s"
                                       + (log.map { " (see \($0))" } ?? ""))
        }
        self.process = process
        display = ":\(number)"
        Self.markSegmentsForRemoval(createdBy: process.pid)
    }

    /// Xvfb only detaches its `-shmem` segments when it exits, leaving them
    /// behind. Marked for removal once it is up, they go with the last
    /// process that detaches, however the server ends; Linux still lets a
    /// reader attach a marked segment.
    private static func markSegmentsForRemoval(createdBy pid: pid_t) {
        for segment in SharedMemorySegments.created(by: pid) { shmctl(segment.shmid, IPC_RMID, nil) }
    }

    private static func spawn(width: Int, height: Int, depth: Int, arguments: [String], program: String,
                              log: String?) throws -> (ChildProcess, reader: Int32) {
        var ends: [Int32] = [0, 0]
        // Close-on-exec: only the child's dup2'ed copy of the write end
        // exists outside this process, so its exit closes the pipe.
        guard clinux_pipe_cloexec(&ends) == 0 else {
            throw PrivateServerFailure("\(program): pipe failed: \(String(cString: strerror(errno)))")
        }
        let displayFD: Int32 = 3
        do {
            let process = try ChildProcess(
                [program, "-displayfd", "\(displayFD)", "-screen", "0", "\(width)x\(height)x\(depth)",
                 "-nolisten", "tcp", "-noreset", "+extension", "MIT-SHM", "-shmem"] + arguments,
                standardOutput: log.map { .file($0) } ?? .null, standardError: log == nil ? .null : .standardOutput,
                passing: [(ends[1], displayFD)])
            close(ends[1])
            return (process, ends[0])
        } catch {
            close(ends[0])
            close(ends[1])
            throw error
        }
    }

    /// Stops the server (SIGTERM to its group, SIGKILL after `grace` seconds) and reaps it.
    public func stop(grace: Double = 5) { process.stop(grace: grace) }

    /// The same for a task, bounded as `ChildProcess.terminate`.
    public func terminate(grace: Duration = .seconds(5)) async { await process.terminate(grace: grace) }

    deinit {
        // SIGTERM first: a killed Xvfb leaves its lock file and socket behind.
        if process.isRunning { process.stop(grace: 5) }
    }
}

/// A private server did not become ready.
public struct PrivateServerFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
