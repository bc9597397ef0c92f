@testable import CaptureX11
import Foundation
import MediaCore
import Testing
import TestSupport

/// `ServerFramebuffer` on real servers: the bench's Xvfb runs with `-shmem`,
/// and what the segment holds is what the server gives (`XShmGetImage`);
/// an Xvfb without `-shmem`, or with `-fbdir`, is not read in place
/// (`DisplayCaptureTests`).
@Suite(.serialized, .tags(.bench)) struct ServerFramebufferTests {
    @Test func theBenchsXvfbIsReadInPlaceAndItsSegmentHoldsTheServersPixels() throws {
        let bench = try TestBench.current()
        let window = try TestWindow(displayName: bench.display, x: 100, y: 80, width: 400, height: 300)
        defer { withExtendedLifetime(window) {} }
        window.fill(0xFF0000, x: 0, y: 0, width: 200, height: 150)
        window.fill(0x00FF00, x: 200, y: 150, width: 200, height: 150)
        window.fill(0xFFFFFF, x: 11, y: 13, width: 1, height: 1)
        window.sync()
        let connection = try DisplayConnection(name: bench.display, answerTimeout: 5_000_000_000)
        let framebuffer = try #require(ServerFramebuffer.attach(connection))
        #expect(framebuffer.width == 1920 && framebuffer.height == 1080 && framebuffer.bytesPerPixel == 4)
        #expect(framebuffer.bytesPerRow >= 1920 * 4)

        let capture = try DisplayCapture(
            configuration: DisplayCaptureConfiguration(display: bench.display, method: .sharedMemory),
            clock: MonotonicClock(), counters: MediaCounters())
        #expect(!capture.readsFramebuffer, "a method asked for by name is used as named")
        let automatic = try DisplayCapture(configuration: DisplayCaptureConfiguration(display: bench.display),
                                           clock: MonotonicClock(), counters: MediaCounters())
        #expect(automatic.readsFramebuffer && automatic.method == .sharedMemory)
        let frame = try capture.grabFrame()
        var differingRows = 0
        for row in 0..<1080 where memcmp(framebuffer.pixels + row * framebuffer.bytesPerRow,
                                         frame.buffer.baseAddress + row * frame.bytesPerRow, 1920 * 4) != 0 {
            differingRows += 1
        }
        #expect(differingRows == 0)
        let marker = framebuffer.pixels.load(fromByteOffset: (80 + 13) * framebuffer.bytesPerRow + (100 + 11) * 4,
                                             as: UInt32.self)
        #expect(marker & 0xFFFFFF == 0xFFFFFF)
    }
}
