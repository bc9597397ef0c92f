/// A benchmark step that sums what recordings did: the fields that every
/// step takes from a `JibriFFmpegRuns.Tally` alike (`MeetingStep`,
/// `ConcurrencyBenchmark.Step`).
protocol TalliedStep {
    var framesExpected: Int { get set }
    var framesWritten: Int { get set }
    var audioLost: Int { get set }
    /// Seconds past its length the slowest recording ended.
    var worstLag: Double { get set }
    var errors: [String] { get set }
}

extension TalliedStep {
    /// Adds the runs' frames, audio losses and errors; keeps the longer lag.
    mutating func add(_ tally: JibriFFmpegRuns.Tally) {
        framesExpected += tally.framesExpected
        framesWritten += tally.framesWritten
        audioLost += tally.audioLost
        worstLag = max(worstLag, tally.worstLag)
        errors += tally.errors
    }
}
