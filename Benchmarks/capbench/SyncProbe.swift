import Foundation
import MediaCore
import Synchronization

/// Shows a white flash on the screen and plays a beep into the loopback at
/// the same instant on the monotonic clock, about once a second (see
/// `ProbeSchedule`), for as long as it runs: what a recorder in sync must
/// put at the same time in its file.
final class SyncProbe: @unchecked Sendable {
    /// One flash as shown.
    struct Flash {
        var event: Int
        /// The event's instant, ns.
        var scheduled: Int64
        /// When the thread asked for the white fill, ns: the flash is not in
        /// the framebuffer before this.
        var requested: Int64
        /// When the X server had drawn it (`XSync` returned), ns: the flash
        /// is in the framebuffer no later than this.
        var drawn: Int64

        /// The flash's best-known time on screen, less its instant, seconds:
        /// the middle of [requested, drawn], within half that interval.
        var error: Double { (Double(requested + drawn) / 2 - Double(scheduled)) / 1e9 }
    }

    let schedule: ProbeSchedule
    /// How long each flash stays white.
    let flashSeconds = 0.3
    private let window: FlashWindow
    private let beeps: BeepPlayer
    private let running = Atomic<Bool>(false)
    private let flashes = Mutex<[Flash]>([])
    /// Whether the flash thread runs under real-time scheduling.
    let realTime = Atomic<Bool>(false)
    private var flashThread: MediaThread?

    /// Opens the window (black) and the playback PCM. The first event comes
    /// about `lead` seconds after `start()`.
    init(display: String, width: Int, height: Int, playbackPCM: String, lead: Double = 3) throws {
        window = try FlashWindow(displayName: display, width: width, height: height)
        schedule = ProbeSchedule(start: MonotonicClock().now() + Int64(lead * 1e9), jitter: 400_000_000)
        beeps = try BeepPlayer(device: playbackPCM, schedule: schedule)
    }

    func start() {
        running.store(true, ordering: .releasing)
        beeps.start()
        flashThread = MediaThread(name: "probe-flash") { [self] in flashLoop() }
    }

    /// Stops both sides; what they did.
    func stop() -> (flashes: [Flash], beeps: [BeepPlayer.Beep], underruns: Int, error: String?) {
        running.store(false, ordering: .releasing)
        flashThread?.join()
        flashThread = nil
        let audio = beeps.stop()
        return (flashes.withLock { $0 }, audio.beeps, audio.underruns, audio.error)
    }

    private func flashLoop() {
        realTime.store(RealTimePriority.request(), ordering: .relaxed)
        let clock = MonotonicClock()
        var event = 0
        while running.load(ordering: .acquiring) {
            let instant = schedule.time(of: event)
            guard sleep(until: instant, clock: clock) else { return }
            // Never flash late: a flash the thread woke too late for is skipped,
            // and the analysis then finds no picture for that beep.
            let requested = clock.now()
            if requested - instant < 5_000_000 {
                window.fill(white: true)
                let drawn = clock.now()
                flashes.withLock { $0.append(Flash(event: event, scheduled: instant, requested: requested, drawn: drawn)) }
                guard sleep(until: instant + Int64(flashSeconds * 1e9), clock: clock) else { break }
                window.fill(white: false)
            }
            event += 1
        }
        window.fill(white: false)
    }

    /// Sleeps until `deadline` in steps, so that `stop()` is not held up;
    /// false when stopped meanwhile.
    private func sleep(until deadline: Int64, clock: MonotonicClock) -> Bool {
        while running.load(ordering: .acquiring) {
            let now = clock.now()
            if now >= deadline { return true }
            clock.sleep(until: min(deadline, now + 100_000_000))
        }
        return false
    }
}
