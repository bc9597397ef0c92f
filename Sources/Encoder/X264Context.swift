import CFFmpeg
import CX264
import MediaCore
package import MediaPackets

/// Owns one libx264 encoder, driven directly rather than through
/// libavcodec's wrapper, so that each picture can carry x264's
/// per-macroblock hint (`mb_info`, `X264_MBINFO_CONSTANT`: this macroblock
/// is the same as in the previous picture), which FFmpeg 5.1 cannot pass
/// (6.1 added `AV_FRAME_DATA_VIDEO_HINT`).
///
/// The parameters are set as FFmpeg 5.1's `libavcodec/libx264.c`
/// (`X264_init`) sets them for the codec context `VideoEncoder` used to
/// open, in the same order, and packets are made as its `X264_frame` and
/// `encode_nals` make them (every NAL of a picture in one packet, x264's
/// version SEI at the head of the first): the stream is byte for byte the
/// one libavcodec gave (checked on 300 1080p frames, threads 1 and auto).
/// The global header (`extradata`) is the SPS and PPS in Annex B, as
/// libavcodec's.
///
/// Not thread-safe: the video encode thread alone uses it.
package final class X264Context {
    private let encoder: OpaquePointer
    /// SPS and PPS, Annex B with 4-byte start codes.
    package let extradata: [UInt8]
    /// Frames x264 may hold before handing out a picture (lookahead,
    /// B-frames, frame threads).
    let maximumDelayedFrames: Int
    /// What the codec parameters declare (`AVCodecParameters.video_delay`):
    /// 2 with B-pyramid, 1 with B-frames, else 0.
    let videoDelay: Int
    /// Average bitrate asked for (ABR), bits/s; 0 with CRF.
    let bitrate: Int64
    /// Whether pictures may carry macroblock hints.
    let takesMacroblockHints: Bool
    private let packetPool: PacketPool
    /// x264's version SEI, for the first packet (libavcodec's `x4->sei`).
    private var pendingSEI: [UInt8]
    private var picture = x264_picture_t()
    private var output = x264_picture_t()
    private(set) var isDrained = false

    /// Opens libx264 at `settings` with `threads` threads (0: x264's
    /// choice), `macroblockHints` enabling `mb_info`. Throws
    /// `InvalidSetting` for a preset, tune or profile x264 refuses and
    /// `AVError` when x264 cannot open.
    package init(settings: VideoEncoderSettings, threads: Int, macroblockHints: Bool, packetPool: PacketPool) throws {
        var param = x264_param_t()
        // X264_init: x264_param_default, then the preset and tune.
        x264_param_default(&param)
        guard x264_param_default_preset(&param, settings.preset.rawValue, settings.tune?.rawValue) >= 0 else {
            throw InvalidSetting(.preset, value: "\(settings.preset.rawValue)/\(settings.tune?.rawValue ?? "")",
                                 reason: "x264 refused it")
        }
        param.i_level_idc = Int32(settings.level.idc)
        // Into libav's log, at libav's level there (`LibavLog`: INFO), as
        // libavcodec routed them: the banner, warnings, the closing stats.
        cx264_route_log(&param)
        param.i_log_level = X264_LOG_INFO
        param.i_csp = X264_CSP_I420
        param.i_bitdepth = 8
        if let bitrate = settings.bitrate {
            param.rc.i_bitrate = Int32(bitrate / 1000)
            param.rc.i_rc_method = X264_RC_ABR
        }
        param.rc.i_vbv_buffer_size = Int32((settings.bufsize ?? 0) / 1000)
        param.rc.i_vbv_max_bitrate = Int32((settings.maxrate ?? 0) / 1000)
        param.rc.b_stat_write = 0
        if let crf = settings.crf {
            param.rc.i_rc_method = X264_RC_CRF
            param.rc.f_rf_constant = Float(crf)
        }
        param.i_keyint_max = Int32(settings.gop)
        // No `refs` given and a level set: the references the level's DPB
        // holds at this size, at most the preset's.
        let macroblocks = ((settings.width + 15) >> 4) * ((settings.height + 15) >> 4)
        var level: Int32 = 0
        while cx264_level(level).level_idc != 0 {
            let entry = cx264_level(level)
            if Int(entry.level_idc) == settings.level.idc && macroblocks > 0 {
                param.i_frame_reference = max(1, min(Int32(Int(entry.dpb) / macroblocks), param.i_frame_reference))
            }
            level += 1
        }
        // The keyframe rules and x264's own parameters, where libavcodec
        // applies `-keyint_min`, `-sc_threshold` and `-x264-params`.
        settings.x264.apply(to: &param)
        guard x264_param_apply_profile(&param, settings.profile.rawValue) >= 0 else {
            throw InvalidSetting(.profile, value: settings.profile.rawValue, reason: "x264 refused it")
        }
        param.i_width = Int32(settings.width)
        param.i_height = Int32(settings.height)
        param.vui.i_sar_width = 1
        param.vui.i_sar_height = 1
        param.i_timebase_num = 1
        param.i_timebase_den = UInt32(settings.fps)
        param.i_fps_num = UInt32(settings.fps)
        param.i_fps_den = 1
        param.analyse.b_psnr = 0
        param.i_threads = threads == 0 ? Int32(X264_THREADS_AUTO) : Int32(threads)
        param.b_interlaced = 0
        // libavcodec's default flags include closed GOPs (`+cgop`).
        param.b_open_gop = 0
        param.i_slice_count = 0
        // libyuv's ARGBToI420 uses BT.601 limited range. Say so in the VUI:
        // players assume BT.709 for HD sizes when nothing is said, and would
        // shift the colours. Screen content has BT.709 (sRGB) primaries.
        param.vui.b_fullrange = 0
        param.vui.i_colmatrix = 6 // SMPTE 170M
        param.vui.i_colorprim = 1 // BT.709
        param.vui.i_transfer = 1 // BT.709
        // MP4 and FLV carry SPS/PPS once in the stream header (avcC).
        param.b_repeat_headers = 0
        // Constant frame rate in, as the engine's timeline is: x264 then holds
        // no frame back to read the next one's timestamp (its variable-rate
        // input mode adds a frame of delay), so a picture comes out as its
        // frame goes in, and unchanged frames can be skipped pictures
        // (`SkipPictureSequencer`). Rate control counts 1/fps per frame either way.
        guard x264_param_parse(&param, "force-cfr", "1") == 0 else {
            throw AVError(code: cffmpeg_averror(EINVAL), operation: "x264_param_parse force-cfr")
        }
        param.analyse.b_mb_info = macroblockHints ? 1 : 0
        videoDelay = param.i_bframe > 0 ? (param.i_bframe_pyramid > 0 ? 2 : 1) : 0
        bitrate = Int64(param.rc.i_bitrate) * 1000
        takesMacroblockHints = macroblockHints
        let opened = cx264_encoder_open(&param)
        // x264 keeps its own copy; free what x264_param_parse allocated.
        x264_param_cleanup(&param)
        guard let encoder = opened else {
            throw AVError(code: cffmpeg_averror(EINVAL), operation: "x264_encoder_open")
        }
        self.encoder = encoder
        self.packetPool = packetPool
        maximumDelayedFrames = Int(x264_encoder_maximum_delayed_frames(encoder))

        var nals: UnsafeMutablePointer<x264_nal_t>?
        var count: Int32 = 0
        guard x264_encoder_headers(encoder, &nals, &count) >= 0, let nals else {
            x264_encoder_close(encoder)
            throw AVError(code: cffmpeg_averror(EINVAL), operation: "x264_encoder_headers")
        }
        var header: [UInt8] = []
        var sei: [UInt8] = []
        for index in 0..<Int(count) {
            let nal = nals[index]
            let bytes = UnsafeBufferPointer(start: nal.p_payload, count: Int(nal.i_payload))
            if nal.i_type == cx264_nal_sei { sei += bytes } else { header += bytes }
        }
        extradata = header
        pendingSEI = sei
        x264_picture_init(&picture)
        picture.img.i_csp = X264_CSP_I420
        picture.img.i_plane = 3
    }

    deinit {
        x264_encoder_close(encoder)
    }

    /// Encodes `planes` (I420 at the settings' size) as output frame `pts`,
    /// an IDR when `keyframe`, with `hints` (one `X264_MBINFO_*` byte per
    /// macroblock, raster order; nil: none), which must stay untouched
    /// until x264 has handed this picture out (`maximumDelayedFrames`
    /// frames later at most). x264 copies the planes before returning.
    /// Packets go to `emit`, in decoding order.
    @inline(__always)
    package func encode(_ planes: I420Planes, pts: Int64, keyframe: Bool, hints: UnsafeMutablePointer<UInt8>?,
                emit: (consuming Packet) -> Void) throws {
        precondition(!isDrained, "the encoder was flushed; it takes no more frames")
        picture.img.plane.0 = planes.y
        picture.img.plane.1 = planes.u
        picture.img.plane.2 = planes.v
        picture.img.i_stride.0 = Int32(planes.strideY)
        picture.img.i_stride.1 = Int32(planes.strideU)
        picture.img.i_stride.2 = Int32(planes.strideV)
        picture.i_pts = pts
        // libavcodec: AV_PICTURE_TYPE_I asks for X264_TYPE_KEYFRAME (an IDR
        // with closed GOPs), anything else for x264's choice.
        picture.i_type = keyframe ? X264_TYPE_KEYFRAME : X264_TYPE_AUTO
        picture.prop.mb_info = takesMacroblockHints ? hints : nil
        picture.prop.mb_info_free = nil
        try encodeOnce(&picture, emit: emit)
    }

    /// Passes on every picture x264 still holds. Takes no frames afterwards.
    package func drain(emit: (consuming Packet) -> Void) throws {
        guard !isDrained else { return }
        isDrained = true
        while x264_encoder_delayed_frames(encoder) > 0 {
            try encodeOnce(nil, emit: emit)
        }
    }

    @inline(__always)
    private func encodeOnce(_ input: UnsafeMutablePointer<x264_picture_t>?, emit: (consuming Packet) -> Void) throws {
        var nals: UnsafeMutablePointer<x264_nal_t>?
        var count: Int32 = 0
        let size = x264_encoder_encode(encoder, &nals, &count, input, &output)
        guard size >= 0 else { throw AVError(code: cffmpeg_averror(EINVAL), operation: "x264_encoder_encode") }
        guard size > 0, count > 0, let nals else { return }
        let packet = packetPool.acquire(kind: .video)
        let pointer = packet.pointer
        let status = av_new_packet(pointer, Int32(size) + Int32(pendingSEI.count))
        guard status >= 0 else { throw AVError(code: status, operation: "av_new_packet") }
        var data = pointer.pointee.data!
        if !pendingSEI.isEmpty {
            pendingSEI.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: $0.count) }
            data += pendingSEI.count
            pendingSEI = []
        }
        // x264 lays a picture's NAL payloads out back to back.
        data.update(from: nals[0].p_payload, count: Int(size))
        pointer.pointee.pts = output.i_pts
        pointer.pointee.dts = output.i_dts
        pointer.pointee.duration = 1
        if output.b_keyframe != 0 { pointer.pointee.flags |= AV_PKT_FLAG_KEY }
        emit(packet)
    }
}
