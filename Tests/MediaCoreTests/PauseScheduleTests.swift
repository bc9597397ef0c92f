import MediaCore
import Testing

/// The paused stretches of a timeline and the questions the media threads
/// ask of them.
@Suite struct PauseScheduleTests {
    @Test func cutsFallOnUnitsAtOrAfterTheTimeAskedFor() throws {
        let schedule = PauseSchedule(unitRate: 30)
        // 3.0 s is slot 90 exactly; 3.01 s rounds up to 91.
        #expect(try schedule.pause(atNanoseconds: 3_000_000_000) == .init(start: 90, end: nil))
        #expect(schedule.isPaused)
        #expect(throws: PauseSchedule.Refusal.alreadyPaused) { try schedule.pause(atNanoseconds: 4_000_000_000) }
        #expect(try schedule.resume(atNanoseconds: 6_010_000_000) == .init(start: 90, end: 181))
        #expect(throws: PauseSchedule.Refusal.notPaused) { try schedule.resume(atNanoseconds: 7_000_000_000) }
        // A resume at or before the pause's start undoes it.
        _ = try schedule.pause(atNanoseconds: 9_000_000_000)
        #expect(try schedule.resume(atNanoseconds: 8_990_000_000) == nil)
        #expect(schedule.snapshot == [.init(start: 90, end: 181)])
        // A pause never starts before the last one ended.
        _ = try schedule.pause(atNanoseconds: 5_000_000_000)
        #expect(schedule.snapshot.last == .init(start: 181, end: nil))
    }

    @Test func theViewAnswersInUnitsAndInAnotherRate() throws {
        let schedule = PauseSchedule(unitRate: 30)
        var view = PauseView(schedule)
        let nothing = view.refresh()
        #expect(!nothing || view.intervals.isEmpty)
        _ = try schedule.pause(atNanoseconds: 3_000_000_000)      // slot 90
        _ = try schedule.resume(atNanoseconds: 6_000_000_000)     // slot 180
        _ = try schedule.pause(atNanoseconds: 9_000_000_000)      // slot 270
        let changed = view.refresh(), again = view.refresh()
        #expect(changed && !again)
        #expect(!view.isPaused(89) && view.isPaused(90) && view.isPaused(179) && !view.isPaused(180))
        #expect(view.isPaused(100_000))
        #expect(view.pausedBefore(90) == 0 && view.pausedBefore(100) == 10 && view.pausedBefore(200) == 90)
        #expect(view.pausedBefore(300) == 120)
        // The same cuts at 44.1 kHz: slot 90 is sample 132300, exactly.
        #expect(view.run(at: 0, rate: 44_100) == (false, 132_300))
        #expect(view.run(at: 132_300, rate: 44_100) == (true, 264_600))
        #expect(view.run(at: 264_600, rate: 44_100) == (false, 396_900))
        #expect(view.run(at: 400_000, rate: 44_100) == (true, .max))
        #expect(view.pausedBefore(300_000, rate: 44_100) == 132_300)
        // 5 s recorded (220500 samples) end past the first pause; the open
        // second one starts before 10 s recorded would be reached.
        #expect(view.limitPosition(recorded: 220_500, rate: 44_100) == 352_800)
        #expect(view.limitPosition(recorded: 441_000, rate: 44_100) == nil)
    }
}
