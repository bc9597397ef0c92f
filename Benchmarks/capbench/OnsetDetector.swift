/// Finds the probe's flashes in a series of picture brightness values and its
/// beeps in a series of samples, and pairs them.
enum OnsetDetector {
    /// Times (seconds) of the pictures where the brightness first crosses the
    /// midpoint between dark and bright, rising. `levels[i]` is picture `i`'s
    /// mean brightness at `times[i]`. Empty when nothing flashed (the bright
    /// and dark levels differ by less than a fifth of the range).
    static func flashes(times: [Double], levels: [Double], minimumGap: Double = 0.5) -> [Double] {
        let count = min(times.count, levels.count)
        guard count > 2 else { return [] }
        let sorted = levels[0..<count].sorted()
        let dark = sorted[count / 10], bright = sorted[count * 9 / 10]
        let full = (sorted.last! - sorted.first!)
        guard bright - dark > 0.2 * max(full, 1e-9), bright - dark > 0 else { return [] }
        let threshold = (dark + bright) / 2
        var onsets: [Double] = []
        for index in 1..<count where levels[index] >= threshold && levels[index - 1] < threshold {
            if let last = onsets.last, times[index] - last < minimumGap { continue }
            onsets.append(times[index])
        }
        return onsets
    }

    /// Sample indices where the magnitude first exceeds `fraction` of the
    /// loudest sample after at least `quiet` samples below it: the beeps'
    /// starts. A beep starts at full amplitude, so the threshold is crossed
    /// within a sample or two of its true start, even after AAC.
    static func beeps(samples: [Float], quiet: Int, fraction: Float = 0.3) -> [Int] {
        guard let peak = samples.lazy.map({ abs($0) }).max(), peak > 0.01 else { return [] }
        let threshold = fraction * peak
        var onsets: [Int] = []
        var lastLoud = -quiet - 1
        for (index, sample) in samples.enumerated() where abs(sample) >= threshold {
            if index - lastLoud > quiet { onsets.append(index) }
            lastLoud = index
        }
        return onsets
    }

    /// For each flash, the beep nearest to it within `window` seconds:
    /// `beep - flash` in seconds (positive: sound after picture), with the
    /// flash's time.
    static func pair(flashes: [Double], beeps: [Double], window: Double = 0.45) -> [(time: Double, offset: Double)] {
        var pairs: [(time: Double, offset: Double)] = []
        for flash in flashes {
            guard let nearest = beeps.min(by: { abs($0 - flash) < abs($1 - flash) }), abs(nearest - flash) <= window else { continue }
            pairs.append((flash, nearest - flash))
        }
        return pairs
    }
}
