import CFFmpeg
import MediaCore
import MediaPackets

#if canImport(Glibc)
import Glibc
#endif

/// Moves the `frame_num` of x264's non-IDR slices past the skipped pictures
/// written between them (`H264SkipPictureWriter`), so the stream counts
/// every reference picture once, as H.264 7.4.3 requires (no gaps: x264's
/// SPS does not allow them).
///
/// `frame_num` is a fixed-width field early in the slice header, so the
/// header keeps its length; only emulation prevention around it can change
/// the packet's size by a byte, handled by growing or shrinking the packet.
enum H264FrameNumbers {
    /// What a packet held.
    struct Found {
        /// An IDR slice: frame numbers start again at 0 from it.
        var isIDR = false
        /// The frame_num the (last) non-IDR slice now carries.
        var frameNum: Int?
    }

    /// Adds `offset` (mod MaxFrameNum) to every non-IDR slice's frame_num
    /// in the Annex B `packet`. `offset` 0 only reads.
    static func rewrite(_ packet: UnsafeMutablePointer<AVPacket>, adding offset: Int,
                        parameters: H264ParameterSets) throws -> Found {
        var found = Found()
        if offset != 0 {
            let status = av_packet_make_writable(packet)
            guard status >= 0 else { throw AVError(code: status, operation: "av_packet_make_writable") }
        }
        var index = 0
        while true {
            let size = Int(packet.pointee.size)
            guard let data = packet.pointee.data, let start = nextNAL(data, size: size, from: index) else { break }
            let type = data[start] & 0x1F
            index = start + 1
            if type == 5 {
                found.isIDR = true
                // Nothing to renumber in an IDR picture, and every slice of a
                // picture is of the same kind.
                break
            }
            guard type == 1 else { continue }
            let end = nextStartCode(data, size: size, from: start + 1)
            if let frameNum = try rewriteSlice(packet, at: start + 1, end: end, adding: offset, parameters: parameters) {
                found.frameNum = frameNum
                // Reading only: the first slice says the picture's number,
                // so the rest of the packet is not scanned.
                if offset == 0 { break }
            }
        }
        return found
    }

    /// First byte of the NAL unit after the start code at or after `index`.
    private static func nextNAL(_ data: UnsafeMutablePointer<UInt8>, size: Int, from index: Int) -> Int? {
        var i = index
        while i + 2 < size {
            if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 { return i + 3 < size ? i + 3 : nil }
            i += 1
        }
        return nil
    }

    private static func nextStartCode(_ data: UnsafeMutablePointer<UInt8>, size: Int, from index: Int) -> Int {
        var i = index
        while i + 2 < size {
            if data[i] == 0 && data[i + 1] == 0 && data[i + 2] <= 1 { return i }
            i += 1
        }
        return size
    }

    /// Rewrites one slice whose RBSP starts at `payload` (after the NAL
    /// header byte); returns its new frame_num.
    private static func rewriteSlice(_ packet: UnsafeMutablePointer<AVPacket>, at payload: Int, end: Int, adding offset: Int,
                                     parameters: H264ParameterSets) throws -> Int? {
        guard let data = packet.pointee.data else { return nil }
        // first_mb_in_slice (up to 27 bits at 4K), slice_type, pps id and
        // frame_num (up to 16 bits) lie within the first 8 RBSP bytes. The
        // prefix is cut after a non-zero byte, where emulation prevention
        // starts afresh, so the rest of the NAL is not affected by it.
        let capacity = 24
        var rbsp = (UInt64(0), UInt64(0), UInt64(0))  // 24 bytes on the stack
        return try withUnsafeMutableBytes(of: &rbsp) { raw -> Int? in
            let prefix = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var produced = 0, consumed = 0, zeros = 0
            while payload + consumed < end && produced < capacity {
                let byte = data[payload + consumed]
                consumed += 1
                if zeros >= 2 && byte == 3 { zeros = 0; continue }
                prefix[produced] = byte
                produced += 1
                zeros = byte == 0 ? zeros + 1 : 0
                if produced >= 8 && byte != 0 { break }
            }
            var reader = H264BitReader(prefix, count: produced)
            let position: Int, old: Int
            do {
                _ = try reader.readUnsigned()  // first_mb_in_slice
                _ = try reader.readUnsigned()  // slice_type
                _ = try reader.readUnsigned()  // pic_parameter_set_id
                position = reader.position
                old = Int(try reader.read(bits: parameters.log2MaxFrameNum))
            } catch {
                return nil
            }
            let new = (old + offset) % parameters.maxFrameNum
            guard offset != 0 else { return new }
            for bit in 0..<parameters.log2MaxFrameNum {
                let at = position + bit
                let mask = UInt8(0x80) >> UInt8(at & 7)
                if (new >> (parameters.log2MaxFrameNum - 1 - bit)) & 1 == 1 { prefix[at >> 3] |= mask } else { prefix[at >> 3] &= ~mask }
            }
            var escapedPrefix = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))  // 40 bytes >= 24 * 3 / 2 + 1
            try withUnsafeMutableBytes(of: &escapedPrefix) { raw in
                let escaped = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                let length = H264Escaping.escape(prefix, count: produced, into: escaped)
                let delta = length - consumed
                let size = Int(packet.pointee.size)
                if delta > 0 {
                    let status = av_grow_packet(packet, Int32(delta))
                    guard status >= 0 else { throw AVError(code: status, operation: "av_grow_packet") }
                }
                let moved = packet.pointee.data!
                if delta != 0 {
                    let tail = payload + consumed
                    memmove(moved + tail + delta, moved + tail, size - tail)
                }
                (moved + payload).update(from: escaped, count: length)
                if delta < 0 { av_shrink_packet(packet, Int32(size + delta)) }
            }
            return new
        }
    }
}
