import Foundation

/// An nginx-rtmp the test owns, on a free port, with `record all` and
/// `record_unique on` (each publishing session gets its own file), so the
/// test can stop it and start it again on the same port.
public final class RTMPServer {
    public let directory: String
    public let port: Int
    public let recordDirectory: String
    private var process: ChildProcess?

    public init(directory: String) throws {
        self.directory = directory
        port = try freeLoopbackPort()
        recordDirectory = "\(directory)/record"
        try FileManager.default.createDirectory(atPath: "\(directory)/logs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: recordDirectory, withIntermediateDirectories: true)
        chmod(recordDirectory, 0o777)
        let module = try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/nginx/modules")
            .first { $0 == "ngx_rtmp_module.so" }.map { "/usr/lib/nginx/modules/\($0)" }
        guard let module else { throw FixtureError.failed("libnginx-mod-rtmp is not installed") }
        try """
            load_module \(module);
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(directory)/nginx.pid;
            error_log \(directory)/logs/error.log info;
            events { worker_connections 64; }
            rtmp {
                server {
                    listen 127.0.0.1:\(port);
                    chunk_size 4096;
                    application live {
                        live on;
                        record all;
                        record_path \(recordDirectory);
                        record_unique on;
                    }
                }
            }
            """.write(toFile: "\(directory)/nginx.conf", atomically: true, encoding: .utf8)
        try start()
    }

    deinit { stop() }

    public var url: String { "rtmp://127.0.0.1:\(port)/live" }

    public func start() throws {
        precondition(process == nil)
        process = try ChildProcess(["nginx", "-p", directory, "-c", "\(directory)/nginx.conf"])
        guard waitForListener(port: port) else { throw FixtureError.failed("nginx did not listen on \(port)") }
    }

    /// Stops the server at once (fast shutdown: connections are dropped).
    public func stop() {
        guard let process else { return }
        process.send(SIGTERM)
        if process.wait(timeout: 5) == nil {
            process.send(SIGKILL)
            process.wait()
        }
        self.process = nil
    }

    /// The files recorded for stream `name`, oldest first.
    public func recordings(_ name: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: recordDirectory)) ?? []
        return files.filter { $0.hasPrefix(name) && $0.hasSuffix(".flv") }.sorted().map { "\(recordDirectory)/\($0)" }
    }
}
