@testable import CaptureX11
import Foundation
import HostProcesses
import MediaCore
import Synchronization
import Testing
import TestSupport

/// A window at (100, 80), 400x300, with four coloured quadrants and a 2x2 white
/// marker at window (10, 10).
private let windowOrigin = (x: 100, y: 80)
private let quadrantColors: [(x: Int, y: Int, color: UInt32)] = [
    (0, 0, 0xFF0000), (200, 0, 0x00FF00), (0, 150, 0x0000FF), (200, 150, 0xFFFF00),
]

private func drawScene(on display: String) throws -> TestWindow {
    let window = try TestWindow(displayName: display, x: windowOrigin.x, y: windowOrigin.y, width: 400, height: 300)
    for quadrant in quadrantColors {
        window.fill(quadrant.color, x: quadrant.x, y: quadrant.y, width: 200, height: 150)
    }
    window.fill(0xFFFFFF, x: 10, y: 10, width: 2, height: 2)
    window.sync()
    return window
}

@Suite(.serialized, .tags(.bench)) struct DisplayCaptureTests {
    @Test(arguments: [GrabMethod.sharedMemory, .getImage])
    func fullScreenCaptureReturnsTheDrawnPixels(method: GrabMethod) throws {
        let bench = try TestBench.current()
        let window = try drawScene(on: bench.display)
        defer { withExtendedLifetime(window) {} }
        let capture = try DisplayCapture(
            configuration: DisplayCaptureConfiguration(display: bench.display, method: method),
            clock: MonotonicClock(), counters: MediaCounters())
        #expect(capture.method == method)
        let frame = try capture.grabFrame()
        #expect(frame.width == 1920 && frame.height == 1080)
        for quadrant in quadrantColors {
            let x = windowOrigin.x + quadrant.x + 100, y = windowOrigin.y + quadrant.y + 75
            #expect(frame.pixel(x: x, y: y) & 0xFFFFFF == quadrant.color, "pixel at \(x),\(y)")
        }
        #expect(frame.pixel(x: windowOrigin.x + 10, y: windowOrigin.y + 10) & 0xFFFFFF == 0xFFFFFF)
        #expect(frame.pixel(x: windowOrigin.x + 12, y: windowOrigin.y + 10) & 0xFFFFFF == 0xFF0000)
        // Outside the window: Xvfb's black root.
        #expect(frame.pixel(x: 5, y: 5) & 0xFFFFFF == 0)
    }

    @Test(arguments: [GrabMethod.sharedMemory, .getImage])
    func regionCaptureReturnsThePixelsAtTheirPlaces(method: GrabMethod) throws {
        let bench = try TestBench.current()
        let window = try drawScene(on: bench.display)
        defer { withExtendedLifetime(window) {} }
        // The region starts exactly at the white marker.
        let region = try CaptureRegion(parsing: "320x240+\(windowOrigin.x + 10)+\(windowOrigin.y + 10)")
        let capture = try DisplayCapture(
            configuration: DisplayCaptureConfiguration(display: bench.display, region: region, method: method),
            clock: MonotonicClock(), counters: MediaCounters())
        let frame = try capture.grabFrame()
        #expect(frame.width == 320 && frame.height == 240)
        #expect(frame.pixel(x: 0, y: 0) & 0xFFFFFF == 0xFFFFFF)
        #expect(frame.pixel(x: 1, y: 1) & 0xFFFFFF == 0xFFFFFF)
        #expect(frame.pixel(x: 2, y: 0) & 0xFFFFFF == 0xFF0000)
        #expect(frame.pixel(x: 200, y: 10) & 0xFFFFFF == 0x00FF00)  // window x 210: green quadrant
        #expect(frame.pixel(x: 10, y: 150) & 0xFFFFFF == 0x0000FF)  // window y 160: blue quadrant
        #expect(frame.pixel(x: 300, y: 200) & 0xFFFFFF == 0xFFFF00)
    }

    @Test func automaticPrefersSharedMemoryOnALocalServer() throws {
        let bench = try TestBench.current()
        let capture = try DisplayCapture(configuration: DisplayCaptureConfiguration(display: bench.display),
                                         clock: MonotonicClock(), counters: MediaCounters())
        #expect(capture.method == .sharedMemory)
    }

    /// The bench's Xvfb runs with `-shmem`: `.automatic` reads it in place
    /// (a method asked for by name is used as named), and its segment holds
    /// what the server gives (`XShmGetImage`), row for row.
    @Test func theBenchsXvfbIsReadInPlaceAndItsSegmentHoldsTheServersPixels() throws {
        let bench = try TestBench.current()
        let window = try drawScene(on: bench.display)
        defer { withExtendedLifetime(window) {} }
        let connection = try DisplayConnection(name: bench.display, answerTimeout: 5_000_000_000)
        let framebuffer = try #require(ServerFramebuffer.attach(connection))
        #expect(framebuffer.width == 1920 && framebuffer.height == 1080 && framebuffer.bytesPerPixel == 4)
        #expect(framebuffer.bytesPerRow >= 1920 * 4)
        let automatic = try DisplayCapture(configuration: DisplayCaptureConfiguration(display: bench.display),
                                           clock: MonotonicClock(), counters: MediaCounters())
        #expect(automatic.readsFramebuffer && automatic.method == .sharedMemory)
        let capture = try DisplayCapture(
            configuration: DisplayCaptureConfiguration(display: bench.display, method: .sharedMemory),
            clock: MonotonicClock(), counters: MediaCounters())
        #expect(!capture.readsFramebuffer)
        let frame = try capture.grabFrame()
        var differingRows = 0
        for row in 0..<1080 where memcmp(framebuffer.pixels + row * framebuffer.bytesPerRow,
                                         frame.buffer.baseAddress + row * frame.bytesPerRow, 1920 * 4) != 0 {
            differingRows += 1
        }
        #expect(differingRows == 0)
        func pixel(_ x: Int, _ y: Int) -> UInt32 {
            framebuffer.pixels.load(fromByteOffset: y * framebuffer.bytesPerRow + x * 4, as: UInt32.self) & 0xFFFFFF
        }
        for quadrant in quadrantColors {
            let x = windowOrigin.x + quadrant.x + 100, y = windowOrigin.y + quadrant.y + 75
            #expect(pixel(x, y) == quadrant.color, "pixel at \(x),\(y)")
        }
        #expect(pixel(windowOrigin.x + 10, windowOrigin.y + 10) == 0xFFFFFF)
    }

    /// An Xvfb without `-shmem`, or whose `-fbdir` comes after it (the
    /// screen is then a file), has no segment to read: grabs ask the server.
    @Test func anXvfbWithoutAScreenSegmentIsNotReadInPlace() async throws {
        let bench = try TestBench.current()
        for extra in ["", "-shmem -fbdir \(try bench.scratchDirectory("fbdir-inplace"))"] {
            let server = try await OwnXvfb(extraArguments: extra)
            defer { server.stop() }
            let capture = try DisplayCapture(configuration: DisplayCaptureConfiguration(display: server.display),
                                             clock: MonotonicClock(), counters: MediaCounters())
            #expect(!capture.readsFramebuffer && capture.method == .sharedMemory, "Xvfb \(extra)")
        }
    }

    @Test func pacesThirtyFramesPerSecondOnTheClock() async throws {
        let bench = try TestBench.current()
        let counters = MediaCounters()
        let clock = MonotonicClock()
        let capture = try DisplayCapture(
            configuration: DisplayCaptureConfiguration(display: bench.display, region: CaptureRegion(width: 1280, height: 720)),
            clock: clock, counters: counters)
        let started = clock.now()
        capture.start { event in Issue.record("capture failed: \(event)") }
        var stamps: [Int64] = []
        stamps.reserveCapacity(200)
        while clock.now() - started < 4 * Int64.nanosecondsPerSecond {
            while let frame = capture.frames.pop() { stamps.append(frame.captureTime) }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        capture.stop()
        while let frame = capture.frames.pop() { stamps.append(frame.captureTime) }
        let elapsed = Double(clock.now() - started) / 1e9
        #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $0 < $1 }, "timestamps must increase")
        let spacings = zip(stamps, stamps.dropFirst()).map { Double($1 - $0) / 1e6 }.sorted()
        let median = spacings[spacings.count / 2]
        #expect(abs(median - 1000.0 / 30) < 2, "median spacing \(median) ms")
        #expect(abs(Double(stamps.count) - elapsed * 30) <= 3, "\(stamps.count) frames in \(elapsed) s")
        #expect(counters.videoFramesDroppedQueueFull.load() == 0)
    }

    @Test func aStalledConsumerCostsDroppedFramesNotMemory() throws {
        let bench = try TestBench.current()
        let counters = MediaCounters()
        let capture = try DisplayCapture(
            configuration: DisplayCaptureConfiguration(display: bench.display, region: CaptureRegion(width: 640, height: 480),
                                                       queueCapacity: 4),
            clock: MonotonicClock(), counters: counters)
        capture.start { event in Issue.record("capture failed: \(event)") }
        Thread.sleep(forTimeInterval: 1.0)  // nobody pops
        capture.stop()
        // Four queued frames at most: the pool of 4 + 2 runs out first.
        #expect(capture.frames.approximateCount <= 4)
        #expect(counters.videoFramesDroppedQueueFull.load() >= 20)
        #expect(counters.videoFramesCaptured.load() >= 25)
        #expect(capture.pool.count == 6, "the pool never grows")
    }

    /// Issue 21 item 8: the slots a backlog filled give their pages back
    /// once it has cleared (`BufferPool.trim`, every `slotTrimSeconds`):
    /// the segments' resident bytes as the kernel counts them fall to the
    /// slots a steady capture still uses.
    @Test func aBacklogsSlotsGiveTheirPagesBackOnceItClears() async throws {
        let bench = try TestBench.current()
        let counters = MediaCounters()
        var configuration = DisplayCaptureConfiguration(display: bench.display, region: CaptureRegion(width: 640, height: 480),
                                                        method: .sharedMemory, queueCapacity: 4, tracksDamage: false)
        configuration.slotTrimSeconds = 1
        let capture = try DisplayCapture(configuration: configuration, clock: MonotonicClock(), counters: counters)
        let slot = 640 * 480 * 4
        func resident() -> Int {
            SharedMemorySegments.created(by: getpid()).reduce(0) { $0 + $1.residentBytes }
        }
        capture.start { event in Issue.record("capture failed: \(event)") }
        defer { capture.stop() }
        // Nobody pops: the queue's 4 slots fill, then a fifth is grabbed into
        // and dropped.
        var deadline = ContinuousClock.now + .seconds(5)
        while counters.videoFramesDroppedQueueFull.load() == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let backlog = resident()
        #expect(backlog >= 5 * slot, "\(backlog) bytes resident with the queue full")
        // A steady consumer from now on: one or two slots in use, two kept.
        deadline = ContinuousClock.now + .seconds(5)
        var steady = backlog
        while ContinuousClock.now < deadline {
            while let frame = capture.frames.pop() { _ = consume frame }
            steady = resident()
            if steady <= 3 * slot { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(steady <= 3 * slot, "\(steady) bytes still resident (\(backlog) in the backlog)")
        // And the capture goes on into the slots given back.
        let captured = counters.videoFramesCaptured.load()
        deadline = ContinuousClock.now + .seconds(5)
        while counters.videoFramesCaptured.load() < captured + 30 && ContinuousClock.now < deadline {
            while let frame = capture.frames.pop() { _ = consume frame }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(counters.videoFramesCaptured.load() >= captured + 30)
    }

    /// Issue 10: no thread body keeps its owner alive. A capture released
    /// while its thread runs is deinitialized (which stops and joins the
    /// thread), and so is one released after `stop()`.
    @Test(arguments: [true, false])
    func aReleasedCaptureIsDeinitializedAndItsThreadEnds(stopsFirst: Bool) async throws {
        let bench = try TestBench.current()
        let counters = MediaCounters()
        let tag = stopsFirst ? "relstop" : "relrun"
        func grabThreads() -> [String] {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
                .filter { $0.hasPrefix("grab:\(tag)") }
        }
        weak var weakCapture: DisplayCapture<MonotonicClock>?
        do {
            let capture = try DisplayCapture(
                configuration: DisplayCaptureConfiguration(display: bench.display, region: CaptureRegion(width: 320, height: 240)),
                clock: MonotonicClock(), counters: counters)
            weakCapture = capture
            capture.start(context: MediaThread.Context(tag: tag)) { event in Issue.record("capture failed: \(event)") }
            let deadline = Date().addingTimeInterval(10)
            while counters.videoFramesCaptured.load() < 3 && Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
            #expect(counters.videoFramesCaptured.load() >= 3)
            #expect(grabThreads().count == 1, "the grab thread runs")
            if stopsFirst { capture.stop() }
        }
        #expect(weakCapture == nil, "the capture outlived its last reference")
        #expect(grabThreads().isEmpty, "the grab thread still runs: \(grabThreads())")
        let captured = counters.videoFramesCaptured.load()
        try await Task.sleep(nanoseconds: 150_000_000)
        #expect(counters.videoFramesCaptured.load() == captured, "frames still grabbed after the release")
    }

    @Test func badDisplayAndRegionsAreRefusedByName() throws {
        let bench = try TestBench.current()
        #expect {
            _ = try DisplayCapture(configuration: DisplayCaptureConfiguration(display: ":987"),
                                   clock: MonotonicClock(), counters: MediaCounters())
        } throws: { error in "\(error)".contains("':987'") && "\(error)".contains("cannot open") }

        for (text, reason) in [("0x480+0+0", "positive"), ("641x480", "even"), ("640x481+0+0", "even"),
                               ("640x480+0", "WxH+X+Y"), ("big", "WxH+X+Y"), ("640x480+-1+0", "negative")] {
            #expect { _ = try CaptureRegion(parsing: text) } throws: { error in
                "\(error)".contains("'\(text)'") && "\(error)".contains(reason)
            }
        }
        let offScreen = try CaptureRegion(parsing: "1280x720+1000+0")
        #expect {
            _ = try DisplayCapture(configuration: DisplayCaptureConfiguration(display: bench.display, region: offScreen),
                                   clock: MonotonicClock(), counters: MediaCounters())
        } throws: { error in
            error as? InvalidSetting == InvalidSetting(.region, value: "1280x720+1000+0", reason: "leaves the 1920x1080 screen")
        }
        #expect {
            _ = try DisplayCapture(configuration: DisplayCaptureConfiguration(display: bench.display, framesPerSecond: 0),
                                   clock: MonotonicClock(), counters: MediaCounters())
        } throws: { error in (error as? InvalidSetting)?.key == .fps && "\(error)".contains("'0'") }
    }

    @Test func automaticFallsBackToGetImageWithoutMITSHM() async throws {
        let server = try await OwnXvfb(extraArguments: "-extension MIT-SHM")
        defer { server.stop() }
        let capture = try DisplayCapture(configuration: DisplayCaptureConfiguration(display: server.display),
                                         clock: MonotonicClock(), counters: MediaCounters())
        #expect(capture.method == .getImage)
        let frame = try capture.grabFrame()
        #expect(frame.width == 640 && frame.height == 480)
        #expect {
            _ = try DisplayCapture(configuration: DisplayCaptureConfiguration(display: server.display, method: .sharedMemory),
                                   clock: MonotonicClock(), counters: MediaCounters())
        } throws: { error in "\(error)".contains("MIT-SHM is not available") }
    }

    /// An X server started without -noreset resets when its last client
    /// leaves. The opening's xcb probe used to disconnect before XOpenDisplay
    /// connected, and XOpenDisplay then raced that reset: 14-21 of 200 opens
    /// failed ("cannot open") on an Xvfb of its own, 0 with -noreset. Opens
    /// one after another, each the server's only client.
    @Test func aServerThatResetsWhenItsLastClientLeavesOpensEveryTime() async throws {
        let server = try await OwnXvfb()
        defer { server.stop() }
        var failures: [String] = []
        for _ in 0..<50 {
            do {
                let capture = try DisplayCapture(configuration: DisplayCaptureConfiguration(display: server.display),
                                                 clock: MonotonicClock(), counters: MediaCounters())
                withExtendedLifetime(capture) {}
            } catch {
                failures.append("\(error)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of 50 opens failed: \(failures.first ?? "")")
    }

    @Test func aServerThatGoesAwayEndsCaptureWithAnErrorEvent() async throws {
        let server = try await OwnXvfb()
        defer { server.stop() }
        let capture = try DisplayCapture(configuration: DisplayCaptureConfiguration(display: server.display, framesPerSecond: 30),
                                         clock: MonotonicClock(), counters: MediaCounters())
        let failure = Mutex<String?>(nil)
        capture.start { event in
            if case let .failed(error) = event { failure.withLock { $0 = "\(error)" } }
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        server.stop()
        for _ in 0..<100 where capture.isRunning { try await Task.sleep(nanoseconds: 20_000_000) }
        #expect(!capture.isRunning)
        capture.stop()
        let message = failure.withLock { $0 }
        #expect(message?.contains("connection to the X server lost") == true, "\(String(describing: message))")
        while let frame = capture.frames.pop() { _ = consume frame }
    }
}

/// An Xvfb of the test's own (640x480), for tests that change or kill the server.
private final class OwnXvfb {
    let process: ChildProcess
    let display: String

    init(extraArguments: String = "") async throws {
        let bench = try TestBench.current()
        let displayFile = "\(try bench.scratchDirectory("xvfb"))/display"
        process = try ChildProcess(["bash", "-c",
            "exec Xvfb -displayfd 3 -screen 0 640x480x24 -nolisten tcp \(extraArguments) 3>\(displayFile)"])
        var number = ""
        for _ in 0..<100 where number.isEmpty {
            try await Task.sleep(nanoseconds: 50_000_000)
            number = (try? String(contentsOfFile: displayFile, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        display = ":\(number)"
    }

    func stop() {
        process.send(SIGKILL)
        process.wait()
    }
}
