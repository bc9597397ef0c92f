import CX11
import HostProcesses

#if canImport(Glibc)
import Glibc
#endif

/// A local Xvfb's screen, read in place: Xvfb started with `-shmem` keeps
/// each screen's framebuffer in a System V segment (an XWD file header,
/// then the pixels; xserver hw/vfb/InitOutput.c, which prints "screen N
/// shmid M"). Attached read-only, a damaged rectangle is read where the
/// server drew it: no request, no copy by the server.
///
/// Found from the connection alone: the peer of a local socket
/// (`SO_PEERCRED`) is the server's pid, its segments are listed in
/// `/proc/sysvipc/shm` (creator pid), and one is taken only if its header
/// describes this screen exactly (`:N.S` name, size, depth, masks, LSB
/// first) and it holds the whole picture. Anything else (a TCP or remote
/// display, Xorg, Xvfb without `-shmem`, another IPC namespace, a segment
/// we may not read) gives nil, and the grabber keeps `XShmGetImage`.
///
/// The one owner of the attachment: `deinit` detaches it. The server may
/// exit meanwhile; the segment (and so what is read) stays until then.
final class ServerFramebuffer {
    /// The screen's first pixel (row 0, column 0).
    let pixels: UnsafeRawPointer
    /// The screen's size in pixels as the segment holds it.
    let width: Int
    let height: Int
    /// Bytes from one row to the next (XWD `bytes_per_line`).
    let bytesPerRow: Int
    let bytesPerPixel: Int
    /// The server's process, as the socket's peer names it.
    let serverPid: Int32
    private let address: UnsafeMutableRawPointer

    private init(address: UnsafeMutableRawPointer, pixelOffset: Int, width: Int, height: Int, bytesPerRow: Int,
                 bytesPerPixel: Int, serverPid: Int32) {
        self.address = address
        pixels = UnsafeRawPointer(address + pixelOffset)
        self.width = width
        self.height = height
        self.bytesPerRow = bytesPerRow
        self.bytesPerPixel = bytesPerPixel
        self.serverPid = serverPid
    }

    deinit {
        shmdt(address)
    }

    /// The framebuffer of `connection`'s screen, or nil when it cannot be
    /// read in place (see the type). Reads `/proc` once; no X request.
    static func attach(_ connection: DisplayConnection) -> ServerFramebuffer? {
        let pid = peerPid(XConnectionNumber(connection.display))
        guard pid > 0 else { return nil }
        let screenSuffix = ":" + displayNumber(connection.name) + ".\(connection.screen)"
        var found: ServerFramebuffer?
        for segment in SharedMemorySegments.created(by: pid) {
            guard let candidate = attach(shmid: segment.shmid, size: segment.size, connection: connection, suffix: screenSuffix,
                                         pid: pid) else { continue }
            // Two segments that both say they are this screen: trust neither.
            if found != nil { return nil }
            found = candidate
        }
        return found
    }

    /// The pid of a local socket's peer, or -1 (not a Unix socket).
    private static func peerPid(_ fd: Int32) -> Int32 {
        // struct ucred: pid, uid, gid.
        var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        let status = withUnsafeMutablePointer(to: &credentials) {
            getsockopt(fd, SOL_SOCKET, SO_PEERCRED, $0, &length)
        }
        return status == 0 ? credentials.pid : -1
    }

    /// `N` of a display name `[host]:N[.S]` (`""` when there is none).
    private static func displayNumber(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":") else { return "" }
        let rest = name[name.index(after: colon)...]
        return String(rest.prefix { $0 != "." })
    }

    /// Attaches `shmid` read-only and keeps it if its XWD header is this screen's.
    private static func attach(shmid: Int32, size: Int, connection: DisplayConnection, suffix: String,
                               pid: Int32) -> ServerFramebuffer? {
        // XWDFileHeader: 25 big-endian CARD32, then the window name.
        let headerFields = 25
        guard size > headerFields * 4 else { return nil }
        guard let raw = shmat(shmid, nil, SHM_RDONLY), raw != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        var keep = false
        defer { if !keep { shmdt(raw) } }
        func field(_ index: Int) -> Int {
            Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
        }
        let headerSize = field(0), version = field(1), format = field(2), depth = field(3)
        let width = field(4), height = field(5), xOffset = field(6), byteOrder = field(7)
        let bitsPerPixel = field(11), bytesPerRow = field(12), visualClass = field(13)
        let red = field(14), green = field(15), blue = field(16), colors = field(19)
        let bytesPerPixel = connection.pixelFormat.bytesPerPixel
        // XWD_FILE_VERSION 7; ZPixmap; LSBFirst (0); XWDColor is 12 bytes.
        guard version == 7, format == Int(ZPixmap), xOffset == 0, byteOrder == Int(LSBFirst),
              headerSize > headerFields * 4, headerSize < size, colors < 1 << 16,
              depth == Int(connection.depth), bitsPerPixel == bytesPerPixel * 8,
              width == connection.screenWidth, height == connection.screenHeight,
              bytesPerRow >= width * bytesPerPixel, visualClass == Int(connection.visual.pointee.`class`),
              red == Int(connection.visual.pointee.red_mask), green == Int(connection.visual.pointee.green_mask),
              blue == Int(connection.visual.pointee.blue_mask)
        else { return nil }
        let pixelOffset = headerSize + colors * 12
        guard pixelOffset + bytesPerRow * height <= size else { return nil }
        // The name Xvfb writes: "Xvfb HOST:N.S".
        let nameBytes = UnsafeRawBufferPointer(start: raw + headerFields * 4, count: headerSize - headerFields * 4)
        let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
        guard name.hasPrefix("Xvfb "), name.hasSuffix(suffix) else { return nil }
        keep = true
        return ServerFramebuffer(address: raw, pixelOffset: pixelOffset, width: width, height: height,
                                 bytesPerRow: bytesPerRow, bytesPerPixel: bytesPerPixel, serverPid: pid)
    }
}
