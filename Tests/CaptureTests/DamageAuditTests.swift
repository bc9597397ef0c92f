@testable import CaptureX11
import Testing

/// The DAMAGE check's bookkeeping, without a display: which changes it
/// blames on DAMAGE, which it excuses, and when it compares at all.
@Suite struct DamageAuditTests {
    /// A 200x100 frame of 4-byte pixels: 4x2 tiles of 64 (the last column
    /// and row partial).
    final class Frame {
        let width = 200, height = 100, bytesPerPixel = 4
        var bytes: [UInt8]
        init() { bytes = (0..<200 * 100 * 4).map { UInt8(truncatingIfNeeded: $0 &* 7) } }
        func paint(x: Int, y: Int) { bytes[(y * width + x) * bytesPerPixel] &+= 1 }
        func check(_ audit: DamageAudit) { bytes.withUnsafeBytes { audit.check($0.baseAddress!) } }
    }

    private func audit(_ frame: Frame) -> DamageAudit {
        DamageAudit(width: frame.width, height: frame.height, bytesPerPixel: frame.bytesPerPixel, interval: 60)
    }

    @Test func anUnreportedChangeIsBlamedWhereItIsAndAReportedOneIsNot() {
        let frame = Frame(), audit = audit(frame)
        // A new DAMAGE object reports the whole screen: the first check
        // still takes the reference.
        audit.mark(x: 0, y: 0, width: 200, height: 100)
        frame.check(audit)
        #expect(!audit.hasSuspects)
        // One pixel changes with its DAMAGE event, one without.
        frame.paint(x: 10, y: 10)
        audit.mark(x: 10, y: 10, width: 1, height: 1)
        frame.paint(x: 199, y: 99)
        frame.check(audit)
        #expect(audit.hasSuspects)
        #expect(audit.judge()! == (192, 64))
        #expect(!audit.hasSuspects)
    }

    @Test func aChangeWhoseEventComesAfterTheCheckIsExcused() {
        let frame = Frame(), audit = audit(frame)
        frame.check(audit)
        frame.paint(x: 70, y: 70)
        frame.check(audit)
        // The drawing's event is read by the next frame, after the check's grab.
        audit.mark(x: 64, y: 64, width: 8, height: 8)
        #expect(audit.hasSuspects && audit.judge() == nil)
    }

    @Test func fullMotionSkipsTheHashingAndStillCatchesAMissedChangeOnceItStops() {
        let frame = Frame(), audit = audit(frame)
        frame.check(audit)
        // Two checks with every tile reported: the second one skips.
        for _ in 0..<2 {
            audit.mark(x: 0, y: 0, width: 200, height: 100)
            frame.check(audit)
            #expect(!audit.hasSuspects)
        }
        #expect(!audit.hasReference)
        // The motion stops; the next check takes the reference, the one
        // after compares.
        frame.check(audit)
        #expect(audit.hasReference && !audit.hasSuspects)
        frame.paint(x: 100, y: 20)
        frame.check(audit)
        #expect(audit.judge()! == (64, 0))
    }

    @Test func aResetForgetsTheReference() {
        let frame = Frame(), audit = audit(frame)
        frame.check(audit)
        audit.reset()
        frame.paint(x: 5, y: 5)
        frame.check(audit)
        #expect(!audit.hasSuspects)
    }

    @Test func checksComeEveryIntervalFrames() {
        let frame = Frame()
        let audit = DamageAudit(width: frame.width, height: frame.height, bytesPerPixel: 4, interval: 3)
        #expect([audit.frameIsDue(), audit.frameIsDue(), audit.frameIsDue()] == [false, false, true])
        frame.check(audit)
        #expect([audit.frameIsDue(), audit.frameIsDue(), audit.frameIsDue()] == [false, false, true])
    }

    @Test func sixteenBitRowsThatEndBetweenWordsAreHashedToTheirLastByte() {
        // 198 pixels of 2 bytes: the last tile's rows are 12 bytes, a word
        // and 4 bytes hashed one by one.
        var bytes = [UInt8](repeating: 9, count: 198 * 20 * 2)
        let audit = DamageAudit(width: 198, height: 20, bytesPerPixel: 2, interval: 60)
        bytes.withUnsafeBytes { audit.check($0.baseAddress!) }
        bytes[(19 * 198 + 197) * 2 + 1] = 10
        bytes.withUnsafeBytes { audit.check($0.baseAddress!) }
        #expect(audit.judge()! == (192, 0))
    }
}
