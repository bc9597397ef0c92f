/// Measures the frequency of a pure tone in PCM samples.
public enum ToneAnalysis {
    /// Frequency in Hz of the dominant tone in `samples` (mono, any scale), from
    /// the mean spacing of rising zero crossings refined by linear interpolation.
    /// Accurate to well under 0.1 Hz for a clean tone over a second or more.
    public static func frequency(of samples: [Double], sampleRate: Double) -> Double? {
        var crossings: [Double] = []
        for i in 1..<samples.count where samples[i - 1] < 0 && samples[i] >= 0 {
            let fraction = -samples[i - 1] / (samples[i] - samples[i - 1])
            crossings.append(Double(i - 1) + fraction)
        }
        guard crossings.count >= 3, let first = crossings.first, let last = crossings.last else { return nil }
        let period = (last - first) / Double(crossings.count - 1)
        return sampleRate / period
    }

    /// The median of the frequencies measured over consecutive blocks of
    /// `blockSeconds`: a glitch in the source (a player that underran on a busy
    /// machine) spoils a block or two, not the estimate.
    public static func medianFrequency(of samples: [Double], sampleRate: Double, blockSeconds: Double = 0.5) -> Double? {
        let estimates = blockFrequencies(of: samples, sampleRate: sampleRate, blockSeconds: blockSeconds)
        guard !estimates.isEmpty else { return nil }
        return estimates.sorted()[estimates.count / 2]
    }

    /// The frequency of each consecutive block of `blockSeconds`, in order
    /// (blocks without a tone left out): where a pitch went wrong.
    public static func blockFrequencies(of samples: [Double], sampleRate: Double, blockSeconds: Double = 0.5) -> [Double] {
        let block = Int(sampleRate * blockSeconds)
        guard block > 0 else { return [] }
        var estimates: [Double] = []
        var start = 0
        while start + block <= samples.count {
            if let f = frequency(of: Array(samples[start..<start + block]), sampleRate: sampleRate) { estimates.append(f) }
            start += block
        }
        return estimates
    }

    /// Root-mean-square level of `samples`.
    public static func rms(_ samples: [Double]) -> Double {
        guard !samples.isEmpty else { return 0 }
        return (samples.reduce(0) { $0 + $1 * $1 } / Double(samples.count)).squareRoot()
    }
}
