import CX11
import MediaCore

#if canImport(Glibc)
import Glibc
#endif

/// The pooled frame buffers of one capture and the XImage over each: owner of
/// the shared-memory segments (MIT-SHM) or plain buffers (`XGetImage` path).
///
/// A `BufferPool` adopts the buffers and keeps this object alive until the last
/// frame is back, so segments are detached only when no frame can still point
/// into them.
final class ImageSlots: @unchecked Sendable {
    let connection: DisplayConnection
    let method: GrabMethod
    let width: Int
    let height: Int
    let bytesPerRow: Int
    let byteCount: Int
    /// One image per slot; index = the pooled buffer's index.
    private(set) var images: [UnsafeMutablePointer<XImage>] = []
    /// Segment records at stable addresses: each XImage's `obdata` points at its own.
    private var segments: [UnsafeMutablePointer<XShmSegmentInfo>] = []
    private var attached = 0
    private var plainBuffers: [UnsafeMutableRawPointer] = []

    /// How a pool gives an idle slot's pages back: SysV segments, which the
    /// X server maps too, are freed for both (`BufferPool.trim`).
    var pageRelease: BufferPool.PageRelease { method == .sharedMemory ? .remove : .dontNeed }

    /// Start of each slot's pixels, in slot order.
    var buffers: [UnsafeMutableRawPointer] {
        images.map { UnsafeMutableRawPointer($0.pointee.data!) }
    }

    init(connection: DisplayConnection, method: GrabMethod, width: Int, height: Int, count: Int) throws(XError) {
        precondition(method != .automatic)
        self.connection = connection
        self.method = method
        self.width = width
        self.height = height
        // Rows of even widths need no padding at 16 bits a pixel either
        // (scanline pad 32): regions are even.
        bytesPerRow = width * connection.pixelFormat.bytesPerPixel
        byteCount = bytesPerRow * height
        switch method {
        case .sharedMemory: try makeSharedMemoryImages(count: count)
        case .getImage: makePlainImages(count: count)
        case .automatic: break
        }
    }

    deinit {
        // The capture is closing: its calls wait for no slow server.
        connection.hurry()
        connection.arm()
        defer { connection.disarm() }
        let broken = connection.broken.load(ordering: .acquiring)
        for (index, image) in images.enumerated() {
            if method == .sharedMemory && index < attached && !broken {
                XShmDetach(connection.display, segments[index])
            }
            // XDestroyImage would free `data` too; the memory is ours to release.
            image.pointee.data = nil
            _ = cx11_destroy_image(image)
        }
        if method == .sharedMemory {
            if !broken { XSync(connection.display, 0) }
            for segment in segments {
                if segment.pointee.shmaddr != nil { shmdt(segment.pointee.shmaddr) }
                segment.deallocate()
            }
        }
        for buffer in plainBuffers { buffer.deallocate() }
    }

    private func makeSharedMemoryImages(count: Int) throws(XError) {
        let display = connection.display
        for _ in 0..<count {
            let info = UnsafeMutablePointer<XShmSegmentInfo>.allocate(capacity: 1)
            info.initialize(to: XShmSegmentInfo())
            segments.append(info)
            guard let image = XShmCreateImage(display, connection.visual, UInt32(connection.depth), ZPixmap, nil,
                                              info, UInt32(width), UInt32(height)) else {
                throw XError(.sharedMemoryUnavailable, display: connection.name)
            }
            precondition(Int(image.pointee.bytes_per_line) == bytesPerRow, "ZPixmap rows of even widths are unpadded")
            images.append(image)
            info.pointee.shmid = shmget(CX11_IPC_PRIVATE, byteCount, IPC_CREAT | 0o600)
            if info.pointee.shmid < 0 {
                throw XError(.sharedMemorySystemCall(operation: "shmget", code: errno), display: connection.name)
            }
            let address = shmat(info.pointee.shmid, nil, 0)
            if address == UnsafeMutableRawPointer(bitPattern: -1) {
                let code = errno
                shmctl(info.pointee.shmid, IPC_RMID, nil)
                throw XError(.sharedMemorySystemCall(operation: "shmat", code: code), display: connection.name)
            }
            info.pointee.shmaddr = address?.assumingMemoryBound(to: CChar.self)
            info.pointee.readOnly = 0
            image.pointee.data = info.pointee.shmaddr
            let ok = XShmAttach(display, info)
            let error = connection.syncAndTakeError()
            // Marked for removal now that both sides are attached: the kernel frees
            // the segment when the last one detaches, even if this process is killed.
            shmctl(info.pointee.shmid, IPC_RMID, nil)
            guard ok != 0, error == 0 else {
                throw XError(.sharedMemoryUnavailable, display: connection.name)
            }
            attached += 1
        }
    }

    private func makePlainImages(count: Int) {
        for _ in 0..<count {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
            plainBuffers.append(buffer)
            let image = XCreateImage(connection.display, connection.visual, UInt32(connection.depth), ZPixmap, 0,
                                     buffer.assumingMemoryBound(to: CChar.self), UInt32(width), UInt32(height),
                                     32, Int32(bytesPerRow))!
            precondition(Int(image.pointee.bits_per_pixel) == connection.pixelFormat.bytesPerPixel * 8)
            images.append(image)
        }
    }
}
