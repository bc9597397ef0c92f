import Foundation
import Testing
import TestSupport

/// The sound-alone check's tone limit (`RecordedOutputChecks`), on files
/// ffmpeg makes with a known pitch: it passes the tone within 1 Hz and fails
/// one off by more, so a recorder that bends the pitch is caught (the
/// engine's drift correction once made 440 Hz 442-444 Hz for seconds).
@Suite struct ToneCheckTests {
    @Test(arguments: [(440.0, true), (440.6, true), (439.4, true), (441.2, false), (442.2, false), (438.8, false)])
    func theToneIsCheckedWithinOneHertz(frequency: Double, passes: Bool) throws {
        let directory = NSTemporaryDirectory() + "tone-check-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/tone.m4a"
        let made = try Subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi",
                                       "-i", "sine=frequency=\(frequency):sample_rate=48000:duration=4,volume=4",
                                       "-c:a", "aac", "-ar", "44100", "-movflags", "+faststart", path])
        try #require(made.status == 0, "\(made.standardError)")
        let problems = try RecordedOutputChecks.soundAloneProblems(path, tone: 440, seconds: 4)
        let toneProblems = problems.filter { $0.hasPrefix("tone at") }
        #expect(toneProblems.isEmpty == passes, "\(frequency) Hz: \(problems)")
        #expect(problems.count == toneProblems.count, "\(frequency) Hz: \(problems)")
    }
}
