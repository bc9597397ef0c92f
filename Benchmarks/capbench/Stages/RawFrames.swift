import Encoder
import Foundation
import HostProcesses

/// Raw yuv420p frames in a file, mapped into memory: the same input for our
/// encoder (copied into its input frame, as ffmpeg's rawvideo demuxer copies
/// each frame from the file) and for the peer `ffmpeg` (read from the file).
final class RawFrames {
    let path: String
    let size: FrameSize
    let count: Int
    private let frameBytes: Int
    private let mapping: UnsafeMutableRawPointer
    private let mappedBytes: Int

    /// Writes `count` frames of ffmpeg's moving `testsrc2` pattern (the scene
    /// `scripts/demo` records) as raw yuv420p.
    static func writePattern(size: FrameSize, count: Int, to path: String) throws {
        let child = try ChildProcess(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
                                    "-i", "testsrc2=size=\(size):rate=30", "-frames:v", "\(count)",
                                    "-pix_fmt", "yuv420p", "-f", "rawvideo", path], standardError: .file(path + ".err"))
        guard child.wait().status == 0 else { throw BenchFailure("ffmpeg could not write the test pattern (see \(path).err)") }
    }

    init(path: String, size: FrameSize) throws {
        self.path = path
        self.size = size
        frameBytes = size.width * size.height * 3 / 2
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BenchFailure("cannot open \(path)") }
        defer { close(fd) }
        var status = stat()
        fstat(fd, &status)
        mappedBytes = Int(status.st_size)
        count = mappedBytes / frameBytes
        guard count > 0, let mapping = mmap(nil, mappedBytes, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0),
              mapping != MAP_FAILED else {
            throw BenchFailure("cannot map \(path) (\(mappedBytes) bytes)")
        }
        self.mapping = mapping
    }

    deinit { munmap(mapping, mappedBytes) }

    /// Copies frame `index` (looping over the file) into the encoder's planes.
    func copy(frame index: Int, into planes: I420Planes) {
        let frame = UnsafeRawPointer(mapping) + (index % count) * frameBytes
        let width = size.width, height = size.height
        let chromaWidth = width / 2, chromaHeight = height / 2
        for row in 0..<height {
            (planes.y + row * planes.strideY).update(from: (frame + row * width).assumingMemoryBound(to: UInt8.self),
                                                     count: width)
        }
        let u = frame + width * height, v = u + chromaWidth * chromaHeight
        for row in 0..<chromaHeight {
            (planes.u + row * planes.strideU).update(from: (u + row * chromaWidth).assumingMemoryBound(to: UInt8.self),
                                                     count: chromaWidth)
            (planes.v + row * planes.strideV).update(from: (v + row * chromaWidth).assumingMemoryBound(to: UInt8.self),
                                                     count: chromaWidth)
        }
    }
}
