import Foundation
import TestSupport

/// A port that listens and never accepts, to prove that nothing connected:
/// a connection attempt completes in the kernel's backlog, where
/// `pendingConnections()` finds it.
final class ConnectionTrap {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        guard let port = bindToFreeLoopbackPort(descriptor), listen(descriptor, 16) == 0 else {
            throw FixtureError.failed("listen: \(errno)")
        }
        _ = fcntl(descriptor, F_SETFL, O_NONBLOCK)
        self.port = port
    }

    deinit { close(descriptor) }

    /// Connections made to the port so far (accepted and closed here).
    func pendingConnections() -> Int {
        var count = 0
        while true {
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else { return count }
            close(client)
            count += 1
        }
    }
}

/// A TCP proxy that forwards to `targetPort` but reads from the client at
/// most `bytesPerSecond`, with small socket buffers, so the sender sees
/// back-pressure within a fraction of a second: a slow uplink.
final class SlowProxy {
    let port: Int
    private let process: ChildProcess

    init(targetPort: Int, bytesPerSecond: Int, directory: String) throws {
        port = try freeLoopbackPort()
        let script = "\(directory)/slow-proxy.py"
        try Self.source.write(toFile: script, atomically: true, encoding: .utf8)
        process = try ChildProcess(["python3", script, String(port), String(targetPort), String(bytesPerSecond)])
        guard waitForListener(port: port) else { throw FixtureError.failed("the slow proxy did not listen") }
    }

    deinit {
        process.send(SIGKILL)
        process.wait()
    }

    private static let source = """
        import socket, sys, threading, time
        listen_port, target_port, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        server.bind(("127.0.0.1", listen_port))
        server.listen(8)

        def pump(source, sink, throttled):
            try:
                while True:
                    data = source.recv(2048 if throttled else 65536)
                    if not data:
                        break
                    sink.sendall(data)
                    if throttled:
                        time.sleep(len(data) / rate)
            except OSError:
                pass
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        while True:
            client, _ = server.accept()
            try:
                upstream = socket.create_connection(("127.0.0.1", target_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client, False), daemon=True).start()
        """
}

/// stunnel (Debian `stunnel4`) terminating TLS in front of an RTMP server,
/// with a certificate for 127.0.0.1 issued by a test CA made with openssl.
final class TLSTunnel {
    let port: Int
    /// The test CA's certificate (PEM), for `--tls-ca`.
    let authorityPath: String
    private let process: ChildProcess

    init(targetPort: Int, directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        authorityPath = "\(directory)/ca.pem"
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: "\(directory)/server.ext", atomically: true, encoding: .utf8)
        for command in [
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Streaming Test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", "\(directory)/ca.key", "-out", authorityPath],
            ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "\(directory)/server.key", "-out", "\(directory)/server.csr"],
            ["openssl", "x509", "-req", "-in", "\(directory)/server.csr", "-CA", authorityPath, "-CAkey", "\(directory)/ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "\(directory)/server.ext", "-out", "\(directory)/server.pem"],
        ] {
            let result = try Subprocess.run(command)
            guard result.status == 0 else { throw FixtureError.failed("\(command[0..<2].joined(separator: " ")): \(result.standardError)") }
        }
        port = try freeLoopbackPort()
        try """
            foreground = yes
            pid =
            output = \(directory)/stunnel.log
            [rtmps]
            accept = 127.0.0.1:\(port)
            connect = 127.0.0.1:\(targetPort)
            cert = \(directory)/server.pem
            key = \(directory)/server.key
            """.write(toFile: "\(directory)/stunnel.conf", atomically: true, encoding: .utf8)
        guard let stunnel = ["/usr/bin/stunnel4", "/usr/bin/stunnel"].first(where: FileManager.default.isExecutableFile)
        else { throw FixtureError.failed("stunnel is not installed; install Debian package 'stunnel4' (scripts/setup does)") }
        process = try ChildProcess([stunnel, "\(directory)/stunnel.conf"])
        guard waitForListener(port: port) else { throw FixtureError.failed("stunnel did not listen") }
    }

    deinit {
        process.send(SIGTERM)
        if process.wait(timeout: 5) == nil {
            process.send(SIGKILL)
            process.wait()
        }
    }
}

/// record-display running on the bench, its stderr in a file the test can
/// read while it runs.
final class RecorderRun {
    let process: ChildProcess
    let logPath: String

    /// The record-display built with the tests.
    static let binary = Repository.product("record-display")

    init(_ bench: TestBench, _ arguments: [String], log: String) throws {
        logPath = log
        guard FileManager.default.createFile(atPath: log, contents: nil) else { throw FixtureError.failed("cannot create \(log)") }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        defer { try? handle.close() }
        process = try ChildProcess([Self.binary, "--display", bench.display, "--audio-device", bench.capturePCM] + arguments,
                                   standardError: .descriptor(handle.fileDescriptor))
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits up to `seconds` for a log line containing `text`; the time it showed, or nil.
    func waitForLog(_ text: String, seconds: Double) -> Date? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if log.contains(text) { return Date() }
            usleep(50_000)
        }
        return nil
    }

    /// Resident memory of the recorder now, in kB (VmRSS).
    var residentKilobytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
}

/// Draws moving coloured blocks at 30 Hz in a window on the bench's display,
/// for a scene whose bit rate is well above a slow uplink's.
final class MovingScene: @unchecked Sendable {
    private let thread: TestThread
    private let stopBox: StopBox

    init(display: String, width: Int, height: Int) {
        let box = StopBox()
        stopBox = box
        thread = TestThread {
            guard let window = try? TestWindow(displayName: display, x: 0, y: 0, width: width, height: height) else { return }
            var generator = SystemRandomNumberGenerator()
            while !box.isStopped {
                for _ in 0..<40 {
                    let color = UInt32.random(in: 0...0xFFFFFF, using: &generator)
                    window.fill(color, x: Int.random(in: 0..<width, using: &generator), y: Int.random(in: 0..<height, using: &generator),
                                width: 16 + Int.random(in: 0..<96, using: &generator), height: 16 + Int.random(in: 0..<96, using: &generator))
                }
                window.sync()
                usleep(33_000)
            }
        }
        thread.start()
    }

    func stop() {
        stopBox.stop()
        thread.join()
    }

    private final class StopBox: @unchecked Sendable {
        private let lock = NSLock()
        private var stopped = false
        var isStopped: Bool { lock.withLock { stopped } }
        func stop() { lock.withLock { stopped = true } }
    }
}
