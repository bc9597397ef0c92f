import MediaCore

/// How to encode video: libx264 options, checked when made so that a bad value
/// is refused (with its name and the valid choices) before anything opens.
public struct VideoEncoderSettings: Sendable, Equatable {
    /// x264 presets, fastest first.
    public enum Preset: String, Sendable, CaseIterable {
        case ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, placebo
    }

    /// x264 tunings.
    public enum Tune: String, Sendable, CaseIterable {
        case film, animation, grain, stillimage, fastdecode, zerolatency, psnr, ssim
    }

    /// H.264 profiles the recorder offers (what players and ingest servers take).
    public enum Profile: String, Sendable, CaseIterable {
        case baseline, main, high
    }

    /// Output picture size in pixels (even: 4:2:0 chroma is subsampled by two).
    public let width: Int
    public let height: Int
    /// Output frames per second (constant frame rate); the time base is 1/fps.
    public let fps: Int
    public let preset: Preset
    public let tune: Tune?
    public let profile: Profile
    /// Constant rate factor 1...51 (0, lossless, is refused: see `init`), or
    /// nil for x264's default (23).
    public let crf: Int?
    /// Average bit rate in bits/s (x264's ABR), or nil. As in libx264 through
    /// ffmpeg, a `crf` given as well wins and this is unused.
    public let bitrate: Int?
    /// VBV maximum rate in bits/s (caps the CRF's rate, as for streaming).
    public let maxrate: Int?
    /// VBV buffer in bits; defaults to twice `maxrate` when only that is given
    /// (at most H.264 level 6.2's buffer).
    public let bufsize: Int?
    /// Frames between keyframes.
    public let gop: Int
    /// Encoder threads; 0 lets x264 choose.
    public let threads: Int
    /// The H.264 level, the lowest that holds the size, rate and VBV limits.
    public let level: H264Level
    /// Keyframe rules and x264's own parameters beyond these (checked by
    /// `X264Tuning.validate()` and when each parameter is made).
    public var x264 = X264Tuning()

    /// The constant rate factors accepted (0, lossless, is refused: see below).
    public static let crfRange = 1...51
    /// The keyframe intervals accepted, in frames: x264 takes `keyint` as an
    /// `int32`; 100000 is over 55 minutes at 30 fps.
    public static let gopRange = 1...100_000

    /// Checks every value; throws `InvalidSetting` naming the first bad one.
    public init(width: Int, height: Int, fps: Int = 30, preset: Preset = .ultrafast, tune: Tune? = nil,
                profile: Profile = .main, crf: Int? = 25, bitrate: Int? = nil, maxrate: Int? = nil, bufsize: Int? = nil,
                gop: Int = 60, threads: Int = 0) throws {
        guard width >= 16, width <= 16_384, width % 2 == 0 else {
            throw InvalidSetting(.width, value: "\(width)", reason: "must be an even number from 16 to 16384")
        }
        guard height >= 16, height <= 16_384, height % 2 == 0 else {
            throw InvalidSetting(.height, value: "\(height)", reason: "must be an even number from 16 to 16384")
        }
        guard (1...120).contains(fps) else {
            throw InvalidSetting(.fps, value: "\(fps)", reason: "must be from 1 to 120")
        }
        if let crf, !(0...Self.crfRange.upperBound).contains(crf) {
            throw InvalidSetting(.crf, value: "\(crf)", reason: "must be from 1 to 51")
        }
        // x264 reads CRF 0 as lossless, which only High 4:4:4 Predictive can
        // code; every profile offered here makes x264 refuse to open with
        // "<profile> profile doesn't support lossless" (checked: baseline,
        // main and high).
        if crf == 0 {
            throw InvalidSetting(.crf, value: "0",
                                 reason: "0 is lossless, which needs the High 4:4:4 Predictive profile (baseline, "
                                     + "main and high cannot code it); use 1 to 51 (1: nearly lossless)")
        }
        // x264 takes its bit rates in kbit/s (`X264Context` divides, rounding
        // down, as libavcodec did): below 1000 they become 0 and x264 drops
        // the VBV (or the ABR target) with only a warning.
        if let bitrate, bitrate < 1_000 {
            throw InvalidSetting(.bitrate, value: "\(bitrate)",
                                 reason: "must be at least 1000 bits/s (x264 takes it in kbit/s)")
        }
        if let maxrate, maxrate < 1_000 {
            throw InvalidSetting(.maxrate, value: "\(maxrate)",
                                 reason: "must be at least 1000 bits/s (x264 takes it in kbit/s)")
        }
        if let bufsize {
            guard bufsize >= 1_000 else {
                throw InvalidSetting(.bufsize, value: "\(bufsize)",
                                     reason: "must be at least 1000 bits (x264 takes it in kbit)")
            }
            // x264 ignores a VBV buffer without a maximum rate; refuse rather than
            // silently drop what the user asked for.
            guard maxrate != nil else {
                throw InvalidSetting(.bufsize, value: "\(bufsize)", reason: "needs maxrate as well")
            }
        }
        guard gop > 0 else {
            throw InvalidSetting(.gop, value: "\(gop)", reason: "must be a positive number of frames")
        }
        guard Self.gopRange.contains(gop) else {
            throw InvalidSetting(.gop, value: "\(gop)", reason: "must be at most \(Self.gopRange.upperBound) frames")
        }
        guard (0...64).contains(threads) else {
            throw InvalidSetting(.threads, value: "\(threads)", reason: "must be from 0 (automatic) to 64")
        }
        // Given only a maxrate, the buffer holds two seconds of it (ffmpeg's
        // streaming recipes, Jibri's 2976k/5952k), within the top level's buffer.
        let topBuffer = H264Level.maximumBuffer(highProfile: profile == .high)
        let bufsize = bufsize ?? maxrate.map { min($0 * 2, max($0, topBuffer)) }
        self.width = width
        self.height = height
        self.fps = fps
        self.preset = preset
        self.tune = tune
        self.profile = profile
        self.crf = crf
        self.bitrate = bitrate
        self.maxrate = maxrate
        self.bufsize = bufsize
        self.gop = gop
        self.threads = threads
        level = try H264Level.minimum(width: width, height: height, fps: fps, maxrate: maxrate,
                                      bufsize: bufsize, highProfile: profile == .high)
    }
}
