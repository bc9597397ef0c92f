/// Finds the probe's ramps in a series of picture brightness values and its
/// beeps in a series of samples, and pairs them.
package enum OnsetDetector {
    /// The probe's ramps in a series of pictures. `levels[i]` is picture
    /// `i`'s brightness (the mean of the ramp region's patch) at `times[i]`
    /// (seconds, rising). Empty when nothing flashed (the bright and dark
    /// levels differ by less than a fifth of the range).
    ///
    /// A ramp is found where the level first crosses the midpoint between
    /// dark and bright, rising (at least `minimumGap` after the last). Its own
    /// black and white are measured around it, which takes out the encoder's
    /// levels (limited range, rounding) and any slow change: black is the
    /// median of the pictures 150 to 280 ms before the crossing (after the
    /// previous flash has gone dark, before this ramp starts), white that of
    /// those 110 to 200 ms after it (the ramp is over, the region not yet
    /// dark). Those windows follow from the probe: a 150 ms ramp crossed
    /// half-way 75 ms (plus up to a frame) after it starts, lit for 320 ms,
    /// events at least 600 ms apart. Every picture between the two windows
    /// whose level is strictly between 10 % and 90 % of the way from black to
    /// white is on the ramp, except one that repeats the picture before it
    /// (within 3 %: a ramp moves 22 % in a frame at 30 fps).
    package static func ramps(times: [Double], levels: [Double], minimumGap: Double = 0.5) -> [RampSighting] {
        let count = min(times.count, levels.count)
        guard count > 2 else { return [] }
        let sorted = levels[0..<count].sorted()
        let dark = sorted[count / 10], bright = sorted[count * 9 / 10]
        let full = (sorted.last! - sorted.first!)
        guard bright - dark > 0.2 * max(full, 1e-9), bright - dark > 0 else { return [] }
        let threshold = (dark + bright) / 2
        func median(from start: Double, to end: Double) -> Double? {
            let inside = (0..<count).filter { times[$0] >= start && times[$0] <= end }.map { levels[$0] }.sorted()
            return inside.isEmpty ? nil : inside[inside.count / 2]
        }
        var sightings: [RampSighting] = []
        var lastCrossing = -Double.infinity
        for index in 1..<count where levels[index] >= threshold && levels[index - 1] < threshold {
            let crossing = times[index]
            if crossing - lastCrossing < minimumGap { continue }
            lastCrossing = crossing
            guard let black = median(from: crossing - 0.28, to: crossing - 0.15),
                  let white = median(from: crossing + 0.11, to: crossing + 0.20),
                  white - black > 0.5 * (bright - dark) else { continue }
            var samples: [RampSighting.Sample] = [], repeats = 0
            var previous: Double?
            for picture in 0..<count where times[picture] > crossing - 0.15 && times[picture] < crossing + 0.11 {
                let fraction = (levels[picture] - black) / (white - black)
                defer { previous = fraction }
                guard fraction > 0.1 && fraction < 0.9 else { continue }
                if let previous, abs(fraction - previous) < 0.03 {
                    repeats += 1
                    continue
                }
                samples.append(RampSighting.Sample(time: times[picture], level: levels[picture], fraction: fraction))
            }
            if !samples.isEmpty {
                sightings.append(RampSighting(samples: samples, repeats: repeats, black: black, white: white))
            }
        }
        return sightings
    }

    /// Sample indices where the magnitude first exceeds `fraction` of the
    /// loudest sample after at least `quiet` samples below it: the beeps'
    /// starts. A beep starts at full amplitude, so the threshold is crossed
    /// within a sample or two of its true start, even after AAC. None when
    /// no sample is louder than `minimumPeak`.
    package static func beeps(samples: [Float], quiet: Int, fraction: Float = 0.3, minimumPeak: Float = 0.01) -> [Int] {
        guard let peak = samples.lazy.map({ abs($0) }).max(), peak > minimumPeak else { return [] }
        let threshold = fraction * peak
        var onsets: [Int] = []
        var lastLoud = -quiet - 1
        for (index, sample) in samples.enumerated() where abs(sample) >= threshold {
            if index - lastLoud > quiet { onsets.append(index) }
            lastLoud = index
        }
        return onsets
    }

    /// Pairs each flash (its onset) with its own beep: `beep - flash` in
    /// seconds (positive: sound after picture), with the flash's time.
    ///
    /// The events are irregularly spaced, so the two sequences line up at one
    /// shift only: every candidate offset `beep - flash` up to `maximumOffset`
    /// is tried, and the one that puts a beep within `tolerance` of the most
    /// flashes wins (the smaller offset on a tie). Each flash then takes the
    /// beep nearest that offset, within `window` (less than half the shortest
    /// gap between events, so the nearest is the right one), which leaves room
    /// for the offset to drift during the recording.
    package static func pair(flashes: [Double], beeps: [Double], maximumOffset: Double = 2.5, tolerance: Double = 0.08,
                     window: Double = 0.25) -> [(time: Double, offset: Double)] {
        pairIndices(flashes: flashes, beeps: beeps, maximumOffset: maximumOffset, tolerance: tolerance, window: window)
            .map { (flashes[$0.flash], beeps[$0.beep] - flashes[$0.flash]) }
    }

    /// `pair`, as indices into `flashes` and `beeps`.
    package static func pairIndices(flashes: [Double], beeps: [Double], maximumOffset: Double = 2.5, tolerance: Double = 0.08,
                            window: Double = 0.25) -> [(flash: Int, beep: Int)] {
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
        guard let offset = best?.offset, !beeps.isEmpty else { return [] }
        var pairs: [(flash: Int, beep: Int)] = []
        for (index, flash) in flashes.enumerated() {
            let nearest = beeps.indices.min { abs(beeps[$0] - flash - offset) < abs(beeps[$1] - flash - offset) }!
            guard abs(beeps[nearest] - flash - offset) <= window else { continue }
            pairs.append((index, nearest))
        }
        return pairs
    }
}
