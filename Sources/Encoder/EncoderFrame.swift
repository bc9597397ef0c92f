import CFFmpeg
import MediaCore
import MediaPackets

/// Owns the one `AVFrame` an encoder fills for every input, allocated with its
/// buffers at start and reused: `makeWritable()` before each fill copies only
/// if the codec still holds a reference (libx264 and AAC copy their input, so
/// in practice it never does).
final class EncoderFrame {
    let pointer: UnsafeMutablePointer<AVFrame>

    private init(configure: (UnsafeMutablePointer<AVFrame>) -> Void) throws {
        guard let frame = av_frame_alloc() else {
            throw AVError(code: AVError.outOfMemoryCode, operation: "av_frame_alloc")
        }
        pointer = frame
        configure(frame)
        let status = av_frame_get_buffer(frame, 0)
        guard status >= 0 else { throw AVError(code: status, operation: "av_frame_get_buffer") }
    }

    /// A yuv420p picture of `width`x`height`.
    convenience init(yuv420pWidth width: Int, height: Int) throws {
        try self.init { frame in
            frame.pointee.format = AV_PIX_FMT_YUV420P.rawValue
            frame.pointee.width = Int32(width)
            frame.pointee.height = Int32(height)
        }
    }

    /// `samples` samples of planar float with `context`'s rate and channel layout.
    convenience init(planarFloatSamples samples: Int, like context: UnsafePointer<AVCodecContext>) throws {
        var layoutStatus: Int32 = 0
        try self.init { frame in
            frame.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
            frame.pointee.nb_samples = Int32(samples)
            frame.pointee.sample_rate = context.pointee.sample_rate
            layoutStatus = withUnsafePointer(to: context.pointee.ch_layout) {
                av_channel_layout_copy(&frame.pointee.ch_layout, $0)
            }
        }
        guard layoutStatus >= 0 else { throw AVError(code: layoutStatus, operation: "av_channel_layout_copy") }
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }

    @inline(__always)
    func makeWritable() throws {
        let status = av_frame_make_writable(pointer)
        guard status >= 0 else { throw AVError(code: status, operation: "av_frame_make_writable") }
    }

    /// Plane `index`'s data (`data[index]`).
    @inline(__always)
    func plane(_ index: Int) -> UnsafeMutablePointer<UInt8> {
        withUnsafeBytes(of: pointer.pointee.data) { $0.load(fromByteOffset: index * MemoryLayout<UnsafeMutablePointer<UInt8>?>.stride,
                                                            as: UnsafeMutablePointer<UInt8>?.self)! }
    }

    /// Plane `index`'s bytes per row (`linesize[index]`).
    @inline(__always)
    func stride(_ index: Int) -> Int {
        withUnsafeBytes(of: pointer.pointee.linesize) { Int($0.load(fromByteOffset: index * 4, as: Int32.self)) }
    }
}
