import MediaCore

/// An H.264 level (ITU-T H.264 Annex A, table A-1), chosen from the picture
/// size, frame rate and VBV limits instead of a fixed value: Jibri's fixed 3.1
/// is too low for 1080p30 (a strict decoder may refuse such a stream).
public struct H264Level: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// `level_idc` as coded in the SPS and set on `AVCodecContext.level`: 31 for 3.1.
    public let idc: Int

    public var description: String { "\(idc / 10).\(idc % 10)" }

    public static func < (lhs: H264Level, rhs: H264Level) -> Bool { lhs.idc < rhs.idc }

    /// No level: what a recording without video reports (`idc` 0).
    public static let none = H264Level(idc: 0)

    /// One row of table A-1.
    struct Limits {
        let idc: Int
        /// Macroblocks per second.
        let maxMacroblockRate: Int
        /// Macroblocks per frame.
        let maxFrameSize: Int
        /// kbit/s for Baseline and Main (High may use 1.25 times this).
        let maxBitrate: Int
        /// Coded picture buffer, kbit for Baseline and Main (High: 1.25 times).
        let maxBuffer: Int
    }

    /// Table A-1 without level 1b (which needs special signalling and is never
    /// the smallest level a real screen fits).
    static let table: [Limits] = [
        Limits(idc: 10, maxMacroblockRate: 1_485, maxFrameSize: 99, maxBitrate: 64, maxBuffer: 175),
        Limits(idc: 11, maxMacroblockRate: 3_000, maxFrameSize: 396, maxBitrate: 192, maxBuffer: 500),
        Limits(idc: 12, maxMacroblockRate: 6_000, maxFrameSize: 396, maxBitrate: 384, maxBuffer: 1_000),
        Limits(idc: 13, maxMacroblockRate: 11_880, maxFrameSize: 396, maxBitrate: 768, maxBuffer: 2_000),
        Limits(idc: 20, maxMacroblockRate: 11_880, maxFrameSize: 396, maxBitrate: 2_000, maxBuffer: 2_000),
        Limits(idc: 21, maxMacroblockRate: 19_800, maxFrameSize: 792, maxBitrate: 4_000, maxBuffer: 4_000),
        Limits(idc: 22, maxMacroblockRate: 20_250, maxFrameSize: 1_620, maxBitrate: 4_000, maxBuffer: 4_000),
        Limits(idc: 30, maxMacroblockRate: 40_500, maxFrameSize: 1_620, maxBitrate: 10_000, maxBuffer: 10_000),
        Limits(idc: 31, maxMacroblockRate: 108_000, maxFrameSize: 3_600, maxBitrate: 14_000, maxBuffer: 14_000),
        Limits(idc: 32, maxMacroblockRate: 216_000, maxFrameSize: 5_120, maxBitrate: 20_000, maxBuffer: 20_000),
        Limits(idc: 40, maxMacroblockRate: 245_760, maxFrameSize: 8_192, maxBitrate: 20_000, maxBuffer: 25_000),
        Limits(idc: 41, maxMacroblockRate: 245_760, maxFrameSize: 8_192, maxBitrate: 50_000, maxBuffer: 62_500),
        Limits(idc: 42, maxMacroblockRate: 522_240, maxFrameSize: 8_704, maxBitrate: 50_000, maxBuffer: 62_500),
        Limits(idc: 50, maxMacroblockRate: 589_824, maxFrameSize: 22_080, maxBitrate: 135_000, maxBuffer: 135_000),
        Limits(idc: 51, maxMacroblockRate: 983_040, maxFrameSize: 36_864, maxBitrate: 240_000, maxBuffer: 240_000),
        Limits(idc: 52, maxMacroblockRate: 2_073_600, maxFrameSize: 36_864, maxBitrate: 240_000, maxBuffer: 240_000),
        Limits(idc: 60, maxMacroblockRate: 4_177_920, maxFrameSize: 139_264, maxBitrate: 240_000, maxBuffer: 240_000),
        Limits(idc: 61, maxMacroblockRate: 8_355_840, maxFrameSize: 139_264, maxBitrate: 480_000, maxBuffer: 480_000),
        Limits(idc: 62, maxMacroblockRate: 16_711_680, maxFrameSize: 139_264, maxBitrate: 800_000, maxBuffer: 800_000),
    ]

    /// The largest coded picture buffer of any level (6.2), bits.
    public static func maximumBuffer(highProfile: Bool) -> Int {
        table[table.count - 1].maxBuffer * (highProfile ? 1_250 : 1_000)
    }

    /// The lowest level whose limits hold `width`x`height` at `fps` frames per
    /// second, and the VBV rate and buffer (bits/s, bits) when they are set.
    ///
    /// Frame size counts 16x16 macroblocks; a side may not exceed
    /// sqrt(8 * MaxFS) macroblocks (A.3.1 h, i). High profile may use 1.25
    /// times the Baseline/Main bit rate and buffer (table A-2).
    public static func minimum(width: Int, height: Int, fps: Int,
                               maxrate: Int? = nil, bufsize: Int? = nil,
                               highProfile: Bool = false) throws -> H264Level {
        let widthMBs = (width + 15) / 16, heightMBs = (height + 15) / 16
        let frameSize = widthMBs * heightMBs
        let macroblockRate = frameSize * fps
        let bitFactor = highProfile ? 1_250 : 1_000
        for limits in table {
            let maxSide = Int((Double(8 * limits.maxFrameSize)).squareRoot())
            guard frameSize <= limits.maxFrameSize, widthMBs <= maxSide, heightMBs <= maxSide,
                  macroblockRate <= limits.maxMacroblockRate else { continue }
            if let maxrate, maxrate > limits.maxBitrate * bitFactor { continue }
            if let bufsize, bufsize > limits.maxBuffer * bitFactor { continue }
            return H264Level(idc: limits.idc)
        }
        // Nothing holds it: name what is over the top level's limits.
        let top = table[table.count - 1]
        if let maxrate, maxrate > top.maxBitrate * bitFactor {
            throw InvalidSetting(.maxrate, value: "\(maxrate)",
                                 reason: "exceeds H.264 level 6.2's \(top.maxBitrate * bitFactor / 1_000_000) Mbit/s")
        }
        if let bufsize, bufsize > top.maxBuffer * bitFactor {
            throw InvalidSetting(.bufsize, value: "\(bufsize)",
                                 reason: "exceeds H.264 level 6.2's \(top.maxBuffer * bitFactor / 1_000_000) Mbit buffer")
        }
        throw InvalidSetting(.sizeAndRate, value: "\(width)x\(height)@\(fps)",
                             reason: "exceeds H.264 level 6.2 (at most 139264 macroblocks per frame and 16711680 per second)")
    }
}
