import CX11
import Foundation
import Synchronization

/// A window that paints the same picture again and again, whole, as a
/// player showing a still image does (`ffplay -loop 0 slide.png`): a
/// background, a block and, once `mark()` is called, one white pixel.
/// Each repaint is drawn under `XGrabServer`, so a grab never sees one half
/// done: every repaint but the one after `mark()` leaves the same pixels.
public final class RepaintingWindow: @unchecked Sendable {
    public static let background: UInt32 = 0x3060C0
    public static let blockColour: UInt32 = 0xFFFF00
    public static let block = (x: 100, y: 100, width: 300, height: 200)
    /// The pixel `mark()` turns white (window coordinates).
    public static let marked = (x: 501, y: 251)

    public let width: Int
    public let height: Int
    private let window: TestWindow
    private let running = Atomic<Bool>(true)
    private let marks = Atomic<Bool>(false)
    private let repaintCount = Atomic<Int>(0)
    private let finished = Atomic<Bool>(false)

    /// Maps a `width`x`height` window at the top left of `display`, paints it
    /// once, and repaints it `perSecond` times a second on a thread of its own.
    public init(display: String, width: Int, height: Int, perSecond: Int) throws {
        self.width = width
        self.height = height
        window = try TestWindow(displayName: display, x: 0, y: 0, width: width, height: height)
        paint()
        let thread = Thread { [self] in
            let interval = UInt64(1_000_000_000 / perSecond)
            var deadline = DispatchTime.now().uptimeNanoseconds
            while running.load(ordering: .acquiring) {
                deadline += interval
                let now = DispatchTime.now().uptimeNanoseconds
                if deadline > now { usleep(UInt32((deadline - now) / 1000)) } else { deadline = now }
                paint()
                repaintCount.add(1, ordering: .relaxed)
            }
            finished.store(true, ordering: .releasing)
        }
        thread.start()
    }

    /// Repaints made so far.
    public var repaints: Int { repaintCount.load(ordering: .relaxed) }

    /// From the next repaint on, `marked` is white.
    public func mark() { marks.store(true, ordering: .releasing) }

    public func stop() {
        running.store(false, ordering: .releasing)
        while !finished.load(ordering: .acquiring) { usleep(5_000) }
    }

    deinit { stop() }

    private func paint() {
        XGrabServer(window.display)
        window.fill(Self.background, x: 0, y: 0, width: width, height: height)
        window.fill(Self.blockColour, x: Self.block.x, y: Self.block.y, width: Self.block.width, height: Self.block.height)
        if marks.load(ordering: .acquiring) {
            window.fill(0xFFFFFF, x: Self.marked.x, y: Self.marked.y, width: 1, height: 1)
        }
        XUngrabServer(window.display)
        XSync(window.display, 0)
    }
}
