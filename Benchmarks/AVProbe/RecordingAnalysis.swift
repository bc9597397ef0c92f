package import Foundation

/// Reads a recording back the way a player presents it and finds the probe's
/// ramps and beeps in it: every picture's presentation time and the mean
/// brightness of the ramp region's patch, every audio sample's time (from the
/// first decoded audio frame's timestamp, encoder priming already removed by
/// the decoder).
package struct RecordingAnalysis {
    /// One flash paired with its beep.
    package struct Event {
        /// The ramp as the file shows it.
        package var ramp: RampSighting
        /// The beep's onset, seconds on the file's timeline.
        package var beep: Double
        /// The ramp's start on the nominal ramp, seconds on the file's timeline.
        package var flash: Double { ramp.nominalOnset }
    }

    package let path: String
    /// The ramps found, in order.
    package let ramps: [RampSighting]
    /// Beep onsets, seconds on the file's timeline.
    package let beeps: [Double]
    /// Each ramp paired with its beep.
    package let events: [Event]
    /// `beep - flash` per paired event, at the flash's time, on the nominal ramp.
    package var pairs: [(time: Double, offset: Double)] { events.map { ($0.flash, $0.beep - $0.flash) } }

    /// Reads `path` with ffprobe and ffmpeg, run by `run`.
    package init(path: String, run: ToolRunner) throws {
        self.path = path
        let times = try RecordingTracks.pictureTimes(path, run: run)
        let levels = try RecordingTracks.pictureLevels(path, region: RampRegion.patch, run: run)
        guard !times.isEmpty, abs(times.count - levels.count) <= 1 else {
            throw ProbeFailure("\(path): \(times.count) video packets but \(levels.count) pictures decoded")
        }
        ramps = OnsetDetector.ramps(times: times, levels: levels)

        let audio = try RecordingTracks.audio(path, run: run)
        guard let rate = audio.rate, let audioStart = audio.start else { throw ProbeFailure("\(path): no audio stream to analyse") }
        let samples = audio.samples
        let beeps = OnsetDetector.beeps(samples: samples, quiet: rate / 4).map { audioStart + Double($0) / Double(rate) }
        self.beeps = beeps
        let ramps = ramps
        events = OnsetDetector.pairIndices(flashes: ramps.map(\.nominalOnset), beeps: beeps)
            .map { Event(ramp: ramps[$0.flash], beep: beeps[$0.beep]) }
    }
}
