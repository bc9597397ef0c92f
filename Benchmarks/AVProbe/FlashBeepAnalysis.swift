public import Foundation

/// Finds a `FlashBeepProbe`'s flashes and beeps in a recording, as a player
/// presents it: picture times from the video packets' timestamps, audio
/// sample times from the first decoded audio frame's timestamp (the
/// decoder removes the encoder's priming).
///
/// - A flash is the first picture whose mean brightness crosses half-way
///   from the darkest to the brightest picture, rising. With a step flash
///   that picture was grabbed up to a frame after the flash: at 30 fps the
///   offsets below carry up to 33 ms of that.
/// - A beep is the first sample louder than 30 % of the loudest one after at
///   least a quarter second below that (the beep starts at full amplitude).
public struct FlashBeepAnalysis {
    /// Flash onsets, seconds on the file's timeline.
    public let flashes: [Double]
    /// Beep onsets, seconds on the file's timeline.
    public let beeps: [Double]
    /// Each flash with the beep nearest it (within 0.6 s): `beep - flash`,
    /// seconds (positive: the sound comes after the picture).
    public let pairs: [(flash: Double, offset: Double)]
    /// The whole audio track, mono, at `sampleRate`, from `audioStart` on.
    public let samples: [Float]
    public let sampleRate: Int
    public let audioStart: Double

    /// Reads `path` with ffprobe and ffmpeg, run by `run`.
    public init(path: String, run: ToolRunner) throws {
        let times = try RecordingTracks.pictureTimes(path, run: run)
        let levels = try RecordingTracks.pictureLevels(path, region: nil, run: run)
        let count = min(times.count, levels.count)
        var flashes: [Double] = []
        if count > 1, let dark = levels.prefix(count).min(), let bright = levels.prefix(count).max(), bright - dark > 64 {
            let threshold = (dark + bright) / 2
            for index in 1..<count where levels[index] >= threshold && levels[index - 1] < threshold {
                flashes.append(times[index])
            }
        }
        self.flashes = flashes

        let audio = try RecordingTracks.audio(path, run: run)
        let rate = audio.rate ?? 44_100, audioStart = audio.start ?? 0
        samples = audio.samples
        sampleRate = rate
        self.audioStart = audioStart
        let beeps = OnsetDetector.beeps(samples: audio.samples, quiet: rate / 4, minimumPeak: 0.05)
            .map { audioStart + Double($0) / Double(rate) }
        self.beeps = beeps
        pairs = flashes.compactMap { flash in
            guard let beep = beeps.min(by: { abs($0 - flash) < abs($1 - flash) }), abs(beep - flash) < 0.6 else { return nil }
            return (flash, beep - flash)
        }
    }

    /// Root-mean-square level of the audio between `from` and `to` seconds
    /// (file timeline).
    public func rms(from: Double, to: Double) -> Double {
        let first = max(0, Int((from - audioStart) * Double(sampleRate)))
        let last = min(samples.count, Int((to - audioStart) * Double(sampleRate)))
        guard last > first else { return 0 }
        return (samples[first..<last].reduce(0.0) { $0 + Double($1) * Double($1) } / Double(last - first)).squareRoot()
    }

    /// Samples (at `sampleRate`) between `from` and `to` seconds whose
    /// magnitude is at most `level`: how much of that span is silent.
    public func silentFraction(from: Double, to: Double, level: Float = 1e-4) -> Double {
        let first = max(0, Int((from - audioStart) * Double(sampleRate)))
        let last = min(samples.count, Int((to - audioStart) * Double(sampleRate)))
        guard last > first else { return 0 }
        return Double(samples[first..<last].count { abs($0) <= level }) / Double(last - first)
    }
}
