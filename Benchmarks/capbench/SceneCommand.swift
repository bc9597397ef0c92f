import ArgumentParser
import CX11
import Foundation
import MediaCore

/// `capbench scene` (hidden): shows pre-rendered frames of a moving scene on
/// an X display at a steady rate until killed. The benchmarks run it as a
/// child process, one per display.
///
/// Why not ffplay showing `testsrc2` live: at 1280x720 ffplay costs about
/// 0.6 CPU-s/s per display (generating, converting and drawing through SDL's
/// software renderer), twice a recorder's own cost; with several displays on
/// two cores the scenes, not the recorders, would set the limit. Replaying
/// the same `testsrc2` frames with `XPutImage` gives the recorders the same
/// picture to grab and encode for a small part of that.
struct SceneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scene", abstract: "Replays raw BGRA frames on an X display (used by the benchmarks).",
        shouldDisplay: false)

    @Option(help: "X display.") var display: String
    @Option(help: "Raw frames, bgr0 (B, G, R, X bytes), WxH each.") var frames: String
    @Option(help: "Frame size WxH.") var size: String
    @Option(help: "Frames per second.") var fps = 30

    /// Writes `count` frames of ffmpeg's `testsrc2` at `size` as raw bgr0 for `--frames`.
    static func writeFrames(size: FrameSize, count: Int, to path: String) throws {
        let child = try BenchChild(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
                                    "-i", "testsrc2=size=\(size):rate=30", "-frames:v", "\(count)",
                                    "-pix_fmt", "bgr0", "-f", "rawvideo", path], standardError: path + ".err")
        guard child.wait().status == 0 else { throw BenchFailure("ffmpeg could not write the scene (see \(path).err)") }
    }

    func run() throws {
        let frame = try FrameSize(parsing: size)
        let frameBytes = frame.width * frame.height * 4
        let fd = open(frames, O_RDONLY)
        guard fd >= 0 else { throw BenchFailure("cannot open \(frames)") }
        var status = stat()
        fstat(fd, &status)
        let mappedBytes = Int(status.st_size), count = mappedBytes / frameBytes
        guard count > 0, let mapping = mmap(nil, mappedBytes, PROT_READ, MAP_SHARED, fd, 0), mapping != MAP_FAILED else {
            throw BenchFailure("\(frames) holds no \(frame) frame")
        }
        close(fd)
        guard let connection = XOpenDisplay(display) else { throw BenchFailure("cannot open X display \(display)") }
        let screen = XDefaultScreen(connection)
        let window = XCreateSimpleWindow(connection, XRootWindow(connection, screen), 0, 0, UInt32(frame.width),
                                         UInt32(frame.height), 0, 0, 0)
        var attributes = XSetWindowAttributes()
        attributes.override_redirect = 1
        XChangeWindowAttributes(connection, window, UInt(CWOverrideRedirect), &attributes)
        XMapRaised(connection, window)
        let gc = XCreateGC(connection, window, 0, nil)
        // The image borrows the mapped frames: its data pointer moves from
        // frame to frame, and it is never destroyed (that would free them).
        guard let image = XCreateImage(connection, XDefaultVisual(connection, screen), 24, ZPixmap, 0,
                                       mapping.assumingMemoryBound(to: CChar.self), UInt32(frame.width),
                                       UInt32(frame.height), 32, Int32(frame.width * 4)) else {
            throw BenchFailure("XCreateImage refused a \(frame) image")
        }
        let clock = MonotonicClock()
        let start = clock.now()
        var index: Int64 = 0
        while true {
            image.pointee.data = (mapping + Int(index % Int64(count)) * frameBytes).assumingMemoryBound(to: CChar.self)
            XPutImage(connection, window, gc, image, 0, 0, 0, 0, UInt32(frame.width), UInt32(frame.height))
            // Wait for the server each frame, so a busy server slows the scene
            // rather than queueing frames behind it.
            XSync(connection, 0)
            index += 1
            clock.sleep(until: start + index * 1_000_000_000 / Int64(fps))
        }
    }
}
