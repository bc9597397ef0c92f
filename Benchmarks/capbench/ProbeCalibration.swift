import CaptureX11
import MediaCore

/// What the probe really did, measured independently of any recorder, and
/// how far that is from what it meant to do.
///
/// - Flashes: each flash's time on screen is known from the probe itself to
///   within half of [fill requested, `XSync` returned].
/// - Beeps: the pure audio capture (`RawPCMCapture`, running the whole
///   benchmark) stamps every beep's first sample.
/// - A pure video capture (grabs at the recording's rate, stamped, nothing
///   else) records the probe for a few seconds before the recordings: with
///   the beeps of that window it gives the A/V offset a recorder adding
///   nothing shows, frame sampling included.
struct ProbeCalibration {
    /// Per event: the beep as stamped by the pure capture, less its instant (s).
    let beepErrors: [Int: Double]
    /// Per event: the flash's time on screen, less its instant (s).
    let flashErrors: [Int: Double]
    /// Per event: the beep's stamped time, clock seconds.
    let beepTimes: [Int: Double]
    /// Grab time of the first picture showing each flash, less its instant (s).
    let flashGrabLatencies: [Double]
    /// `beep - flash` per event of the pure-capture window (s).
    let pairs: [(time: Double, offset: Double)]

    init(schedule: ProbeSchedule, flashes: [SyncProbe.Flash], beeps: [Double], flashGrabs: [Double]) {
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
        flashErrors = Dictionary(flashes.map { ($0.event, $0.error) }, uniquingKeysWith: { first, _ in first })
        flashGrabLatencies = flashGrabs.compactMap { grab in
            let late = grab - Double(schedule.time(of: schedule.event(near: Int64(grab * 1e9)))) / 1e9
            return abs(late) < 0.2 ? late : nil
        }
        if let first = flashGrabs.first, let last = flashGrabs.last {
            let window = beeps.filter { $0 > first - 0.5 && $0 < last + 0.5 }
            pairs = OnsetDetector.pair(flashes: flashGrabs, beeps: window)
        } else {
            pairs = []
        }
    }

    /// Grabs the display for `seconds` at `fps` (MIT-SHM, each grab stamped)
    /// and returns the grab times of the first pictures showing a flash, clock seconds.
    static func grabFlashes(display: String, width: Int, height: Int, fps: Int, seconds: Double) throws -> [Double] {
        let clock = MonotonicClock()
        let video = try DisplayCapture(
            configuration: DisplayCaptureConfiguration(display: display, region: CaptureRegion(width: width, height: height),
                                                       framesPerSecond: fps, method: .automatic),
            clock: clock, counters: MediaCounters())
        video.start { event in print("calibration capture failed: \(event)") }
        var times: [Double] = [], levels: [Double] = []
        let end = clock.now() + Int64(seconds * 1e9)
        while clock.now() < end {
            while let frame = video.frames.pop() {
                times.append(Double(frame.captureTime) / 1e9)
                levels.append(Self.brightness(frame))
            }
            clock.sleep(until: clock.now() + 5_000_000)
        }
        video.stop()
        while let frame = video.frames.pop() {
            times.append(Double(frame.captureTime) / 1e9)
            levels.append(Self.brightness(frame))
        }
        return OnsetDetector.flashes(times: times, levels: levels)
    }

    /// `beep - flash` of a recording's pairs, each less what the probe got
    /// wrong for its event (beep error less flash error): what the recorder
    /// itself added, beyond what a pure capture of this loopback sees.
    ///
    /// The file's events are named by lining its beeps up with the pure
    /// capture's (the irregular gaps allow one shift only), looking for the
    /// file's start between `start - 2 s` and `start + 10 s` on the clock.
    func netOfProbe(_ pairs: [(time: Double, offset: Double)], recordingStart start: Double) -> [(time: Double, offset: Double)] {
        let known = beepTimes.sorted { $0.value < $1.value }
        var best: (matches: Int, shift: Double)?
        for pair in pairs {
            let beep = pair.time + pair.offset
            for (_, time) in known where time - beep > start - 2 && time - beep < start + 10 {
                let shift = time - beep
                let matches = pairs.count { other in known.contains { abs($0.value - (other.time + other.offset + shift)) < 0.05 } }
                if best == nil || matches > best!.matches { best = (matches, shift) }
            }
        }
        guard let shift = best?.shift else { return [] }
        return pairs.compactMap { pair in
            let clockTime = pair.time + pair.offset + shift
            guard let (event, _) = known.first(where: { abs($0.value - clockTime) < 0.05 }),
                  let beepError = beepErrors[event], let flashError = flashErrors[event] else { return nil }
            return (pair.time, pair.offset - (beepError - flashError))
        }
    }

    /// Mean brightness (0-255) of an 8x8 grid of the frame's pixels.
    private static func brightness(_ frame: borrowing VideoFrame) -> Double {
        var total = 0
        for row in 0..<8 {
            for column in 0..<8 {
                let pixel = frame.pixel(x: (2 * column + 1) * frame.width / 16, y: (2 * row + 1) * frame.height / 16)
                total += Int(pixel & 0xFF) + Int((pixel >> 8) & 0xFF) + Int((pixel >> 16) & 0xFF)
            }
        }
        return Double(total) / (64 * 3)
    }
}
