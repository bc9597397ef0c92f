import AVProbe
import CaptureX11
import MediaCore

/// What the probe really did, measured independently of any recorder, and
/// how far that is from what it meant to do.
///
/// - Ramps: every step of every ramp is stamped by the probe (`ProbeRamp`):
///   when each grey level reached the framebuffer is known to within its
///   fill request and `XSync`'s return.
/// - Beeps: the pure audio capture (`RawPCMCapture`, running the whole
///   benchmark) stamps every beep's first sample.
/// - A pure video capture (the engine's `DisplayCapture` alone: grabs at the
///   recording's rate, each stamped when issued, nothing else) records the
///   probe for a few seconds before the recordings. Its pictures are exact
///   (no encoder), so each picture on a ramp names the step it shows, and
///   the two steps around it bound when it was really taken: that measures
///   the grab stamps themselves, and with the beeps of that window gives the
///   A/V offset a recorder stamping at capture and adding nothing shows.
struct ProbeCalibration {
    /// Per event: the beep as stamped by the pure capture, less its instant (s).
    let beepErrors: [Int: Double]
    /// Per event: the beep's stamped time, clock seconds.
    let beepTimes: [Int: Double]
    /// Per event: the ramp as drawn.
    let ramps: [Int: ProbeRamp]
    /// The pure video capture's pictures on a ramp: when each was taken
    /// (the middle of the time its level was on screen) less its grab stamp,
    /// with the hard bounds of that (level drawn, next level drawn), seconds.
    let grabLags: [(estimate: Double, low: Double, high: Double)]
    /// Per event of the pure video capture: the ramp's start as its stamped
    /// pictures say, less the instant (s).
    let pureVideoErrors: [Int: Double]
    /// Each grab's stamp less its place on the 30 fps deadline grid, less
    /// the least of these (s): how late after its deadline a grab is issued,
    /// beyond the least late one. The first grab's is `firstGrabLateness`.
    let grabLateness: [Double]
    let firstGrabLateness: Double?
    /// `beep - flash` per event of the pure-capture window, both as the pure
    /// captures stamped them (s).
    let pairs: [(time: Double, offset: Double)]

    /// What the pure video capture recorded: per grab, its stamp (clock ns),
    /// deadline number and the patch's level (0-255, exact).
    struct Grabs {
        var fps: Int
        var stamps: [Int64] = []
        var sequences: [Int] = []
        var levels: [Double] = []
    }

    init(schedule: ProbeSchedule, ramps: [ProbeRamp], beeps: [Double], grabs: Grabs) {
        var beepErrors: [Int: Double] = [:], beepTimes: [Int: Double] = [:]
        for beep in beeps {
            let event = schedule.event(near: Int64(beep * 1e9))
            let error = beep - Double(schedule.time(of: event)) / 1e9
            // A beep far from every instant is not the probe's (nothing else plays).
            if abs(error) < 0.2 {
                beepErrors[event] = error
                beepTimes[event] = beep
            }
        }
        self.beepErrors = beepErrors
        self.beepTimes = beepTimes
        let ramps = Dictionary(ramps.map { ($0.event, $0) }, uniquingKeysWith: { first, _ in first })
        self.ramps = ramps

        let times = grabs.stamps.map { Double($0) / 1e9 }
        var lags: [(estimate: Double, low: Double, high: Double)] = []
        var pureVideoErrors: [Int: Double] = [:]
        for sighting in OnsetDetector.ramps(times: times, levels: grabs.levels) {
            let event = schedule.event(near: Int64(sighting.samples[0].time * 1e9))
            guard let ramp = ramps[event] else { continue }
            let instant = Double(ramp.scheduled) / 1e9
            let estimates = sighting.onsetEstimates { ramp.timedSeconds(toReach: $0) }
            guard !estimates.isEmpty else { continue }
            pureVideoErrors[event] = estimates.reduce(0, +) / Double(estimates.count) - instant
            for sample in sighting.samples {
                guard let reach = ramp.timedSeconds(toReach: sample.fraction),
                      let shown = ramp.interval(showing: UInt8(sample.level.rounded())), shown.to != .max else { continue }
                let stamp = sample.time
                lags.append((instant + reach - stamp, Double(shown.from) / 1e9 - stamp, Double(shown.to) / 1e9 - stamp))
            }
        }
        grabLags = lags
        self.pureVideoErrors = pureVideoErrors
        let interval = 1e9 / Double(grabs.fps)
        let lateness = zip(grabs.stamps, grabs.sequences).map { Double($0) - Double($1) * interval }
        let least = lateness.min() ?? 0
        grabLateness = lateness.map { ($0 - least) / 1e9 }
        firstGrabLateness = grabLateness.first
        pairs = pureVideoErrors.keys.sorted().compactMap { event in
            guard let beep = beepErrors[event], let flash = pureVideoErrors[event] else { return nil }
            return (Double(schedule.time(of: event)) / 1e9, beep - flash)
        }
    }

    /// Grabs the display for `seconds` at `fps` with the engine's capture
    /// alone (MIT-SHM, each grab stamped when issued, every frame grabbed
    /// whole: each one's patch level is read) and keeps each grab's stamp,
    /// deadline number and ramp-patch level.
    static func grabRamps(display: String, width: Int, height: Int, fps: Int, seconds: Double) throws -> Grabs {
        let clock = MonotonicClock()
        let video = try DisplayCapture(
            configuration: DisplayCaptureConfiguration(display: display, region: CaptureRegion(width: width, height: height),
                                                       framesPerSecond: fps, method: .automatic, tracksDamage: false),
            clock: clock, counters: MediaCounters())
        video.start { event in print("calibration capture failed: \(event)") }
        var grabs = Grabs(fps: fps)
        func take(_ frame: borrowing VideoFrame) {
            grabs.stamps.append(frame.captureTime)
            grabs.sequences.append(frame.sequence)
            grabs.levels.append(Self.patchLevel(frame))
        }
        let end = clock.now() + Int64(seconds * 1e9)
        while clock.now() < end {
            while let frame = video.frames.pop() { take(frame) }
            clock.sleep(until: clock.now() + 5_000_000)
        }
        video.stop()
        while let frame = video.frames.pop() { take(frame) }
        return grabs
    }

    /// One recording's events, named by the pure capture, with the probe's
    /// own error for each taken out.
    struct NamedEvent {
        var event: Int
        /// The flash's time in the file (nominal ramp), seconds.
        var time: Double
        /// `beep - flash` in the file, the flash on the nominal ramp (s).
        var offset: Double
        /// The beep in the file less the beep as the pure capture stamped it
        /// (s; the file's origin on the clock is in it, a constant).
        var audio: Double
        /// The ramp's start in the file, from the ramp as drawn, less its
        /// instant (s; the same constant in it).
        var video: Double
        /// What the recorder itself put between sound and picture:
        /// `audio - video`, which is the file's `beep - flash` less the
        /// probe's error for the event (beep late by its stamp, ramp off its
        /// nominal shape).
        var net: Double { audio - video }
        /// What each picture on the ramp the probe can time says about the
        /// start, less their mean (s).
        var pictureResiduals: [Double]
        var pictures: Int { pictureResiduals.count }
        var repeats: Int
        /// Pictures on the ramp left out because the probe cannot time their
        /// level (its redraws stalled there: `ProbeRamp.timedSeconds`).
        var untimed: Int
    }

    /// Names a recording's events by lining its beeps up with the pure
    /// capture's (the irregular gaps allow one shift only), looking for the
    /// file's start between `start - 2 s` and `start + 10 s` on the clock,
    /// and measures each against what the probe did for it.
    func name(_ events: [RecordingAnalysis.Event], recordingStart start: Double) -> [NamedEvent] {
        let known = beepTimes.sorted { $0.value < $1.value }
        var best: (matches: Int, shift: Double)?
        for candidate in events {
            for (_, time) in known where time - candidate.beep > start - 2 && time - candidate.beep < start + 10 {
                let shift = time - candidate.beep
                let matches = events.count { other in known.contains { abs($0.value - (other.beep + shift)) < 0.05 } }
                if best == nil || matches > best!.matches { best = (matches, shift) }
            }
        }
        guard let shift = best?.shift else { return [] }
        return events.compactMap { recorded in
            guard let (event, stamped) = known.first(where: { abs($0.value - (recorded.beep + shift)) < 0.05 }),
                  let ramp = ramps[event] else { return nil }
            let estimates = recorded.ramp.onsetEstimates { ramp.timedSeconds(toReach: $0) }
            guard !estimates.isEmpty else { return nil }
            let onset = estimates.reduce(0, +) / Double(estimates.count)
            return NamedEvent(event: event, time: recorded.flash, offset: recorded.beep - recorded.flash,
                              audio: recorded.beep - stamped, video: onset - Double(ramp.scheduled) / 1e9,
                              pictureResiduals: estimates.map { $0 - onset }, repeats: recorded.ramp.repeats,
                              untimed: recorded.ramp.samples.count - estimates.count)
        }
    }

    /// Mean level (0-255) of an 8x8 grid over the ramp region's patch.
    private static func patchLevel(_ frame: borrowing VideoFrame) -> Double {
        let patch = RampRegion.patch.pixels(width: frame.width, height: frame.height)
        var total = 0
        for row in 0..<8 {
            for column in 0..<8 {
                let pixel = frame.pixel(x: patch.x + (2 * column + 1) * patch.width / 16,
                                        y: patch.y + (2 * row + 1) * patch.height / 16)
                total += Int(pixel & 0xFF) + Int((pixel >> 8) & 0xFF) + Int((pixel >> 16) & 0xFF)
            }
        }
        return Double(total) / (64 * 3)
    }
}
