/// One probe ramp as a series of pictures shows it: the pictures taken while
/// the region was part-way between black and white.
package struct RampSighting {
    /// One picture on the ramp.
    package struct Sample {
        /// Presentation (or grab) time, seconds.
        package var time: Double
        /// The picture's level as measured (mean of the patch).
        package var level: Double
        /// How far from this ramp's black to its white, 0 to 1.
        package var fraction: Double
    }

    /// The pictures strictly inside the ramp (10 % to 90 %), in order.
    package var samples: [Sample]
    /// Pictures inside the ramp skipped as repeats of the one before (a
    /// recorder filling a missed slot with the previous picture).
    package var repeats: Int
    /// The dark and bright levels this ramp went between, as measured before
    /// and after it.
    package var black: Double, white: Double

    /// The ramp's start on the pictures' timeline, seconds, given how long
    /// the ramp took to reach each fraction (`ProbeRamp.seconds(toReach:)`,
    /// or the nominal ramp): every picture on the ramp says "the ramp started
    /// this long before me"; the mean of what they say.
    package func onset(secondsToReach: (Double) -> Double?) -> Double? {
        let estimates = onsetEstimates(secondsToReach: secondsToReach)
        return estimates.isEmpty ? nil : estimates.reduce(0, +) / Double(estimates.count)
    }

    /// What each picture says about the start, seconds.
    package func onsetEstimates(secondsToReach: (Double) -> Double?) -> [Double] {
        samples.compactMap { sample in secondsToReach(sample.fraction).map { sample.time - $0 } }
    }

    /// The start on the nominal ramp.
    package var nominalOnset: Double { onset { ProbeRamp.nominalSeconds(toReach: $0) }! }
}
