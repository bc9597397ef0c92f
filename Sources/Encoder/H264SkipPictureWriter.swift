import CFFmpeg
import MediaCore
import MediaPackets

/// Writes the H.264 picture that says "the same as the previous one": a P
/// slice whose macroblocks are all P_Skip, for a frame in which nothing on
/// screen changed, without running x264.
///
/// Every P_Skip macroblock of a picture whose neighbours are all skipped
/// predicts a zero motion vector (H.264 8.4.1.1: a neighbour unavailable or
/// skipped with reference 0 and motion 0 gives mvL0 = 0), carries no
/// residual, and has boundary strength 0 against its neighbours (no
/// deblocking): the decoded picture is an exact copy of reference 0, the
/// previous picture. With one reference frame and pictures in decoding order
/// (`H264ParameterSets.skipPictureObstacle`), that copy is also identical to
/// what x264 holds as its reference, so x264's next picture decodes as x264
/// meant it. The pictures are references (nal_ref_idc 2) and take the next
/// frame_num; `H264FrameNumbers` moves x264's later frame_nums past them.
///
/// The slice data does not depend on the frame: CAVLC is one `mb_skip_run`,
/// CABAC one decision per macroblock with the same context and the
/// terminating bin, made once here (SliceQPY fixed at 26 through
/// `slice_qp_delta`, so the context starts the same whatever the stream's
/// initial QP). Per frame only the slice header is written: about 10 bytes
/// plus 1 (CAVLC) or about 1 per 300 macroblocks (CABAC).
final class H264SkipPictureWriter {
    let parameters: H264ParameterSets
    private static let sliceQP = 26
    /// CABAC slice data from the first macroblock on, byte-aligned; empty for CAVLC.
    private let cabacData: [UInt8]
    private var writer: H264BitWriter
    private let escaped: UnsafeMutablePointer<UInt8>
    private let escapedCapacity: Int

    init(parameters: H264ParameterSets) {
        self.parameters = parameters
        if parameters.cabac {
            // Table 9-13, ctxIdx 11 (mb_skip_flag, P slices) for cabac_init_idc 0: m 23, n 33.
            var context = CABACEncoder.Context(m: 23, n: 33, sliceQP: Self.sliceQP)
            var encoder = CABACEncoder(capacity: parameters.macroblocks / 4 + 64)
            for index in 0..<parameters.macroblocks {
                encoder.encode(1, context: &context)
                encoder.encodeTerminate(index == parameters.macroblocks - 1 ? 1 : 0)
            }
            var data: [UInt8] = []
            encoder.finish { bytes, count in data = Array(UnsafeBufferPointer(start: bytes, count: count)) }
            cabacData = data
        } else {
            cabacData = []
        }
        let capacity = 64 + cabacData.count
        writer = H264BitWriter(capacity: capacity)
        escapedCapacity = 4 + 1 + capacity * 3 / 2 + 1
        escaped = .allocate(capacity: escapedCapacity)
    }

    deinit { escaped.deallocate() }

    /// Fills `packet` (blank) with the skipped picture numbered `frameNum`,
    /// Annex B as libx264 writes its own, at `pts` = `dts` = `frameIndex`.
    func write(frameNum: Int, frameIndex: Int64, into packet: UnsafeMutablePointer<AVPacket>) throws {
        let p = parameters
        writer.reset()
        writer.writeUnsigned(0)  // first_mb_in_slice
        writer.writeUnsigned(5)  // slice_type: P, as every slice of the picture
        writer.writeUnsigned(p.ppsID)
        writer.write(UInt64(frameNum), bits: p.log2MaxFrameNum)
        if p.redundantPicCountPresent { writer.writeUnsigned(0) }
        let override = p.numRefIdxL0Default != 1
        writer.writeBit(override)  // num_ref_idx_active_override_flag
        if override { writer.writeUnsigned(0) }  // one reference
        writer.writeBit(false)  // ref_pic_list_modification_flag_l0
        if p.weightedPred {
            // pred_weight_table: default weights (flags 0).
            writer.writeUnsigned(0)  // luma_log2_weight_denom
            writer.writeUnsigned(0)  // chroma_log2_weight_denom
            writer.writeBit(false)  // luma_weight_l0_flag
            writer.writeBit(false)  // chroma_weight_l0_flag
        }
        writer.writeBit(false)  // adaptive_ref_pic_marking_mode_flag: sliding window
        if p.cabac { writer.writeUnsigned(0) }  // cabac_init_idc
        writer.writeSigned(Self.sliceQP - p.picInitQP)  // slice_qp_delta
        if p.deblockingFilterControlPresent { writer.writeUnsigned(1) }  // disable_deblocking_filter_idc
        if p.cabac {
            while !writer.isByteAligned { writer.writeBit(true) }  // cabac_alignment_one_bit
            cabacData.withUnsafeBufferPointer { writer.append($0.baseAddress!, count: $0.count) }
        } else {
            writer.writeUnsigned(p.macroblocks)  // mb_skip_run: all of them
            writer.writeTrailingBits()
        }
        escaped[0] = 0; escaped[1] = 0; escaped[2] = 0; escaped[3] = 1
        escaped[4] = 0x41  // nal_ref_idc 2, nal_unit_type 1 (non-IDR slice)
        let size = 5 + H264Escaping.escape(writer.data, count: writer.byteCount, into: escaped + 5)
        let status = av_new_packet(packet, Int32(size))
        guard status >= 0 else { throw AVError(code: status, operation: "av_new_packet") }
        packet.pointee.data.update(from: escaped, count: size)
        packet.pointee.pts = frameIndex
        packet.pointee.dts = frameIndex
        packet.pointee.duration = 1
    }
}
