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

    public init(path: String) throws {
        let times = try Self.lines(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
                                    "-of", "csv=p=0", path]).compactMap { Double($0) }.sorted()
        let pixels = try Subprocess.runBinary(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0",
                                               "-vf", "scale=8:8:flags=area,format=gray", "-fps_mode", "passthrough",
                                               "-f", "rawvideo", "pipe:1"])
        let levels = stride(from: 0, to: pixels.count - 63, by: 64).map { start in
            pixels[pixels.startIndex + start..<pixels.startIndex + start + 64].reduce(0.0) { $0 + Double($1) } / 64
        }
        let count = min(times.count, levels.count)
        var flashes: [Double] = []
        if count > 1, let dark = levels.prefix(count).min(), let bright = levels.prefix(count).max(), bright - dark > 64 {
            let threshold = (dark + bright) / 2
            for index in 1..<count where levels[index] >= threshold && levels[index - 1] < threshold {
                flashes.append(times[index])
            }
        }
        self.flashes = flashes

        let rate = try Self.lines(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate",
                                   "-of", "csv=p=0", path]).first.flatMap { Int($0) } ?? 44_100
        let audioStart = try Self.lines(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "frame=pts_time",
                                         "-read_intervals", "%+#2", "-of", "csv=p=0", path]).first.flatMap { Double($0) } ?? 0
        let audio = try Subprocess.runBinary(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1",
                                              "-f", "f32le", "pipe:1"])
        let samples = audio.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        self.samples = samples
        sampleRate = rate
        self.audioStart = audioStart
        var beeps: [Double] = []
        if let peak = samples.lazy.map({ abs($0) }).max(), peak > 0.05 {
            let threshold = 0.3 * peak, quiet = rate / 4
            var lastLoud = -quiet - 1
            for (index, sample) in samples.enumerated() where abs(sample) >= threshold {
                if index - lastLoud > quiet { beeps.append(audioStart + Double(index) / Double(rate)) }
                lastLoud = index
            }
        }
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
        return ToneAnalysis.rms(samples[first..<last].map(Double.init))
    }

    /// Samples (at `sampleRate`) between `from` and `to` seconds whose
    /// magnitude is at most `level`: how much of that span is silent.
    public func silentFraction(from: Double, to: Double, level: Float = 1e-4) -> Double {
        let first = max(0, Int((from - audioStart) * Double(sampleRate)))
        let last = min(samples.count, Int((to - audioStart) * Double(sampleRate)))
        guard last > first else { return 0 }
        return Double(samples[first..<last].count { abs($0) <= level }) / Double(last - first)
    }

    private static func lines(_ arguments: [String]) throws -> [String] {
        try Subprocess.run(arguments).standardOutput.split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: ","))) }.filter { !$0.isEmpty }
    }
}
