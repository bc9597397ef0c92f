import Foundation
import MediaCore
import Synchronization

/// The sync probe's sound: a continuous stream into the playback PCM, silent
/// but for a short 1 kHz beep that starts at each event's instant, placed to
/// the sample through the stream's origin (`StreamOrigin`). A continuous
/// stream rather than a player per beep, and running for seconds before the
/// first event, for that origin to be known.
package final class BeepPlayer: @unchecked Sendable {
    /// One beep as placed in the stream.
    package struct Beep {
        package var event: Int
        /// The event's instant, ns.
        package var scheduled: Int64
        /// The `t0` estimate the beep was placed with, ns.
        package var streamOrigin: Int64
        /// True when the beep was placed after its instant (the stream was behind).
        package var late: Bool
    }

    package let schedule: ProbeSchedule
    package let frequency = 1000.0
    package let amplitude = 0.5
    package let duration = 0.08
    private let stream: ALSAStream
    private let running = Atomic<Bool>(false)
    private let placed = Mutex<[Beep]>([])
    private let underruns = Atomic<Int>(0)
    private let failure = Mutex<String?>(nil)
    private var thread: MediaThread?

    package init(device: String, schedule: ProbeSchedule) throws {
        self.schedule = schedule
        stream = try ALSAStream(name: device, capture: false, sampleRate: 48_000, channels: 2, latency: 0.1)
    }

    package func start() {
        running.store(true, ordering: .releasing)
        thread = MediaThread(role: "probe-beep") { [self] in
            RealTimePriority.request()
            do { try play() } catch { failure.withLock { $0 = "\(error)" } }
        }
    }

    /// Stops the stream; returns the beeps placed, the underruns and an error, if any.
    package func stop() -> (beeps: [Beep], underruns: Int, error: String?) {
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
        var origin = StreamOrigin()
        var starts: [Int: Int64] = [:]  // event -> first sample of its beep
        while running.load(ordering: .acquiring) {
            for index in buffer.indices { buffer[index] = 0 }
            if origin.isSettled {
                let t0 = origin.value
                let chunkTime = t0 + written * 1_000_000_000 / rate
                let nearest = schedule.event(near: chunkTime)
                for event in (nearest - 1)...(nearest + 1) where event >= 0 {
                    if starts[event] == nil {
                        let instant = schedule.time(of: event)
                        let sample = Int64((Double(instant - t0) * Double(rate) / 1e9).rounded())
                        if sample < written + Int64(chunk) && sample + beepFrames > written {
                            starts[event] = max(sample, written)
                            let beep = Beep(event: event, scheduled: instant, streamOrigin: t0, late: sample < written)
                            placed.withLock { $0.append(beep) }
                        }
                    }
                    guard let first = starts[event] else { continue }
                    StreamOrigin.addBeep(startingAt: first, frames: beepFrames, into: &buffer, written: written,
                                         channels: channels, rate: rate, frequency: frequency, amplitude: amplitude)
                }
                starts = starts.filter { $0.key >= nearest - 2 }
            }
            let clean = try buffer.withUnsafeBufferPointer { try stream.write($0.baseAddress!, frames: chunk) }
            written += Int64(chunk)
            if !clean {
                // The stream restarted: its origin moved.
                underruns.add(1, ordering: .relaxed)
                origin.reset()
                continue
            }
            origin.measure(written: written, rate: rate, clock: clock, delay: stream.delay)
        }
    }
}
