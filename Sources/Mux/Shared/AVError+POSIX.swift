import MediaCore
import MediaPackets

extension AVError {
    /// A POSIX call's failure, as libav codes it (`AVERROR(errno)`).
    static func posix(_ number: Int32, operation: StaticString) -> AVError {
        AVError(code: -number, operation: operation)
    }
}
