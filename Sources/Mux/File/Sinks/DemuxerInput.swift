import CFFmpeg
import MediaCore
import MediaPackets

/// Owns an opened libavformat input (the fragmented recording, when it is
/// finalized) and closes it once.
final class DemuxerInput {
    let context: UnsafeMutablePointer<AVFormatContext>

    init(url: String) throws {
        var opened: UnsafeMutablePointer<AVFormatContext>?
        let status = avformat_open_input(&opened, url, nil, nil)
        guard status >= 0, let opened else {
            throw AVError(code: status < 0 ? status : AVError.outOfMemoryCode, operation: "avformat_open_input")
        }
        context = opened
        let found = avformat_find_stream_info(context, nil)
        guard found >= 0 else { throw AVError(code: found, operation: "avformat_find_stream_info") }
    }

    deinit {
        var opened: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&opened)
    }

    var streamCount: Int { Int(context.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> {
        context.pointee.streams[index]!
    }

    /// Reads the next packet into `packet`; false at the end of the input.
    func read(into packet: UnsafeMutablePointer<AVPacket>) throws -> Bool {
        let status = av_read_frame(context, packet)
        if status == AVError.endOfFileCode { return false }
        guard status >= 0 else { throw AVError(code: status, operation: "av_read_frame") }
        return true
    }
}
