import Foundation
import MediaCore
import Synchronization

/// The sync probe's sound: a continuous stream into the playback PCM, silent
/// but for a short 1 kHz beep that starts at each event's instant.
///
/// Why a continuous stream rather than starting a player per beep: once a
/// stream runs, sample `s` is heard at `t0 + s / rate` for one fixed `t0`,
/// so a beep can be placed at any instant to the sample. `t0` is estimated
/// after every write as `now - (written - delay) / rate` (ALSA's `delay`
/// through the `pulse` plugin includes the sound server's latency) and the
/// median of the last hundred estimates is used, which rejects a preempted
/// measurement. The stream runs for seconds before the first event, because
/// the server's latency estimate is unreliable while a stream starts.
final class BeepPlayer: @unchecked Sendable {
    /// One beep as placed in the stream.
    struct Beep {
        var event: Int
        /// The event's instant, ns.
        var scheduled: Int64
        /// The `t0` estimate the beep was placed with, ns.
        var streamOrigin: Int64
        /// True when the beep was placed after its instant (the stream was behind).
        var late: Bool
    }

    let schedule: ProbeSchedule
    let frequency = 1000.0
    let amplitude = 0.5
    let duration = 0.08
    private let stream: ALSAStream
    private let running = Atomic<Bool>(false)
    private let placed = Mutex<[Beep]>([])
    private let underruns = Atomic<Int>(0)
    private let failure = Mutex<String?>(nil)
    private var thread: MediaThread?

    init(device: String, schedule: ProbeSchedule) throws {
        self.schedule = schedule
        stream = try ALSAStream(name: device, capture: false, sampleRate: 48_000, channels: 2, latency: 0.1)
    }

    func start() {
        running.store(true, ordering: .releasing)
        thread = MediaThread(role: "probe-beep") { [self] in
            RealTimePriority.request()
            do { try play() } catch { failure.withLock { $0 = "\(error)" } }
        }
    }

    /// Stops the stream; returns the beeps placed, the underruns and an error, if any.
    func stop() -> (beeps: [Beep], underruns: Int, error: String?) {
        running.store(false, ordering: .releasing)
        thread?.join()
        thread = nil
        return (placed.withLock { $0 }, underruns.load(ordering: .relaxed), failure.withLock { $0 })
    }

    private func play() throws {
        let clock = MonotonicClock()
        let rate = Int64(stream.sampleRate), channels = stream.channels
        let chunk = stream.sampleRate / 100
        let beepFrames = Int64(duration * Double(rate))
        var buffer = [Int16](repeating: 0, count: chunk * channels)
        var written: Int64 = 0
        var estimates: [Int64] = []
        var starts: [Int: Int64] = [:]  // event -> first sample of its beep
        while running.load(ordering: .acquiring) {
            for index in buffer.indices { buffer[index] = 0 }
            if estimates.count >= 50 {
                let origin = estimates.sorted()[estimates.count / 2]
                let chunkTime = origin + written * 1_000_000_000 / rate
                let nearest = schedule.event(near: chunkTime)
                for event in (nearest - 1)...(nearest + 1) where event >= 0 {
                    if starts[event] == nil {
                        let instant = schedule.time(of: event)
                        let sample = Int64((Double(instant - origin) * Double(rate) / 1e9).rounded())
                        if sample < written + Int64(chunk) && sample + beepFrames > written {
                            starts[event] = max(sample, written)
                            let beep = Beep(event: event, scheduled: instant, streamOrigin: origin, late: sample < written)
                            placed.withLock { $0.append(beep) }
                        }
                    }
                    guard let first = starts[event] else { continue }
                    let from = max(first, written), to = min(first + beepFrames, written + Int64(chunk))
                    guard from < to else { continue }
                    for sample in from..<to {
                        // A cosine starts at full amplitude: a sharp, findable onset.
                        let phase = 2 * Double.pi * frequency * Double(sample - first) / Double(rate)
                        let value = Int16(amplitude * 32767 * cos(phase))
                        let offset = Int(sample - written) * channels
                        for channel in 0..<channels { buffer[offset + channel] = value }
                    }
                }
                starts = starts.filter { $0.key >= nearest - 2 }
            }
            let clean = try buffer.withUnsafeBufferPointer { try stream.write($0.baseAddress!, frames: chunk) }
            written += Int64(chunk)
            if !clean {
                // The stream restarted: its origin moved.
                underruns.add(1, ordering: .relaxed)
                estimates.removeAll()
                continue
            }
            let before = clock.now()
            let delay = stream.delay()
            let after = clock.now()
            // A measurement the thread was preempted in is not used.
            if let delay, after - before < 1_000_000 {
                let now = before + (after - before) / 2
                estimates.append(now - (written - Int64(delay)) * 1_000_000_000 / rate)
                if estimates.count > 100 { estimates.removeFirst() }
            }
        }
    }
}
