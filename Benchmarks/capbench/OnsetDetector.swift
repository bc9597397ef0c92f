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

    /// Pairs each flash with its own beep: `beep - flash` in seconds
    /// (positive: sound after picture), with the flash's time.
    ///
    /// The events are irregularly spaced, so the two sequences line up at one
    /// shift only: every candidate offset `beep - flash` up to `maximumOffset`
    /// is tried, and the one that puts a beep within `tolerance` of the most
    /// flashes wins (the smaller offset on a tie). Each flash then takes the
    /// beep nearest that offset, within `window` (less than half the shortest
    /// gap between events, so the nearest is the right one), which leaves room
    /// for the offset to drift during the recording.
    static func pair(flashes: [Double], beeps: [Double], maximumOffset: Double = 2.5, tolerance: Double = 0.08,
                     window: Double = 0.25) -> [(time: Double, offset: Double)] {
        var best: (matches: Int, offset: Double)?
        for flash in flashes {
            for beep in beeps where abs(beep - flash) <= maximumOffset {
                let candidate = beep - flash
                let matches = flashes.count { onset in beeps.contains { abs($0 - onset - candidate) <= tolerance } }
                if best == nil || matches > best!.matches || (matches == best!.matches && abs(candidate) < abs(best!.offset)) {
                    best = (matches, candidate)
                }
            }
        }
        guard let offset = best?.offset else { return [] }
        var pairs: [(time: Double, offset: Double)] = []
        for flash in flashes {
            guard let nearest = beeps.min(by: { abs($0 - flash - offset) < abs($1 - flash - offset) }),
                  abs(nearest - flash - offset) <= window else { continue }
            pairs.append((flash, nearest - flash))
        }
        return pairs
    }
}
