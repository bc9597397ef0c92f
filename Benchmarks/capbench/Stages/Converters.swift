import CFFmpeg
import CYUV

/// The two BGRA -> I420 converters under test, with their buffers: a few
/// distinct source frames of a moving pattern (larger together than the
/// caches, as a stream of grabs is) and one I420 picture per converter, rows
/// padded to 64 bytes as the encoder's frames are.
final class Converters {
    let size: FrameSize
    private let frameCount = 4
    private let sourceStride: Int
    private let sources: UnsafeMutablePointer<UInt8>
    private let strideY: Int
    private let strideUV: Int
    private let oursPicture: UnsafeMutablePointer<UInt8>
    private let peerPicture: UnsafeMutablePointer<UInt8>
    private let scaler: OpaquePointer

    init(size: FrameSize) throws {
        self.size = size
        let width = size.width, height = size.height
        sourceStride = width * 4
        sources = .allocate(capacity: sourceStride * height * frameCount)
        strideY = (width + 63) & ~63
        strideUV = (width / 2 + 63) & ~63
        let pictureBytes = strideY * height + 2 * strideUV * height / 2
        oursPicture = .allocate(capacity: pictureBytes)
        peerPicture = .allocate(capacity: pictureBytes)
        oursPicture.initialize(repeating: 0, count: pictureBytes)
        peerPicture.initialize(repeating: 0, count: pictureBytes)
        // Default flags as the ffmpeg command line uses them for this conversion.
        guard let scaler = sws_getContext(Int32(width), Int32(height), AV_PIX_FMT_BGRA, Int32(width), Int32(height),
                                          AV_PIX_FMT_YUV420P, SWS_BICUBIC, nil, nil, nil) else {
            sources.deallocate(); oursPicture.deallocate(); peerPicture.deallocate()
            throw BenchFailure("sws_getContext refused \(size) BGRA->YUV420P")
        }
        self.scaler = scaler
        // Screen-like content: flat areas, gradients and sharp edges that move.
        for frame in 0..<frameCount {
            for y in 0..<height {
                let row = sources + frame * sourceStride * height + y * sourceStride
                for x in 0..<width {
                    let moved = x + frame * 24
                    let bar = (moved / 160) % 4
                    let pixel = row + 4 * x
                    pixel[0] = UInt8(truncatingIfNeeded: bar == 0 ? 255 : (x ^ y) & 0xff)
                    pixel[1] = UInt8(truncatingIfNeeded: bar == 1 ? 255 : (y * 255) / height)
                    pixel[2] = UInt8(truncatingIfNeeded: bar == 2 ? 255 : (moved * 255) / width)
                    pixel[3] = 255
                }
            }
        }
    }

    deinit {
        sws_freeContext(scaler)
        sources.deallocate()
        oursPicture.deallocate()
        peerPicture.deallocate()
    }

    private func source(_ frame: Int) -> UnsafeMutablePointer<UInt8> {
        sources + (frame % frameCount) * sourceStride * size.height
    }

    private func planes(_ picture: UnsafeMutablePointer<UInt8>)
        -> (y: UnsafeMutablePointer<UInt8>, u: UnsafeMutablePointer<UInt8>, v: UnsafeMutablePointer<UInt8>) {
        let u = picture + strideY * size.height
        return (picture, u, u + strideUV * size.height / 2)
    }

    /// libyuv, as `VideoEncoder.encode` converts a grab.
    @inline(never)
    func convertLibyuv(frame: Int) {
        let out = planes(oursPicture)
        let status = ARGBToI420(source(frame), Int32(sourceStride), out.y, Int32(strideY), out.u, Int32(strideUV),
                                out.v, Int32(strideUV), Int32(size.width), Int32(size.height))
        precondition(status == 0, "ARGBToI420 failed")
    }

    /// libswscale, as ffmpeg converts a grab before libx264.
    @inline(never)
    func convertSwscale(frame: Int) {
        let out = planes(peerPicture)
        let input: [UnsafePointer<UInt8>?] = [UnsafePointer(source(frame)), nil, nil, nil]
        let inputStrides: [Int32] = [Int32(sourceStride), 0, 0, 0]
        let output: [UnsafeMutablePointer<UInt8>?] = [out.y, out.u, out.v, nil]
        let outputStrides: [Int32] = [Int32(strideY), Int32(strideUV), Int32(strideUV), 0]
        let rows = sws_scale(scaler, input, inputStrides, 0, Int32(size.height), output, outputStrides)
        precondition(rows == Int32(size.height), "sws_scale returned \(rows)")
    }

    /// Mean absolute difference of the two converters' luma for frame 0,
    /// in 8-bit levels: both implement BT.601 limited range, so it should be
    /// a rounding difference, well under one level.
    func lumaDifference() -> Double {
        convertLibyuv(frame: 0)
        convertSwscale(frame: 0)
        var total = 0
        for y in 0..<size.height {
            for x in 0..<size.width {
                total += abs(Int(oursPicture[y * strideY + x]) - Int(peerPicture[y * strideY + x]))
            }
        }
        return Double(total) / Double(size.width * size.height)
    }
}
