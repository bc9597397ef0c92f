#if canImport(Glibc)
import Glibc
#endif
import CFFmpeg
import CSRT
import MediaCore
import MediaPackets

/// The one owner of an SRT socket in caller mode: libsrt's start-up
/// reference, the socket and the epoll set it waits on, all released once.
///
/// Non-blocking (`SRTO_SNDSYN`/`RCVSYN` 0): every wait is an epoll wait of
/// at most 100 ms, after which the sink's `IOInterrupt` is checked, as
/// libavformat does for its protocols. A failed connection tells why
/// (`srt_getrejectreason`, `SRTRejectReason`): the reason libavformat's
/// `srt` protocol drops (it reports every failed connection as `EIO` and
/// closes the socket before anyone can ask).
///
/// Used by the sink's thread only.
final class SRTSocket {
    private let socket: SRTSOCKET
    private let poll: Int32
    private let interrupt: IOInterrupt
    /// Milliseconds of one wait before the interrupt is checked again.
    private static let waitSlice: Int64 = 100

    /// A socket with `options`, `streamID` and `connectTimeout` seconds for
    /// the handshake (`SRTO_CONNTIMEO`); not connected yet.
    init(options: SRTOptions, streamID: String?, connectTimeout: Double, interrupt: IOInterrupt) throws {
        SRTLog.install()
        guard srt_startup() >= 0 else { throw AVError(code: AVError.ioErrorCode, operation: "srt_startup") }
        let socket = srt_create_socket()
        guard socket != SRT_INVALID_SOCK else {
            srt_cleanup()
            throw AVError(code: AVError.ioErrorCode, operation: "srt_create_socket")
        }
        let poll = srt_epoll_create()
        guard poll >= 0 else {
            srt_close(socket)
            srt_cleanup()
            throw AVError(code: AVError.ioErrorCode, operation: "srt_epoll_create")
        }
        self.socket = socket
        self.poll = poll
        self.interrupt = interrupt
        try set(SRTO_TRANSTYPE, Int32(SRTT_LIVE.rawValue))
        try set(SRTO_SENDER, 1)
        try set(SRTO_SNDSYN, 0)
        try set(SRTO_RCVSYN, 0)
        try set(SRTO_PAYLOADSIZE, Self.payloadSize)
        try set(SRTO_CONNTIMEO, Int32(max(1, min(connectTimeout, 3600)) * 1000))
        if let latency = options.latency {
            try set(SRTO_LATENCY, Int32(latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000))
        }
        if let passphrase = options.passphrase {
            try set(SRTO_PASSPHRASE, bytes: passphrase.value)
        }
        if let streamID {
            try set(SRTO_STREAMID, bytes: Array(streamID.utf8))
        }
        var modes = Int32(SRT_EPOLL_OUT.rawValue | SRT_EPOLL_ERR.rawValue)
        guard srt_epoll_add_usock(poll, socket, &modes) == 0 else {
            throw AVError(code: AVError.ioErrorCode, operation: "srt_epoll_add_usock")
        }
    }

    deinit {
        srt_epoll_release(poll)
        srt_close(socket)
        srt_cleanup()
    }

    /// MPEG-TS in SRT's live payload: seven 188-byte packets.
    static let payloadSize: Int32 = 1316

    private func set(_ option: SRT_SOCKOPT, _ value: Int32) throws {
        var value = value
        guard srt_setsockopt(socket, 0, option, &value, Int32(MemoryLayout<Int32>.size)) == 0 else {
            throw AVError(code: AVError.ioErrorCode, operation: "srt_setsockopt")
        }
    }

    private func set(_ option: SRT_SOCKOPT, bytes: [UInt8]) throws {
        let status = bytes.withUnsafeBytes { srt_setsockopt(socket, 0, option, $0.baseAddress, Int32($0.count)) }
        guard status == 0 else { throw AVError(code: AVError.ioErrorCode, operation: "srt_setsockopt") }
    }

    /// Resolves `host` (a name, or an IP address, IPv6 in brackets) and
    /// connects to `port`. Throws `StreamFailure.rejected` or `.timedOut`
    /// for a handshake that failed, an `AVError` for the rest (the interrupt
    /// fired: `AVERROR_EXIT`).
    func connect(host: String, port: Int, connectTimeout: Double) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard getaddrinfo(name, String(port), &hints, &found) == 0, let address = found else {
            throw AVError.posix(EHOSTUNREACH, operation: "getaddrinfo")
        }
        defer { freeaddrinfo(found) }
        guard srt_connect(socket, address.pointee.ai_addr, Int32(address.pointee.ai_addrlen)) != SRT_ERROR else {
            throw AVError.posix(ECONNREFUSED, operation: "srt_connect")
        }
        while true {
            if interrupt.hasFired { throw AVError(code: AVError.interruptedCode, operation: "srt_connect") }
            waitWritable()
            switch srt_getsockstate(socket) {
            case SRTS_CONNECTED:
                return
            case SRTS_BROKEN, SRTS_CLOSING, SRTS_CLOSED, SRTS_NONEXIST:
                let reason = SRTRejectReason(code: srt_getrejectreason(socket))
                if reason.code == Int32(SRT_REJ_TIMEOUT.rawValue) { throw StreamFailure.timedOut(after: .seconds(connectTimeout)) }
                throw StreamFailure.rejected(reason)
            default:
                continue
            }
        }
    }

    /// Sends one message (at most `payloadSize` bytes): the count, or a
    /// negative libav code (`AVERROR_EXIT` when the interrupt fired while
    /// SRT's send buffer was full, `ECONNRESET` when the connection is gone).
    func send(_ bytes: UnsafePointer<UInt8>, count: Int) -> Int32 {
        while true {
            let sent = bytes.withMemoryRebound(to: CChar.self, capacity: count) { srt_sendmsg2(socket, $0, Int32(count), nil) }
            if sent >= 0 { return Int32(count) }
            guard srt_getlasterror(nil) == SRT_EASYNCSND.rawValue else {
                srt_clearlasterror()
                return -ECONNRESET
            }
            srt_clearlasterror()
            if interrupt.hasFired { return AVError.interruptedCode }
            waitWritable()
        }
    }

    /// Waits until SRT has sent all it holds (or the interrupt fires): live
    /// mode closes without lingering, so what is still in its buffer at
    /// close would be lost.
    func drain() {
        var blocks = 0, bytes = 0
        while !interrupt.hasFired {
            guard srt_getsndbuffer(socket, &blocks, &bytes) == 0, bytes > 0 else { return }
            guard srt_getsockstate(socket) == SRTS_CONNECTED else { return }
            usleep(10_000)
        }
    }

    /// One wait slice for the socket to become writable (or fail).
    private func waitWritable() {
        var ready = SRTSOCKET(), readyCount: Int32 = 1
        if srt_epoll_wait(poll, nil, nil, &ready, &readyCount, Self.waitSlice, nil, nil, nil, nil) < 0 {
            srt_clearlasterror()
        }
    }
}
