import Foundation
import MediaCore
import Synchronization

/// The probe's pure audio capture: reads the capture PCM in 10 ms periods on
/// its own thread for the whole benchmark, finds each beep's first sample as
/// it goes (nothing else is kept, so it can run for hours) and stamps every
/// period on the clock. No encoder, no ring, no resampler: only the loopback
/// and the stamping. It runs beside the recorders (PulseAudio gives every
/// reader of the monitor the same samples), so every beep of the run, those
/// the recorders heard included, has a time as a capture adding nothing
/// stamps it.
///
/// Stamping: the clock after the read, less the frames just read and those
/// still waiting (`snd_pcm_avail`), with the call bracketed by two clock
/// readings. That is the usual method for a capture PCM (and the engine's);
/// the results show what it leaves on this loopback.
package final class RawPCMCapture: @unchecked Sendable {
    /// Beep onsets (sample indices) and, per period, (first sample index, clock ns).
    package struct Recording {
        package var sampleRate: Int
        package var onsets: [Int] = []
        package var stamps: [(index: Int, time: Int64)] = []
        package var overruns = 0

        /// Clock time of sample `index`. Each period's stamp carries the
        /// scheduling jitter of its read; the median over the second around
        /// it (a hundred periods) does not, and follows any slow drift.
        package func time(ofSample index: Int) -> Int64? {
            guard let first = stamps.first, index >= first.index else { return nil }
            var low = 0, high = stamps.count - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if stamps[middle].index <= index { low = middle } else { high = middle - 1 }
            }
            let nanosecondsPerSample = 1e9 / Double(sampleRate)
            let window = stamps[max(0, low - 50)...min(stamps.count - 1, low + 50)]
            let origins = window.map { Double($0.time) - Double($0.index) * nanosecondsPerSample }.sorted()
            return Int64(origins[origins.count / 2] + Double(index) * nanosecondsPerSample)
        }

        /// Every beep's first sample as stamped, clock seconds.
        package var beepTimes: [Double] { onsets.compactMap { time(ofSample: $0).map { Double($0) / 1e9 } } }
    }

    /// A sample this loud (of full scale, mono) starts a beep: the probe plays
    /// its beeps at half scale, nothing else plays into the bench's loopback.
    package let threshold: Float = 0.15
    private let stream: ALSAStream
    private let running = Atomic<Bool>(false)
    private let result: Mutex<Recording>
    private let failure = Mutex<String?>(nil)
    private var thread: MediaThread?
    /// Bytes the stamps and onsets hold so far (16 bytes a period, 100
    /// periods a second): see `SyncProbe.recordBytes`.
    private let recorded = Atomic<Int>(0)
    package var recordBytes: Int { recorded.load(ordering: .relaxed) }

    package init(device: String) throws {
        stream = try ALSAStream(name: device, capture: true, sampleRate: 48_000, channels: 2, latency: 0.1)
        result = Mutex(Recording(sampleRate: 48_000))
    }

    package func start() {
        running.store(true, ordering: .releasing)
        thread = MediaThread(role: "probe-capture") { [self] in
            RealTimePriority.request()
            do { try capture() } catch { failure.withLock { $0 = "\(error)" } }
        }
    }

    package func stop() throws -> Recording {
        running.store(false, ordering: .releasing)
        thread?.join()
        thread = nil
        if let error = failure.withLock({ $0 }) { throw ProbeFailure(error) }
        return result.withLock { $0 }
    }

    private func capture() throws {
        let clock = MonotonicClock()
        let period = stream.sampleRate / 100, channels = stream.channels
        let quiet = stream.sampleRate / 4
        let level = Int(threshold * Float(channels) * 32768)
        var buffer = [Int16](repeating: 0, count: period * channels)
        var local = Recording(sampleRate: stream.sampleRate)
        var sampleIndex = 0, lastLoud = Int.min / 2
        while running.load(ordering: .acquiring) {
            let clean = try buffer.withUnsafeMutableBufferPointer { try stream.read(into: $0.baseAddress!, frames: period) }
            let before = clock.now()
            let waiting = stream.available() ?? 0
            let after = clock.now()
            if !clean { local.overruns += 1 }
            let now = before + (after - before) / 2
            local.stamps.append((sampleIndex, now - Int64(waiting + period) * 1_000_000_000 / Int64(stream.sampleRate)))
            for frame in 0..<period {
                var sum = 0
                for channel in 0..<channels { sum += Int(buffer[frame * channels + channel]) }
                if abs(sum) >= level {
                    if sampleIndex + frame - lastLoud > quiet { local.onsets.append(sampleIndex + frame) }
                    lastLoud = sampleIndex + frame
                }
            }
            sampleIndex += period
            recorded.store(local.stamps.capacity * MemoryLayout<(index: Int, time: Int64)>.stride
                           + local.onsets.capacity * MemoryLayout<Int>.stride, ordering: .relaxed)
        }
        result.withLock { $0 = local }
    }
}
