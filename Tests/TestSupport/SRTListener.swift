public import Foundation

/// An SRT listener the test owns: `srt-live-transmit` from Debian's
/// `srt-tools` on a free UDP port of the loopback, optionally with a
/// passphrase, writing what it receives (MPEG-TS) to a file. It can be killed
/// and started again on the same port, each run into a new file.
public final class SRTListener {
    public let port: Int
    public let directory: String
    private let passphrase: String?
    private var process: ChildProcess?
    /// The files written, one per run, oldest first.
    public private(set) var files: [String] = []

    public init(directory: String, passphrase: String? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/srt-live-transmit") else {
            throw FixtureError.failed("srt-live-transmit not found: install Debian's srt-tools (scripts/setup does)")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.passphrase = passphrase
        port = try freeLoopbackUDPPort()
        try start()
    }

    deinit { stop(signal: SIGTERM) }

    /// `srt://127.0.0.1:PORT`.
    public var url: String { "srt://127.0.0.1:\(port)" }

    /// Starts a run writing to a new file; returns once the port is bound.
    public func start() throws {
        precondition(process == nil)
        let file = "\(directory)/received-\(files.count + 1).ts"
        files.append(file)
        let source = "srt://127.0.0.1:\(port)?mode=listener" + (passphrase.map { "&passphrase=\($0)" } ?? "")
        // srt-live-transmit writes the stream to its standard output (file://con).
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: {
            FileManager.default.createFile(atPath: file, contents: nil)
            return file
        }()))
        defer { try? output.close() }
        process = try ChildProcess(["srt-live-transmit", "-q", source, "file://con"], standardOutput: .descriptor(output.fileDescriptor))
        guard waitForUDPListener(port: port) else { throw FixtureError.failed("srt-live-transmit did not bind \(port)") }
    }

    /// Ends the run: SIGKILL is a crash (no goodbye to the caller), SIGTERM a stop.
    public func stop(signal: Int32 = SIGKILL) {
        guard let process else { return }
        process.send(signal)
        if process.wait(timeout: 5) == nil {
            process.send(SIGKILL)
            process.wait()
        }
        self.process = nil
    }
}

/// A free UDP port on the loopback interface (bound, read, released).
public func freeLoopbackUDPPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard descriptor >= 0 else { throw FixtureError.failed("socket: \(errno)") }
    defer { close(descriptor) }
    guard let port = bindToFreeLoopbackPort(descriptor) else { throw FixtureError.failed("bind: \(errno)") }
    return port
}

/// True once a UDP socket is bound to `port` (the kernel's table in
/// /proc/net/udp and udp6), tried for up to `seconds`.
public func waitForUDPListener(port: Int, seconds: Double = 5) -> Bool {
    let hex = ":" + String(format: "%04X", port) + " "
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        for table in ["/proc/net/udp", "/proc/net/udp6"] {
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            // The second column is the local address:port.
            if text.split(separator: "\n").dropFirst().contains(where: { line in
                line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.map { "\($0) ".hasSuffix(hex) } ?? false
            }) { return true }
        }
        usleep(20_000)
    }
    return false
}

/// A UDP port that receives and counts datagrams, to prove that no SRT
/// handshake was sent to it.
public final class DatagramTrap {
    public let port: Int
    private let descriptor: Int32

    public init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.descriptor = descriptor
        guard let port = bindToFreeLoopbackPort(descriptor) else { throw FixtureError.failed("bind: \(errno)") }
        _ = fcntl(descriptor, F_SETFL, O_NONBLOCK)
        self.port = port
    }

    deinit { close(descriptor) }

    /// Datagrams received so far.
    public func received() -> Int {
        var count = 0
        var buffer = [UInt8](repeating: 0, count: 2048)
        while buffer.withUnsafeMutableBytes({ recv(descriptor, $0.baseAddress, $0.count, 0) }) >= 0 { count += 1 }
        return count
    }
}
