import Foundation

/// A free TCP port on the loopback interface (bound, read, released).
public func freeLoopbackPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw FixtureError.failed("socket: \(errno)") }
    defer { close(descriptor) }
    guard let port = bindToFreeLoopbackPort(descriptor) else { throw FixtureError.failed("bind: \(errno)") }
    return port
}

/// Binds `descriptor` to a port the kernel picks on 127.0.0.1; that port, or
/// nil if binding failed.
public func bindToFreeLoopbackPort(_ descriptor: Int32) -> Int? {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
        }
    }
    return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
}

/// True once something accepts TCP connections on `port` (tried for up to `seconds`).
public func waitForListener(port: Int, seconds: Double = 5) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        close(descriptor)
        if connected { return true }
        usleep(50_000)
    }
    return false
}

public enum FixtureError: Error, CustomStringConvertible {
    case failed(String)
    public var description: String {
        switch self { case let .failed(message): return message }
    }
}
