import Foundation
import MediaCore
package import Synchronization

/// Ramps a grey region of the screen from black to white and plays a beep
/// into the loopback, both starting at the same instant on the monotonic
/// clock, about once a second (see `ProbeSchedule`), for as long as it runs:
/// what a recorder in sync must put at the same time in its file. Every
/// step of every ramp is stamped (`ProbeRamp`), so the picture's real timing
/// is known, not assumed.
package final class SyncProbe: @unchecked Sendable {
    package let schedule: ProbeSchedule
    private let window: FlashWindow
    private let beeps: BeepPlayer
    private let running = Atomic<Bool>(false)
    private let ramps = Mutex<[ProbeRamp]>([])
    /// Whether the flash thread runs under real-time scheduling.
    package let realTime = Atomic<Bool>(false)
    private var flashThread: MediaThread?

    /// Opens the window (black) and the playback PCM. The first event comes
    /// about `lead` seconds after `start()`.
    package init(display: String, width: Int, height: Int, playbackPCM: String, lead: Double = 3) throws {
        window = try FlashWindow(displayName: display, width: width, height: height)
        schedule = ProbeSchedule(start: MonotonicClock().now() + Int64(lead * 1e9), jitter: 400_000_000)
        beeps = try BeepPlayer(device: playbackPCM, schedule: schedule)
    }

    package func start() {
        running.store(true, ordering: .releasing)
        beeps.start()
        flashThread = MediaThread(role: "probe-flash") { [self] in flashLoop() }
    }

    /// Bytes the ramps' records hold (every step of every ramp, about 6 KB a
    /// ramp, one ramp a second): memory of this process that grows with the
    /// run and is not the recorder's (`capbench soak` takes it off the RSS).
    package var recordBytes: Int {
        ramps.withLock { $0.reduce($0.capacity * MemoryLayout<ProbeRamp>.stride) {
            $0 + $1.steps.capacity * MemoryLayout<ProbeRamp.Step>.stride
        } }
    }

    /// Stops both sides; what they did.
    package func stop() -> (ramps: [ProbeRamp], beeps: [BeepPlayer.Beep], underruns: Int, error: String?) {
        running.store(false, ordering: .releasing)
        flashThread?.join()
        flashThread = nil
        let audio = beeps.stop()
        return (ramps.withLock { $0 }, audio.beeps, audio.underruns, audio.error)
    }

    private func flashLoop() {
        realTime.store(RealTimePriority.request(), ordering: .relaxed)
        let clock = MonotonicClock()
        var event = 0
        while running.load(ordering: .acquiring) {
            let instant = schedule.time(of: event)
            guard clock.sleep(until: instant, step: 100_000_000, while: running) else { return }
            // Never flash late: a ramp the thread woke too late for is skipped,
            // and the analysis then finds no picture for that beep.
            if clock.now() - instant < 5_000_000 {
                let steps = ramp(from: instant, clock: clock)
                ramps.withLock { $0.append(ProbeRamp(event: event, scheduled: instant, steps: steps)) }
                guard clock.sleep(until: instant + Int64(ProbeRamp.litSeconds * 1e9), step: 100_000_000, while: running) else { break }
                window.fill(level: 0)
            }
            event += 1
        }
        window.fill(level: 0)
    }

    /// Draws one ramp: every `ProbeRamp.stepNanoseconds` the level the
    /// nominal ramp has at that moment (read from the clock, so a late step
    /// catches up rather than stretching the ramp), redrawn only when it
    /// changed, until white. Returns the steps as drawn.
    private func ramp(from instant: Int64, clock: MonotonicClock) -> [ProbeRamp.Step] {
        let length = ProbeRamp.seconds * 1e9, step = ProbeRamp.stepNanoseconds
        var steps: [ProbeRamp.Step] = []
        steps.reserveCapacity(256)
        var last: UInt8 = 0
        while last < 255 {
            let requested = clock.now()
            let level = UInt8(min(255, max(0, (Double(requested - instant) / length * 255).rounded())))
            if level != last {
                window.fill(level: level)
                steps.append(ProbeRamp.Step(level: level, requested: requested, drawn: clock.now()))
                last = level
            }
            clock.sleep(until: instant + ((clock.now() - instant) / step + 1) * step)
        }
        return steps
    }
}
