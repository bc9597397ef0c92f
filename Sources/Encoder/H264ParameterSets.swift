/// The fields of an H.264 stream's SPS and PPS (ITU-T H.264 7.3.2.1 and
/// 7.3.2.2) that a slice header depends on, read from an encoder's global
/// header (Annex B NAL units, as libx264 puts them in `extradata`).
struct H264ParameterSets: Equatable {
    var spsID = 0
    var profileIDC = 0
    var chromaFormatIDC = 1
    var log2MaxFrameNum = 4
    var pocType = 0
    var maxNumRefFrames = 0
    var frameMbsOnly = true
    var widthInMbs = 0
    var heightInMbs = 0
    var hasScalingMatrix = false

    var ppsID = 0
    var cabac = false
    var bottomFieldPicOrderPresent = false
    var sliceGroups = 1
    var numRefIdxL0Default = 1
    var weightedPred = false
    var picInitQP = 26
    var deblockingFilterControlPresent = false
    var redundantPicCountPresent = false

    var macroblocks: Int { widthInMbs * heightInMbs }
    var maxFrameNum: Int { 1 << log2MaxFrameNum }

    struct Unreadable: Error {}

    /// Reads the first SPS and PPS in `bytes` (Annex B start codes).
    init(annexB bytes: UnsafePointer<UInt8>, count: Int) throws(Unreadable) {
        var sawSPS = false, sawPPS = false
        var failed = false
        H264NALUnits.forEach(in: bytes, count: count) { nal, length in
            let type = nal[0] & 0x1F
            guard type == 7 && !sawSPS || type == 8 && !sawPPS else { return }
            let rbsp = UnsafeMutablePointer<UInt8>.allocate(capacity: length)
            defer { rbsp.deallocate() }
            let size = H264Escaping.unescape(nal + 1, count: length - 1, into: rbsp)
            var reader = H264BitReader(rbsp, count: size)
            do {
                if type == 7 {
                    try readSPS(&reader)
                    sawSPS = true
                } else {
                    try readPPS(&reader)
                    sawPPS = true
                }
            } catch {
                failed = true
            }
        }
        if failed { throw Unreadable() }
        guard sawSPS && sawPPS else { throw Unreadable() }
    }

    private mutating func readSPS(_ r: inout H264BitReader) throws(H264BitReader.Overrun) {
        profileIDC = Int(try r.read(bits: 8))
        _ = try r.read(bits: 16)  // constraint flags, reserved bits, level_idc
        spsID = try r.readUnsigned()
        if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(profileIDC) {
            chromaFormatIDC = try r.readUnsigned()
            if chromaFormatIDC == 3 { _ = try r.readFlag() }  // separate_colour_plane_flag
            _ = try r.readUnsigned()  // bit_depth_luma_minus8
            _ = try r.readUnsigned()  // bit_depth_chroma_minus8
            _ = try r.readFlag()  // qpprime_y_zero_transform_bypass_flag
            hasScalingMatrix = try r.readFlag()
            // Scaling lists are not read; a stream with them is not for us.
            if hasScalingMatrix { return }
        }
        log2MaxFrameNum = try r.readUnsigned() + 4
        pocType = try r.readUnsigned()
        if pocType == 0 {
            _ = try r.readUnsigned()
        } else if pocType == 1 {
            _ = try r.readFlag()
            _ = try r.readSigned()
            _ = try r.readSigned()
            let cycle = try r.readUnsigned()
            for _ in 0..<cycle { _ = try r.readSigned() }
        }
        maxNumRefFrames = try r.readUnsigned()
        _ = try r.readFlag()  // gaps_in_frame_num_value_allowed_flag
        widthInMbs = try r.readUnsigned() + 1
        let heightInMapUnits = try r.readUnsigned() + 1
        frameMbsOnly = try r.readFlag()
        heightInMbs = heightInMapUnits * (frameMbsOnly ? 1 : 2)
    }

    private mutating func readPPS(_ r: inout H264BitReader) throws(H264BitReader.Overrun) {
        ppsID = try r.readUnsigned()
        _ = try r.readUnsigned()  // seq_parameter_set_id
        cabac = try r.readFlag()
        bottomFieldPicOrderPresent = try r.readFlag()
        sliceGroups = try r.readUnsigned() + 1
        // Slice group maps follow when there are several; not read (refused).
        if sliceGroups > 1 { return }
        numRefIdxL0Default = try r.readUnsigned() + 1
        _ = try r.readUnsigned()  // num_ref_idx_l1_default_active_minus1
        weightedPred = try r.readFlag()
        _ = try r.read(bits: 2)  // weighted_bipred_idc
        picInitQP = 26 + (try r.readSigned())
        _ = try r.readSigned()  // pic_init_qs_minus26
        _ = try r.readSigned()  // chroma_qp_index_offset
        deblockingFilterControlPresent = try r.readFlag()
        _ = try r.readFlag()  // constrained_intra_pred_flag
        redundantPicCountPresent = try r.readFlag()
    }

    /// Why a stream cannot take pictures written without the encoder, or nil
    /// when it can: pictures in decoding order with one reference frame, so a
    /// copy of the last picture is the next one's reference in the encoder's
    /// own view too.
    var skipPictureObstacle: String? {
        if pocType != 2 { return "picture order type \(pocType) (B-frames reorder pictures)" }
        if maxNumRefFrames != 1 { return "\(maxNumRefFrames) reference frames" }
        if !frameMbsOnly { return "interlaced coding" }
        if hasScalingMatrix { return "custom scaling matrices" }
        if sliceGroups != 1 { return "slice groups" }
        if chromaFormatIDC != 1 { return "chroma format \(chromaFormatIDC)" }
        return nil
    }
}
