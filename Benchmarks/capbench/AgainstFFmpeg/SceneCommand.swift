import ArgumentParser
import CX11
import Foundation
import HostProcesses
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
    @Option(help: "Show each frame this many seconds (0: one frame per tick). A still slide: a large value.")
    var holdSeconds = 0.0
    @Option(help: "Raw bgr0 frames replayed in a tile over the held frames (a video on a still page).")
    var tileFrames: String?
    @Option(help: "Tile size WxH.") var tileSize = "320x240"
    @Option(help: "Tile's top-left corner X,Y.") var tileAt = "800,400"
    @Flag(help: "Draw the held frame again every tick, the same pixels (as a player showing a still picture does).")
    var repaint = false

    /// Writes `count` frames of ffmpeg's `testsrc2` (or another lavfi
    /// `source`, at `rate` frames per second of its own) at `size` as raw
    /// bgr0 for `--frames`.
    static func writeFrames(size: FrameSize, count: Int, to path: String, source: String = "testsrc2", rate: Int = 30) throws {
        let child = try ChildProcess(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
                                    "-i", "\(source)=size=\(size):rate=\(rate)", "-frames:v", "\(count)",
                                    "-pix_fmt", "bgr0", "-f", "rawvideo", path], standardError: .file(path + ".err"))
        guard child.wait().status == 0 else { throw BenchFailure("ffmpeg could not write the scene (see \(path).err)") }
    }

    func run() throws {
        let frame = try FrameSize(parsing: size)
        let (mapping, count) = try Self.map(frames, frameBytes: frame.width * frame.height * 4)
        var tile: (mapping: UnsafeMutableRawPointer, count: Int, size: FrameSize, x: Int32, y: Int32)?
        if let tileFrames {
            let tileFrame = try FrameSize(parsing: tileSize)
            let place = tileAt.split(separator: ",").compactMap { Int32($0) }
            guard place.count == 2 else { throw BenchFailure("--tile-at must be X,Y") }
            let (tileMapping, tileCount) = try Self.map(tileFrames, frameBytes: tileFrame.width * tileFrame.height * 4)
            tile = (tileMapping, tileCount, tileFrame, place[0], place[1])
        }
        guard let connection = XOpenDisplay(display) else { throw BenchFailure("cannot open X display \(display)") }
        let screen = XDefaultScreen(connection)
        let window = XCreateSimpleWindow(connection, XRootWindow(connection, screen), 0, 0, UInt32(frame.width),
                                         UInt32(frame.height), 0, 0, 0)
        var attributes = XSetWindowAttributes()
        attributes.override_redirect = 1
        XChangeWindowAttributes(connection, window, UInt(CWOverrideRedirect), &attributes)
        XMapRaised(connection, window)
        let gc = XCreateGC(connection, window, 0, nil)
        // The images borrow the mapped frames: their data pointers move from
        // frame to frame, and they are never destroyed (that would free them).
        func image(_ base: UnsafeMutableRawPointer, _ size: FrameSize) throws -> UnsafeMutablePointer<XImage> {
            guard let image = XCreateImage(connection, XDefaultVisual(connection, screen), 24, ZPixmap, 0,
                                           base.assumingMemoryBound(to: CChar.self), UInt32(size.width),
                                           UInt32(size.height), 32, Int32(size.width * 4)) else {
                throw BenchFailure("XCreateImage refused a \(size) image")
            }
            return image
        }
        let full = try image(mapping, frame)
        let tileImage = try tile.map { try image($0.mapping, $0.size) }
        let clock = MonotonicClock()
        let start = clock.now()
        var index: Int64 = 0
        var shown = -1
        while true {
            let elapsed = Double(clock.now() - start) / 1e9
            let current = holdSeconds > 0 ? Int(elapsed / holdSeconds) % count : Int(index % Int64(count))
            var drew = false
            if current != shown || repaint {
                full.pointee.data = (mapping + current * frame.width * frame.height * 4).assumingMemoryBound(to: CChar.self)
                XPutImage(connection, window, gc, full, 0, 0, 0, 0, UInt32(frame.width), UInt32(frame.height))
                shown = current
                drew = true
            }
            if let tile, let tileImage {
                let bytes = tile.size.width * tile.size.height * 4
                tileImage.pointee.data = (tile.mapping + Int(index % Int64(tile.count)) * bytes).assumingMemoryBound(to: CChar.self)
                XPutImage(connection, window, gc, tileImage, 0, 0, tile.x, tile.y, UInt32(tile.size.width), UInt32(tile.size.height))
                drew = true
            }
            // Wait for the server each frame drawn, so a busy server slows the
            // scene rather than queueing frames behind it; a still scene sends
            // nothing at all.
            if drew { XSync(connection, 0) }
            index += 1
            clock.sleep(until: start + index * 1_000_000_000 / Int64(fps))
        }
    }

    /// Maps a file of raw frames of `frameBytes` each; the mapping and how many frames it holds.
    private static func map(_ path: String, frameBytes: Int) throws -> (UnsafeMutableRawPointer, Int) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BenchFailure("cannot open \(path)") }
        defer { close(fd) }
        var status = stat()
        fstat(fd, &status)
        let mappedBytes = Int(status.st_size), count = mappedBytes / frameBytes
        guard count > 0, let mapping = mmap(nil, mappedBytes, PROT_READ, MAP_SHARED, fd, 0), mapping != MAP_FAILED else {
            throw BenchFailure("\(path) holds no frame of \(frameBytes) bytes")
        }
        return (mapping, count)
    }
}
