import MediaCore
import CFFmpeg

/// An error code from libav*, with the call that returned it. The readable
/// message is made only when someone prints it, so `EAGAIN` in a send/receive
/// loop costs nothing.
public struct AVError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The negative libav error code (`AVERROR(e)` or an `AVERROR_*` tag).
    public let code: Int32
    /// The C function that failed.
    public let operation: StaticString

    public init(code: Int32, operation: StaticString) {
        self.code = code
        self.operation = operation
    }

    /// `AVERROR(EAGAIN)`: output must be drained before more input is accepted,
    /// or more input is needed before output appears.
    public static var tryAgainCode: Int32 { CFFMPEG_AVERROR_EAGAIN }
    /// `AVERROR_EOF`: the codec or stream has been drained.
    public static var endOfFileCode: Int32 { CFFMPEG_AVERROR_EOF }
    /// `AVERROR_EXIT`: a blocking I/O call was ended by its interrupt callback.
    public static var interruptedCode: Int32 { CFFMPEG_AVERROR_EXIT }
    /// `AVERROR(EIO)`.
    public static var ioErrorCode: Int32 { cffmpeg_averror(EIO) }
    /// `AVERROR(ENOMEM)`.
    public static var outOfMemoryCode: Int32 { cffmpeg_averror(ENOMEM) }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 256)
        av_strerror(code, &buffer, buffer.count)
        let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(operation): \(message) (\(code))"
    }

    public static func == (lhs: AVError, rhs: AVError) -> Bool {
        lhs.code == rhs.code && lhs.operation.utf8Start == rhs.operation.utf8Start
    }
}
