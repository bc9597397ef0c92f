import CaptureX11
import MediaCore

/// The probe recorded by pure captures, each on the clock the probe keeps:
/// the display grabbed at the recording's rate (MIT-SHM, each grab stamped),
/// and the loopback read by `RawPCMCapture`. Each flash and beep found is
/// compared with the instant the probe scheduled it, so what is left is the
/// probe's own error plus the loopback's and the stamping's; a recorder that
/// added nothing would show exactly this.
struct ProbeCalibration {
    /// Grab time of the first picture showing each flash, less its instant (s).
    let flashLatencies: [Double]
    /// Stamped time of each beep's first sample, less its instant (s).
    let beepLatencies: [Double]
    /// `beep - flash` per event seen on both sides (s).
    let pairs: [(time: Double, offset: Double)]
    let overruns: Int

    /// Captures for `seconds` while `probe` runs.
    static func run(probe: SyncProbe, display: String, width: Int, height: Int, fps: Int, capturePCM: String,
                    seconds: Double) throws -> ProbeCalibration {
        let clock = MonotonicClock()
        let audio = try RawPCMCapture(device: capturePCM)
        let video = try DisplayCapture(
            configuration: DisplayCaptureConfiguration(display: display, region: CaptureRegion(width: width, height: height),
                                                       framesPerSecond: fps, method: .automatic),
            clock: clock, counters: MediaCounters())
        audio.start()
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
        let recording = try audio.stop()

        let flashes = OnsetDetector.flashes(times: times, levels: levels)
        let beeps = OnsetDetector.beeps(samples: recording.samples, quiet: recording.sampleRate / 4).compactMap {
            recording.time(ofSample: $0).map { Double($0) / 1e9 }
        }
        func latency(_ onset: Double) -> Double? {
            let event = probe.schedule.event(near: Int64(onset * 1e9))
            let late = onset - Double(probe.schedule.time(of: event)) / 1e9
            return abs(late) < 0.45 ? late : nil
        }
        return ProbeCalibration(flashLatencies: flashes.compactMap(latency), beepLatencies: beeps.compactMap(latency),
                                pairs: OnsetDetector.pair(flashes: flashes, beeps: beeps), overruns: recording.overruns)
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
