import CFFmpeg
import MediaCore
import MediaPackets

/// One libavformat output: owns its `AVFormatContext` (and the `AVIOContext`
/// it opens), declares the streams from `StreamParameters`, interleaves the
/// packets by decoding time and writes them rescaled to the muxer's time bases.
///
/// The stream setup is the part every sink shares: the MP4 file sink, the
/// finalizing remux and FLV over RTMP differ only in the format name, the
/// URL, the muxer and protocol options and whether packets still need
/// interleaving.
final class Muxer {
    private let context: UnsafeMutablePointer<AVFormatContext>
    let url: String
    /// Flush the `AVIOContext` after every packet: with fragmented MP4 the
    /// muxer emits bytes only when it cuts a fragment, so this pushes each
    /// fragment to the kernel as soon as it exists and costs nothing otherwise.
    private let flushEachPacket: Bool
    /// Start each stream at timestamp 0 by its own offset (see `init`).
    private let zeroBasesStreams: Bool
    /// The offsets added so far, in each stream's source time base (nil until
    /// the stream's first packet).
    private(set) var videoOffset: Int64?
    private(set) var audioOffset: Int64?
    /// Nil when the packets arrive interleaved already (from `PacketFanOut`).
    private let interleaver: PacketInterleaver?
    private let videoIndex: Int32
    private let audioIndex: Int32
    let videoSourceTimeBase: AVRational
    let audioSourceTimeBase: AVRational
    /// Stream time bases as the muxer fixed them in `avformat_write_header`.
    private var videoTimeBase = AVRational(num: 1, den: 1)
    private var audioTimeBase = AVRational(num: 1, den: 1)
    /// True once the output file or connection exists (so a failed start knows
    /// whether there is something to remove).
    private(set) var openedOutput = false
    private(set) var isFinished = false

    /// Declares `streams` (at most one of each kind) for format `formatName`
    /// writing to `url`. Nothing is opened yet.
    ///
    /// `zeroBasesStreams` shifts each stream so its first DTS is 0, for
    /// outputs without edit lists (fragmented MP4 with an empty moov). There
    /// a stream cannot start before 0 (AAC's priming has pts -1024, B-frames
    /// give negative DTS) nor after it: libavformat would shift every stream
    /// by the earliest and then stretch the first sample of each other stream
    /// back to 0, which breaks the constant frame rate. The offsets are kept
    /// (`videoOffset`, `audioOffset`) so a remux can restore the exact times.
    /// `interleaves: false` writes packets in the order given: for a caller
    /// that hands them over in decoding order already.
    init(formatName: String, url: String, streams: [StreamParameters], flushEachPacket: Bool,
         zeroBasesStreams: Bool = false, interleaves: Bool = true) throws {
        var allocated: UnsafeMutablePointer<AVFormatContext>?
        let status = avformat_alloc_output_context2(&allocated, nil, formatName, url)
        guard status >= 0, let allocated else {
            throw AVError(code: status < 0 ? status : AVError.outOfMemoryCode, operation: "avformat_alloc_output_context2")
        }
        context = allocated
        self.url = url
        self.flushEachPacket = flushEachPacket
        self.zeroBasesStreams = zeroBasesStreams
        // Set before anything can throw, so deinit sees a complete object.
        let video = streams.first { $0.kind == .video }
        let audio = streams.first { $0.kind == .audio }
        precondition(streams.count == (video == nil ? 0 : 1) + (audio == nil ? 0 : 1),
                     "an output takes at most one video and one audio stream")
        videoSourceTimeBase = video?.timeBase ?? AVRational(num: 1, den: 1)
        audioSourceTimeBase = audio?.timeBase ?? AVRational(num: 1, den: 1)
        interleaver = interleaves ? PacketInterleaver(videoTimeBase: video?.timeBase, audioTimeBase: audio?.timeBase) : nil
        var nextIndex: Int32 = 0
        videoIndex = video == nil ? -1 : nextIndex
        if video != nil { nextIndex += 1 }
        audioIndex = audio == nil ? -1 : nextIndex
        // libavformat writes all packets itself when told to; we flush explicitly.
        context.pointee.flush_packets = 0
        for parameters in [video, audio].compactMap({ $0 }) {
            try addStream(parameters)
        }
    }

    deinit {
        if openedOutput { avio_closep(&context.pointee.pb) }
        avformat_free_context(context)
    }

    private func addStream(_ parameters: StreamParameters) throws {
        guard let stream = avformat_new_stream(context, nil) else {
            throw AVError(code: AVError.outOfMemoryCode, operation: "avformat_new_stream")
        }
        let status = avcodec_parameters_copy(stream.pointee.codecpar, parameters.codecParameters)
        guard status >= 0 else { throw AVError(code: status, operation: "avcodec_parameters_copy") }
        // Let the muxer pick its own tag for the codec (avc1, mp4a; FLV ids).
        stream.pointee.codecpar.pointee.codec_tag = 0
        // A hint: the muxer may choose a finer time base in write_header.
        stream.pointee.time_base = parameters.timeBase
        if let frameRate = parameters.frameRate {
            stream.pointee.avg_frame_rate = frameRate
            stream.pointee.r_frame_rate = frameRate
        }
    }

    /// Opens the output and writes the header with muxer `options`
    /// (`movflags`...). An option the muxer does not know is an error.
    ///
    /// `ioOptions` go to `avio_open2`, for the protocols (`protocol_whitelist`,
    /// `tls_verify`...); options no protocol took are ignored, since which
    /// protocols run depends on the URL. `interrupt` lets another thread end
    /// a blocking connect or write (see `IOInterrupt`). `output`: write
    /// through this context instead of opening the URL; its owner frees it
    /// (`MP4FragmentOutput`).
    func open(options: KeyValuePairs<String, String>, ioOptions: [(key: String, value: String)] = [],
              interrupt: AVIOInterruptCB? = nil, output: UnsafeMutablePointer<AVIOContext>? = nil) throws {
        if let interrupt { context.pointee.interrupt_callback = interrupt }
        if let output {
            context.pointee.pb = output
        } else if context.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 {
            var protocolOptions: OpaquePointer?
            defer { av_dict_free(&protocolOptions) }
            for (key, value) in ioOptions {
                let status = av_dict_set(&protocolOptions, key, value, 0)
                guard status >= 0 else { throw AVError(code: status, operation: "av_dict_set") }
            }
            let status: Int32
            if var callback = interrupt {
                status = avio_open2(&context.pointee.pb, url, AVIO_FLAG_WRITE, &callback, &protocolOptions)
            } else {
                status = avio_open2(&context.pointee.pb, url, AVIO_FLAG_WRITE, nil, &protocolOptions)
            }
            guard status >= 0 else { throw AVError(code: status, operation: "avio_open2") }
            openedOutput = true
        }
        var dictionary: OpaquePointer?
        defer { av_dict_free(&dictionary) }
        for (key, value) in options {
            let status = av_dict_set(&dictionary, key, value, 0)
            guard status >= 0 else { throw AVError(code: status, operation: "av_dict_set") }
        }
        let status = avformat_write_header(context, &dictionary)
        guard status >= 0 else { throw AVError(code: status, operation: "avformat_write_header") }
        if let unused = av_dict_get(dictionary, "", nil, AV_DICT_IGNORE_SUFFIX) {
            throw InvalidSetting(.muxerOption, value: String(cString: unused.pointee.key),
                                 reason: "not known to the \(String(cString: context.pointee.oformat.pointee.name)) muxer")
        }
        if videoIndex >= 0 { videoTimeBase = context.pointee.streams[Int(videoIndex)]!.pointee.time_base }
        if audioIndex >= 0 { audioTimeBase = context.pointee.streams[Int(audioIndex)]!.pointee.time_base }
        // The header (for fragmented MP4: ftyp and the empty moov) reaches the file now.
        if let pb = context.pointee.pb { avio_flush(pb) }
    }

    /// Queues `packet` and writes every packet that is now due, in decoding order.
    @inline(__always)
    func write(_ packet: consuming Packet) throws {
        precondition(!isFinished, "the output is finished")
        guard let interleaver else {
            try writeNow(packet)
            return
        }
        try interleaver.add(packet) { try writeNow($0) }
    }

    /// Makes a fragmenting muxer (MP4 with `frag_*` flags) end its fragment
    /// now and write it out: `av_write_frame` with no packet, which muxers
    /// with `AVFMT_ALLOW_FLUSH` read as "flush", then an AVIO flush. An HLS
    /// output calls it before it starts a new segment file.
    func flushFragment() throws {
        precondition(!isFinished, "the output is finished")
        try interleaver?.drain { try writeNow($0) }
        let status = av_write_frame(context, nil)
        guard status >= 0 else { throw AVError(code: status, operation: "av_write_frame (flush)") }
        if let pb = context.pointee.pb {
            avio_flush(pb)
            guard pb.pointee.error >= 0 else { throw AVError(code: pb.pointee.error, operation: "avio_flush") }
        }
    }

    /// Sets a container-level metadata entry (`creation_time`...), before `open`.
    func setMetadata(_ key: String, _ value: String) throws {
        let status = av_dict_set(&context.pointee.metadata, key, value, 0)
        guard status >= 0 else { throw AVError(code: status, operation: "av_dict_set") }
    }

    /// Writes the packets still queued and the trailer, and closes the output.
    func finish() throws {
        precondition(!isFinished, "the output is finished")
        isFinished = true
        try interleaver?.drain { try writeNow($0) }
        let status = av_write_trailer(context)
        guard status >= 0 else { throw AVError(code: status, operation: "av_write_trailer") }
        if openedOutput {
            openedOutput = false
            let closed = avio_closep(&context.pointee.pb)
            guard closed >= 0 else { throw AVError(code: closed, operation: "avio_closep") }
        }
    }

    /// The offsets `zeroBasesStreams` added, with the time base each is in.
    var appliedOffsets: [(kind: StreamKind, ticks: Int64, timeBase: AVRational)] {
        var offsets: [(kind: StreamKind, ticks: Int64, timeBase: AVRational)] = []
        if let videoOffset { offsets.append((.video, videoOffset, videoSourceTimeBase)) }
        if let audioOffset { offsets.append((.audio, audioOffset, audioSourceTimeBase)) }
        return offsets
    }

    /// Bytes written to the output so far.
    var bytesWritten: Int64 {
        guard let pb = context.pointee.pb else { return 0 }
        return avio_tell(pb)
    }

    @inline(__always)
    private func writeNow(_ packet: consuming Packet) throws {
        let raw = packet.pointer
        if zeroBasesStreams {
            let offset: Int64
            if packet.kind == .video {
                offset = videoOffset ?? -packet.decodingTimestamp
                videoOffset = offset
            } else {
                offset = audioOffset ?? -packet.decodingTimestamp
                audioOffset = offset
            }
            if raw.pointee.pts != CFFMPEG_AV_NOPTS_VALUE { raw.pointee.pts += offset }
            if raw.pointee.dts != CFFMPEG_AV_NOPTS_VALUE { raw.pointee.dts += offset }
        }
        if packet.kind == .video {
            raw.pointee.stream_index = videoIndex
            av_packet_rescale_ts(raw, videoSourceTimeBase, videoTimeBase)
        } else {
            raw.pointee.stream_index = audioIndex
            av_packet_rescale_ts(raw, audioSourceTimeBase, audioTimeBase)
        }
        raw.pointee.pos = -1
        let status = av_write_frame(context, raw)
        guard status >= 0 else { throw AVError(code: status, operation: "av_write_frame") }
        if flushEachPacket, let pb = context.pointee.pb {
            avio_flush(pb)
            guard pb.pointee.error >= 0 else { throw AVError(code: pb.pointee.error, operation: "avio_flush") }
        }
    }
}
