import CX11
import Foundation
import Synchronization

/// A deterministic scene for damage-driven capture, drawn in a 640x360
/// window at the top left of a display, one step every 100 ms:
///
/// - a static part (a background colour and a fixed block),
/// - a small moving square (32x32, red, 12 px to the right each step),
/// - a full-window change every 20 steps (2 s): a new background colour,
/// - a scrolling "text" area (rows of glyph-like bars scrolling up 4 px a step),
/// - the step number in binary in 8 cells at the top left, so each picture
///   of a recording says which step it shows.
///
/// Each step is drawn under `XGrabServer`, so a grab (one request) sees a
/// step whole or not at all: recordings of the scene can be compared
/// picture by picture, paired by step.
public final class DamageScene: @unchecked Sendable {
    public static let width = 640, height = 360
    public static let stepNanoseconds: UInt64 = 100_000_000
    /// Backgrounds, one per 2 s, with distinct luma.
    public static let palette: [UInt32] = [0x404040, 0x2060A0, 0xA0A040, 0x206020, 0x808080, 0x602080]
    public static let squareColour: UInt32 = 0xFF0000
    public static let blockColour: UInt32 = 0x00C0C0
    public static let block = (x: 500, y: 150, width: 100, height: 60)
    public static let textArea = (x: 40, y: 250, width: 400, height: 96)

    private let window: TestWindow
    private let step = Atomic<Int>(0)
    private let running = Atomic<Bool>(true)
    private var thread: Thread?

    public static func background(step: Int) -> UInt32 { palette[(step / 20) % palette.count] }
    /// The square's top-left corner at `step`.
    public static func square(step: Int) -> (x: Int, y: Int) { (40 + (step * 12) % 400, 120) }
    /// The ID cell `bit`'s top-left corner.
    public static func cell(_ bit: Int) -> (x: Int, y: Int) { (8 + 14 * bit, 8) }

    /// Opens the window and draws step 0; `start()` steps on.
    public init(display: String) throws {
        window = try TestWindow(displayName: display, x: 0, y: 0, width: Self.width, height: Self.height)
        draw(step: 0, previous: nil)
    }

    /// Steps every 100 ms from now on (absolute deadlines), on a thread of its own.
    public func start() {
        let thread = Thread { [self] in
            var deadline = DispatchTime.now().uptimeNanoseconds
            var current = 0
            while running.load(ordering: .acquiring) {
                deadline += Self.stepNanoseconds
                var now = DispatchTime.now().uptimeNanoseconds
                // Late by over half a step (a busy machine): start the step
                // schedule afresh rather than catch up, so that no step lasts
                // less than half a step and every 30 fps recorder sees each.
                if now > deadline - Self.stepNanoseconds / 2 { deadline = now + Self.stepNanoseconds / 2 }
                now = DispatchTime.now().uptimeNanoseconds
                if deadline > now { usleep(UInt32((deadline - now) / 1000)) }
                current += 1
                draw(step: current, previous: current - 1)
                step.store(current, ordering: .releasing)
            }
        }
        self.thread = thread
        thread.start()
    }

    /// The last step drawn.
    public var currentStep: Int { step.load(ordering: .acquiring) }

    public func stop() {
        running.store(false, ordering: .releasing)
        while thread != nil && !(thread?.isFinished ?? true) { usleep(10_000) }
    }

    deinit { stop() }

    private func draw(step: Int, previous: Int?) {
        let display = window.display
        XGrabServer(display)
        let background = Self.background(step: step)
        if previous == nil || step % 20 == 0 {
            window.fill(background, x: 0, y: 0, width: Self.width, height: Self.height)
            window.fill(Self.blockColour, x: Self.block.x, y: Self.block.y, width: Self.block.width, height: Self.block.height)
            let area = Self.textArea
            window.fill(0xFFFFFF, x: area.x, y: area.y, width: area.width, height: area.height)
            // The ID cells' frame.
            window.fill(0x000000, x: 4, y: 4, width: 8 * 14 + 4, height: 20)
        } else if let previous {
            let old = Self.square(step: previous)
            window.fill(background, x: old.x, y: old.y, width: 32, height: 32)
        }
        let square = Self.square(step: step)
        window.fill(Self.squareColour, x: square.x, y: square.y, width: 32, height: 32)
        // Scroll the text area up 4 px and write a new row of glyphs.
        let area = Self.textArea
        XCopyArea(display, window.window, window.window, window.gc, Int32(area.x), Int32(area.y + 4),
                  UInt32(area.width), UInt32(area.height - 4), Int32(area.x), Int32(area.y))
        window.fill(0xFFFFFF, x: area.x, y: area.y + area.height - 4, width: area.width, height: 4)
        for glyph in 0..<20 where (step * 7 + glyph * 3) % 5 != 0 {
            window.fill(0x101010, x: area.x + 4 + glyph * 19, y: area.y + area.height - 4, width: 12 + (step + glyph) % 5, height: 3)
        }
        for bit in 0..<8 {
            let cell = Self.cell(bit)
            window.fill((step >> bit) & 1 == 1 ? 0xFFFFFF : 0x000000, x: cell.x, y: cell.y, width: 12, height: 12)
        }
        XUngrabServer(display)
        XSync(display, 0)
    }

    /// The step a decoded grey (luma) picture of the scene's size shows,
    /// read from its ID cells.
    public static func step(inLuma luma: UnsafePointer<UInt8>, width: Int) -> Int {
        var value = 0
        for bit in 0..<8 {
            let cell = Self.cell(bit)
            if luma[(cell.y + 6) * width + cell.x + 6] > 128 { value |= 1 << bit }
        }
        return value
    }

    /// The BT.601 luma of 0xRRGGBB on a 0-255 scale: what a decoder gives
    /// for it as full-range grey (`ffmpeg -pix_fmt gray`).
    public static func luma(_ colour: UInt32) -> Int {
        let r = Double(colour >> 16 & 0xFF), g = Double(colour >> 8 & 0xFF), b = Double(colour & 0xFF)
        return Int((0.299 * r + 0.587 * g + 0.114 * b).rounded())
    }
}
