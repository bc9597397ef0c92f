/// Mean, spread and drift of a series of A/V offsets over time.
package struct SyncStatistics {
    /// Pairs found.
    package let count: Int
    /// Mean offset, seconds (positive: sound after picture).
    package let mean: Double
    /// Standard deviation of the offsets, seconds.
    package let standardDeviation: Double
    /// How far the offset moved from the first event to the last, seconds:
    /// the least-squares line's change over that span. A line rather than the
    /// last offset less the first: each single offset carries its own
    /// measurement noise, which would swamp a drift of a few milliseconds.
    package let drift: Double
    /// Standard error of `drift`, seconds: how much of it the scatter of
    /// the offsets alone would explain.
    package let driftError: Double
    /// Seconds from the first pair to the last.
    package let span: Double
    /// Standard deviation of the offsets about the line, seconds: the
    /// spread with any drift taken out.
    package let residualDeviation: Double

    package init?(_ pairs: [(time: Double, offset: Double)]) {
        guard !pairs.isEmpty else { return nil }
        count = pairs.count
        let n = Double(pairs.count)
        let mean = pairs.reduce(0) { $0 + $1.offset } / n
        self.mean = mean
        standardDeviation = pairs.count > 1
            ? (pairs.reduce(0) { $0 + ($1.offset - mean) * ($1.offset - mean) } / (n - 1)).squareRoot() : 0
        let first = pairs.map(\.time).min()!, last = pairs.map(\.time).max()!
        let span = last - first
        self.span = span
        let meanTime = pairs.reduce(0) { $0 + $1.time } / n
        let spread = pairs.reduce(0) { $0 + ($1.time - meanTime) * ($1.time - meanTime) }
        let slope = spread > 0 ? pairs.reduce(0) { $0 + ($1.time - meanTime) * ($1.offset - mean) } / spread : 0
        drift = slope * span
        let residuals = pairs.reduce(0) { total, pair in
            let fitted = mean + slope * (pair.time - meanTime)
            return total + (pair.offset - fitted) * (pair.offset - fitted)
        }
        residualDeviation = pairs.count > 2 ? (residuals / (n - 2)).squareRoot() : 0
        driftError = pairs.count > 2 && spread > 0 ? (residuals / (n - 2) / spread).squareRoot() * span : 0
    }

    /// Mean, standard deviation and largest of plain values (seconds), for
    /// the calibration's latencies.
    package static func meanAndDeviation(_ values: [Double]) -> (mean: Double, deviation: Double, maximum: Double)? {
        guard !values.isEmpty else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        let deviation = values.count > 1
            ? (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot() : 0
        return (mean, deviation, values.max()!)
    }
}
