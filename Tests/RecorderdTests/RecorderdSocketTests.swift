import Foundation
import Testing
import TestSupport

/// The daemon's sockets under abuse: every refused request's connection is
/// closed by the daemon, slow request heads and idle keep-alive connections
/// are closed after `--idle-timeout`, and the daemon's descriptors
/// (`/proc/PID/fd`) come back to their count after each kind of attack.
@Suite(.serialized, .tags(.bench)) struct RecorderdSocketTests {
    @Test func refusedSlowAndIdleConnectionsAreClosedAndDescriptorsComeBack() throws {
        let bench = try TestBench.current()
        let daemon = try Daemon(bench, arguments: ["--idle-timeout", "2"])
        let port = UInt16(daemon.address.split(separator: ":").last!)!
        let pid = daemon.process.pid
        func descriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }
        /// Waits (10 s at most) for the count to come back to `count`.
        func backTo(_ count: Int, after attack: String) {
            let deadline = Date().addingTimeInterval(10)
            while descriptors() > count, Date() < deadline { usleep(20_000) }
            #expect(descriptors() <= count, "\(attack): \(descriptors()) descriptors, \(count) before")
        }
        // One ordinary request first: what the daemon opens once is opened.
        let warm = try RawConnection(port: port)
        try warm.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(warm.readAnswer(seconds: 10).hasPrefix("HTTP/1.1 200"))
        warm.close()
        usleep(200_000)
        let before = descriptors()
        #expect(before > 0)

        // A 1 MiB URL: 400, and the daemon closes (the client keeps its end open).
        var held: [RawConnection] = []
        for _ in 0..<30 {
            let connection = try RawConnection(port: port)
            try? connection.send("GET /health?" + String(repeating: "a", count: 1 << 20) + " HTTP/1.1\r\nHost: t\r\n\r\n")
            // The rest of the URL the daemon never reads may reset the
            // connection before its 400 arrives.
            let answer = connection.readAnswer(seconds: 10)
            #expect(answer.isEmpty || answer.hasPrefix("HTTP/1.1 400"), "\(answer.prefix(80))")
            #expect(connection.closedByPeer(seconds: 5), "a 400 for a long URL left the connection open")
            held.append(connection)
        }
        backTo(before, after: "30 long URLs")
        held.forEach { $0.close() }
        held = []

        // Slow request heads: a partial request line, then nothing.
        for _ in 0..<50 {
            let connection = try RawConnection(port: port)
            try connection.send("GET /health HT")
            held.append(connection)
        }
        for connection in held { #expect(connection.closedByPeer(seconds: 10), "a slow request head was not closed") }
        backTo(before, after: "50 slow heads")
        held.forEach { $0.close() }
        held = []

        // 413 on a large body: answered and closed without reading the rest.
        let large = try RawConnection(port: port)
        try large.send("POST /v1/recordings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n")
        try? large.send(String(repeating: " ", count: 256 << 10))
        let refused = large.readAnswer(seconds: 10)
        #expect(refused.hasPrefix("HTTP/1.1 413"), "\(refused.prefix(80))")
        #expect(refused.lowercased().contains("connection: close"), "\(refused)")
        #expect(large.closedByPeer(seconds: 5), "a 413 left the connection open")
        backTo(before, after: "413")
        large.close()

        // Idle keep-alive connections, after one answer each.
        for _ in 0..<20 {
            let connection = try RawConnection(port: port)
            try connection.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(connection.readAnswer(seconds: 10).hasPrefix("HTTP/1.1 200"))
            held.append(connection)
        }
        for connection in held { #expect(connection.closedByPeer(seconds: 10), "an idle keep-alive connection was not closed") }
        backTo(before, after: "20 idle keep-alive connections")
        held.forEach { $0.close() }
        #expect(daemon.stop() == 0)
    }
}

/// A plain TCP connection to the daemon on loopback, for requests no HTTP
/// client would send.
final class RawConnection {
    let descriptor: Int32

    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(descriptor)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    /// Sends all of `text`; throws when the peer closed (no SIGPIPE).
    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            sent += count
        }
    }

    /// What arrives until the end of the answer's head (and what came with
    /// it), or `seconds`.
    func readAnswer(seconds: Double) -> String {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, !String(decoding: received, as: UTF8.self).contains("\r\n\r\n") {
            guard let chunk = read(until: deadline), !chunk.isEmpty else { break }
            received += chunk
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// True once the peer has closed (end of stream or reset) within `seconds`.
    func closedByPeer(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard let chunk = read(until: deadline) else { return false }
            if chunk.isEmpty { return true }
        }
        return false
    }

    /// The next bytes; empty at the end of the stream or on an error; nil
    /// when nothing came by `deadline`.
    private func read(until deadline: Date) -> [UInt8]? {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
        guard poll(&entry, 1, milliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer.prefix(count)) : []
    }

    func close() { Glibc.close(descriptor) }
}
