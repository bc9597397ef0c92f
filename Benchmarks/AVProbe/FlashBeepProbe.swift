import Foundation
import MediaCore
import Synchronization

/// What a recorder in sync must put at the same time in its file: at each
/// given instant on the monotonic clock, a window over the recorded region
/// turns from black to white (for 200 ms) and a 1 kHz beep (80 ms, starting at
/// full amplitude) starts in a playback PCM.
///
/// The beep is placed to the sample in a continuous playback stream, as
/// `SyncProbe`'s `BeepPlayer` does (`StreamOrigin`). A stream the sound
/// server broke (it was killed) is opened again every 100 ms until it
/// works, its origin estimated afresh.
///
/// How close a beep really came to its instant is measured independently of
/// any recorder: a plain capture of the sound server's monitor (raw ALSA
/// reads, each stamped by the clock after the read less what waits in the
/// buffer, no timeline) finds each beep's onset. `beepErrors` gives, per
/// event, that onset less the instant: a recorder in sync puts the beep that
/// much after the flash, so what a recorder added is its offset less that.
/// The sound server's own timing under load moves a beep by tens of
/// milliseconds now and then (measured here: the playback stream's origin
/// estimate spread over 40 ms after a restarted server, while the machine
/// ran other builds); this takes that out.
public final class FlashBeepProbe: @unchecked Sendable {
    /// One beep as placed in the stream.
    public struct Beep: Sendable {
        /// Index into the instants.
        public var event: Int
        /// The `t0` estimate's spread (max - min of the last estimates), ns:
        /// how far the placement may be off.
        public var originSpread: Int64
    }

    public let instants: [Int64]
    private let window: FlashWindow
    private let playbackPCM: String
    private let capturePCM: String
    /// Beep onsets the plain capture heard, clock ns.
    private let heard = Mutex<[Int64]>([])
    private let running = Atomic<Bool>(false)
    private let placed = Mutex<[Beep]>([])
    private let flashed = Mutex<[Int]>([])
    private var threads: [MediaThread] = []

    /// Opens a black window of `width`x`height` at the top left of `display`.
    /// `capturePCM` records what `playbackPCM` plays into (the sink's monitor).
    public init(display: String, width: Int, height: Int, playbackPCM: String, capturePCM: String,
                instants: [Int64]) throws {
        self.capturePCM = capturePCM
        window = try FlashWindow(displayName: display, width: width, height: height, region: .whole)
        self.playbackPCM = playbackPCM
        self.instants = instants
    }

    public func start() {
        running.store(true, ordering: .releasing)
        // Real-time where permitted, as the grabber: a machine busy with the
        // recording (and other builds) must not make a flash late.
        threads = [MediaThread(role: "probe-flash", priority: .realTimeIfPermitted) { [self] in flashLoop() },
                   MediaThread(role: "probe-beep", priority: .realTimeIfPermitted) { [self] in beepLoop() },
                   MediaThread(role: "probe-hear", priority: .realTimeIfPermitted) { [self] in hearLoop() }]
    }

    /// What the probe did.
    public struct Report: Sendable {
        /// The beeps placed.
        public var beeps: [Beep]
        /// The flashes drawn (event indices).
        public var flashes: [Int]
        /// Per event, the beep's onset as the plain capture heard it less
        /// its instant, seconds (events it did not hear are missing).
        public var beepErrors: [Int: Double]
    }

    /// Stops every side; what they did.
    public func stop() -> Report {
        running.store(false, ordering: .releasing)
        for thread in threads { thread.join() }
        threads = []
        var errors: [Int: Double] = [:]
        for onset in heard.withLock({ $0 }) {
            guard let event = instants.indices.min(by: { abs(instants[$0] - onset) < abs(instants[$1] - onset) }),
                  abs(instants[event] - onset) < 300_000_000 else { continue }
            errors[event] = Double(onset - instants[event]) / 1e9
        }
        return Report(beeps: placed.withLock { $0 }, flashes: flashed.withLock { $0 }, beepErrors: errors)
    }

    /// The plain capture: reads the monitor as it comes, stamps each read,
    /// and notes where a beep starts (a sample over 0.15, half the beep's
    /// amplitude of 0.5 scaled by 0.3, after a quarter second below that).
    private func hearLoop() {
        let clock = MonotonicClock()
        let rate = Self.rate
        var lastLoud: Int64 = .min / 2
        while running.load(ordering: .acquiring) {
            guard let stream = try? ALSAStream(name: capturePCM, capture: true, sampleRate: rate, channels: 2, latency: 0.2,
                                               nonBlocking: true) else {
                clock.sleep(until: clock.now() + 100_000_000)
                continue
            }
            var samples = [Int16](repeating: 0, count: 480 * 2)
            while running.load(ordering: .acquiring) {
                guard let read = samples.withUnsafeMutableBufferPointer({ stream.readWaiting(into: $0.baseAddress!, frames: 480) }) else { break }
                guard read.frames > 0 else { continue }
                // The read's first frame was captured this long before now.
                let first = read.time - Int64(read.waiting + read.frames) * 1_000_000_000 / Int64(rate)
                for frame in 0..<read.frames where abs(Int(samples[frame * 2])) > 4915 {
                    let time = first + Int64(frame) * 1_000_000_000 / Int64(rate)
                    if time - lastLoud > 250_000_000 { heard.withLock { $0.append(time) } }
                    lastLoud = time
                }
            }
        }
    }

    private func flashLoop() {
        let clock = MonotonicClock()
        for (event, instant) in instants.enumerated() {
            guard clock.sleep(until: instant, step: 50_000_000, while: running) else { return }
            // A flash the thread woke too late for is skipped, not drawn late.
            guard clock.now() - instant < 5_000_000 else { continue }
            window.fill(level: 255)
            flashed.withLock { $0.append(event) }
            guard clock.sleep(until: instant + 200_000_000, step: 50_000_000, while: running) else { break }
            window.fill(level: 0)
        }
    }

    private func beepLoop() {
        let clock = MonotonicClock()
        while running.load(ordering: .acquiring) {
            if let stream = try? ALSAStream(name: playbackPCM, capture: false, sampleRate: Self.rate, channels: 2, latency: 0.1) {
                play(stream, clock: clock)
            } else {
                clock.sleep(until: clock.now() + 100_000_000)
            }
        }
    }

    /// Plays silence and beeps into `stream` until stopped or the stream fails.
    private func play(_ stream: ALSAStream, clock: MonotonicClock) {
        let rate = Int64(Self.rate), chunk = Self.rate / 100
        let beepFrames = Int64(0.08 * Double(rate))
        var buffer = [Int16](repeating: 0, count: chunk * 2)
        var written: Int64 = 0
        var origin = StreamOrigin()
        var starts: [Int: Int64] = [:]  // event -> first sample of its beep
        while running.load(ordering: .acquiring) {
            for index in buffer.indices { buffer[index] = 0 }
            if origin.isSettled {
                let t0 = origin.value
                for (event, instant) in instants.enumerated() where starts[event] == nil {
                    let sample = Int64((Double(instant - t0) * Double(rate) / 1e9).rounded())
                    // Placed only while its start is still ahead of what is written.
                    if sample >= written && sample < written + Int64(chunk) {
                        starts[event] = sample
                        placed.withLock { $0.append(Beep(event: event, originSpread: origin.spread)) }
                    }
                }
                for (_, first) in starts {
                    StreamOrigin.addBeep(startingAt: first, frames: beepFrames, into: &buffer, written: written,
                                         channels: 2, rate: rate)
                }
            }
            guard let clean = buffer.withUnsafeBufferPointer({ try? stream.write($0.baseAddress!, frames: chunk) }) else { return }
            written += Int64(chunk)
            if !clean {
                origin.reset()
                continue
            }
            origin.measure(written: written, rate: rate, clock: clock, delay: stream.delay)
        }
    }

    /// Both streams: interleaved S16 stereo at 48 kHz.
    private static let rate = 48_000
}
