import CALSA
public import CX11
import Foundation
public import MediaCore
import Synchronization

/// What a recorder in sync must put at the same time in its file: at each
/// given instant on the monotonic clock, a window over the recorded region
/// turns from black to white (for 200 ms) and a 1 kHz beep (80 ms, starting at
/// full amplitude) starts in a playback PCM.
///
/// The beep is placed to the sample in a continuous playback stream, as
/// `capbench avsync`'s probe does: once a stream runs, sample `s` is heard at
/// `t0 + s / rate` for one `t0`, estimated after every write as
/// `now - (written - delay) / rate` (`snd_pcm_delay` through the `pulse`
/// plugin includes the sound server's latency), the median of the last
/// hundred estimates. A stream the sound server broke (it was killed) is
/// opened again every 100 ms until it works, its estimates started afresh.
/// A beep is placed once fifty estimates are in.
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
    private let window: TestWindow
    private let width: Int, height: Int
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
        window = try TestWindow(displayName: display, x: 0, y: 0, width: width, height: height)
        self.width = width
        self.height = height
        self.playbackPCM = playbackPCM
        self.instants = instants
        window.fill(0x000000, x: 0, y: 0, width: width, height: height)
        window.sync()
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
        let rate = PlaybackStream.rate
        var lastLoud: Int64 = .min / 2
        while running.load(ordering: .acquiring) {
            guard let stream = CaptureStream(name: capturePCM) else {
                clock.sleep(until: clock.now() + 100_000_000)
                continue
            }
            var samples = [Int16](repeating: 0, count: 480 * 2)
            while running.load(ordering: .acquiring) {
                guard let read = samples.withUnsafeMutableBufferPointer({ stream.read($0.baseAddress!, frames: 480) }) else { break }
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
            guard sleep(until: instant, clock: clock) else { return }
            // A flash the thread woke too late for is skipped, not drawn late.
            guard clock.now() - instant < 5_000_000 else { continue }
            window.fill(0xFFFFFF, x: 0, y: 0, width: width, height: height)
            window.sync()
            flashed.withLock { $0.append(event) }
            guard sleep(until: instant + 200_000_000, clock: clock) else { break }
            window.fill(0x000000, x: 0, y: 0, width: width, height: height)
            window.sync()
        }
    }

    /// Sleeps until `deadline` in steps, so `stop()` is not held up; false when stopped.
    private func sleep(until deadline: Int64, clock: MonotonicClock) -> Bool {
        while running.load(ordering: .acquiring) {
            let now = clock.now()
            if now >= deadline { return true }
            clock.sleep(until: min(deadline, now + 50_000_000))
        }
        return false
    }

    private func beepLoop() {
        let clock = MonotonicClock()
        while running.load(ordering: .acquiring) {
            if let stream = PlaybackStream(name: playbackPCM) {
                play(stream, clock: clock)
            } else {
                clock.sleep(until: clock.now() + 100_000_000)
            }
        }
    }

    /// Plays silence and beeps into `stream` until stopped or the stream fails.
    private func play(_ stream: PlaybackStream, clock: MonotonicClock) {
        let rate = Int64(PlaybackStream.rate), chunk = PlaybackStream.rate / 100
        let beepFrames = Int64(0.08 * Double(rate))
        var buffer = [Int16](repeating: 0, count: chunk * 2)
        var written: Int64 = 0
        var estimates: [Int64] = []
        var starts: [Int: Int64] = [:]  // event -> first sample of its beep
        while running.load(ordering: .acquiring) {
            for index in buffer.indices { buffer[index] = 0 }
            if estimates.count >= 50 {
                let sorted = estimates.sorted()
                let origin = sorted[sorted.count / 2]
                for (event, instant) in instants.enumerated() where starts[event] == nil {
                    let sample = Int64((Double(instant - origin) * Double(rate) / 1e9).rounded())
                    // Placed only while its start is still ahead of what is written.
                    if sample >= written && sample < written + Int64(chunk) {
                        starts[event] = sample
                        placed.withLock { $0.append(Beep(event: event, originSpread: sorted.last! - sorted.first!)) }
                    }
                }
                for (_, first) in starts {
                    let from = max(first, written), to = min(first + beepFrames, written + Int64(chunk))
                    guard from < to else { continue }
                    for sample in from..<to {
                        let phase = 2 * Double.pi * 1000 * Double(sample - first) / Double(rate)
                        let value = Int16(0.5 * 32767 * cos(phase))
                        let offset = Int(sample - written) * 2
                        buffer[offset] = value
                        buffer[offset + 1] = value
                    }
                }
            }
            guard let clean = buffer.withUnsafeBufferPointer({ stream.write($0.baseAddress!, frames: chunk) }) else { return }
            written += Int64(chunk)
            if !clean {
                estimates.removeAll()
                continue
            }
            let before = clock.now()
            let delay = stream.delay()
            let after = clock.now()
            if let delay, after - before < 1_000_000 {
                let now = before + (after - before) / 2
                estimates.append(now - (written - Int64(delay)) * 1_000_000_000 / rate)
                if estimates.count > 100 { estimates.removeFirst() }
            }
        }
    }
}

/// One open capture PCM, interleaved S16 stereo at 48 kHz, non-blocking
/// reads after a wait of at most 100 ms; closed when released.
private final class CaptureStream {
    private let pcm: OpaquePointer

    init?(name: String) {
        var handle: OpaquePointer?
        guard snd_pcm_open(&handle, name, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK) >= 0, let handle else { return nil }
        guard snd_pcm_set_params(handle, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 2,
                                 UInt32(PlaybackStream.rate), 1, 200_000) >= 0, snd_pcm_start(handle) >= 0 else {
            snd_pcm_close(handle)
            return nil
        }
        pcm = handle
    }

    deinit { snd_pcm_close(pcm) }

    /// Waits up to 100 ms and reads what is there (up to `frames`): the frames
    /// read, the clock just after, the frames still waiting; nil when the
    /// stream failed.
    func read(_ samples: UnsafeMutablePointer<Int16>, frames: Int) -> (frames: Int, time: Int64, waiting: Int)? {
        let status = snd_pcm_wait(pcm, 100)
        if status < 0 && snd_pcm_recover(pcm, status, 1) < 0 { return nil }
        let read = snd_pcm_readi(pcm, samples, snd_pcm_uframes_t(frames))
        if read == -snd_pcm_sframes_t(EAGAIN) { return (0, 0, 0) }
        if read < 0 {
            if snd_pcm_recover(pcm, Int32(read), 1) < 0 || snd_pcm_start(pcm) < 0 { return nil }
            return (0, 0, 0)
        }
        let time = MonotonicClock().now()
        let waiting = max(0, Int(snd_pcm_avail(pcm)))
        return (Int(read), time, waiting)
    }
}

/// One open playback PCM, interleaved S16 stereo at 48 kHz, 100 ms of
/// latency; closed when released.
private final class PlaybackStream {
    static let rate = 48_000
    private let pcm: OpaquePointer

    init?(name: String) {
        var handle: OpaquePointer?
        guard snd_pcm_open(&handle, name, SND_PCM_STREAM_PLAYBACK, 0) >= 0, let handle else { return nil }
        guard snd_pcm_set_params(handle, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 2,
                                 UInt32(Self.rate), 1, 100_000) >= 0 else {
            snd_pcm_close(handle)
            return nil
        }
        pcm = handle
    }

    deinit { snd_pcm_close(pcm) }

    /// Writes all `frames`: true when clean, false when an underrun had to
    /// be recovered (the stream's timing moved), nil when the stream failed.
    func write(_ samples: UnsafePointer<Int16>, frames: Int) -> Bool? {
        var done = 0, clean = true
        while done < frames {
            let result = snd_pcm_writei(pcm, samples + done * 2, snd_pcm_uframes_t(frames - done))
            if result >= 0 {
                done += Int(result)
                continue
            }
            clean = false
            if snd_pcm_recover(pcm, Int32(result), 1) < 0 { return nil }
        }
        return clean
    }

    /// Frames written but not yet heard; nil on error.
    func delay() -> Int? {
        var frames: snd_pcm_sframes_t = 0
        return snd_pcm_delay(pcm, &frames) >= 0 ? Int(frames) : nil
    }
}
