public import MediaCore
public import CFFmpeg

#if canImport(Glibc)
import Glibc
#endif

/// What a muxer needs to declare one stream: the codec parameters (with the
/// codec's global header in `extradata`, which MP4 and FLV require) and the
/// time base the producer stamps its packets in.
///
/// Immutable once made and shared by every sink fed from the same encoder; it
/// owns its own copy of the `AVCodecParameters` and frees it once.
public final class StreamParameters: @unchecked Sendable {
    public let kind: StreamKind
    /// The time base of the packets' `pts`, `dts` and `duration`.
    public let timeBase: AVRational
    /// Frames per second for a constant-rate video stream; nil for audio.
    public let frameRate: AVRational?
    /// The codec parameters; read-only for users.
    public let codecParameters: UnsafePointer<AVCodecParameters>
    private let owned: UnsafeMutablePointer<AVCodecParameters>

    /// Copies the parameters of an opened encoder.
    public init(encoder context: UnsafePointer<AVCodecContext>, kind: StreamKind) throws {
        let parameters = try Self.allocate(operation: "avcodec_parameters_from_context") {
            avcodec_parameters_from_context($0, context)
        }
        self.kind = kind
        timeBase = context.pointee.time_base
        frameRate = kind == .video ? context.pointee.framerate : nil
        owned = parameters
        codecParameters = UnsafePointer(parameters)
    }

    /// Copies `parameters` (for instance a demuxed stream's, when remuxing).
    public init(copying parameters: UnsafePointer<AVCodecParameters>, kind: StreamKind,
                timeBase: AVRational, frameRate: AVRational?) throws {
        let copy = try Self.allocate(operation: "avcodec_parameters_copy") { avcodec_parameters_copy($0, parameters) }
        self.kind = kind
        self.timeBase = timeBase
        self.frameRate = frameRate
        owned = copy
        codecParameters = UnsafePointer(copy)
    }

    /// Builds the parameters of a stream whose encoder is not a libavcodec
    /// one (libx264 driven directly): `fill` sets the fields a codec
    /// context would have given, `extradata` is the global header (copied,
    /// with libavcodec's zeroed padding after it).
    public init(kind: StreamKind, timeBase: AVRational, frameRate: AVRational?, extradata: [UInt8],
                fill: (UnsafeMutablePointer<AVCodecParameters>) -> Void) throws {
        let parameters = try Self.allocate(operation: "avcodec_parameters_alloc") { parameters in
            fill(parameters)
            guard !extradata.isEmpty else { return 0 }
            guard let bytes = av_mallocz(extradata.count + Int(AV_INPUT_BUFFER_PADDING_SIZE)) else {
                return AVError.outOfMemoryCode
            }
            extradata.withUnsafeBytes { bytes.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            parameters.pointee.extradata = bytes.assumingMemoryBound(to: UInt8.self)
            parameters.pointee.extradata_size = Int32(extradata.count)
            return 0
        }
        self.kind = kind
        self.timeBase = timeBase
        self.frameRate = frameRate
        owned = parameters
        codecParameters = UnsafePointer(parameters)
    }

    /// Whether an encoder's global header (SPS/PPS for H.264) is byte for
    /// byte this stream's: then its packets continue this stream.
    public func hasSameExtradata(_ extradata: [UInt8]) -> Bool {
        let size = Int(codecParameters.pointee.extradata_size)
        guard extradata.count == size else { return false }
        guard size > 0 else { return true }
        guard let mine = codecParameters.pointee.extradata else { return false }
        return extradata.withUnsafeBytes { memcmp(mine, $0.baseAddress!, size) == 0 }
    }

    /// Allocates parameters and fills them with `fill`; frees them if it fails.
    private static func allocate(operation: StaticString,
                                 fill: (UnsafeMutablePointer<AVCodecParameters>) -> Int32) throws
        -> UnsafeMutablePointer<AVCodecParameters> {
        guard let parameters = avcodec_parameters_alloc() else {
            throw AVError(code: AVError.outOfMemoryCode, operation: "avcodec_parameters_alloc")
        }
        let status = fill(parameters)
        guard status >= 0 else {
            var doomed: UnsafeMutablePointer<AVCodecParameters>? = parameters
            avcodec_parameters_free(&doomed)
            throw AVError(code: status, operation: operation)
        }
        return parameters
    }

    deinit {
        var parameters: UnsafeMutablePointer<AVCodecParameters>? = owned
        avcodec_parameters_free(&parameters)
    }
}
