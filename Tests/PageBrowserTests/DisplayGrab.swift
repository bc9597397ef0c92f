import Foundation
import TestSupport

/// What an X display shows, grabbed with ffmpeg's x11grab as 8-bit RGB.
struct DisplayGrab {
    let width: Int
    let height: Int
    let rgb: [UInt8]

    /// The screen's size (`xdotool getdisplaygeometry`).
    static func screenSize(display: String) throws -> (width: Int, height: Int) {
        let result = try Subprocess.run(["xdotool", "getdisplaygeometry"], environment: ["DISPLAY": display, "PATH": "/usr/bin:/bin"])
        let numbers = result.standardOutput.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        guard result.status == 0, numbers.count == 2 else { throw FixtureError.failed("xdotool getdisplaygeometry: \(result.standardError)") }
        return (numbers[0], numbers[1])
    }

    /// The whole screen of `display`, written to a file in `directory` and read back.
    init(display: String, directory: String) throws {
        let size = try Self.screenSize(display: display)
        let path = "\(directory)/grab-\(UUID().uuidString.prefix(8)).rgb"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "0", "-video_size", "\(size.width)x\(size.height)",
                                         "-i", "\(display)+0,0", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-y", path])
        guard result.status == 0, let data = FileManager.default.contents(atPath: path), data.count == size.width * size.height * 3 else {
            throw FixtureError.failed("ffmpeg x11grab of \(display): \(result.standardError)")
        }
        width = size.width
        height = size.height
        rgb = [UInt8](data)
    }

    func pixel(_ x: Int, _ y: Int) -> UInt32 {
        let offset = (y * width + x) * 3
        return UInt32(rgb[offset]) << 16 | UInt32(rgb[offset + 1]) << 8 | UInt32(rgb[offset + 2])
    }

    /// How many pixels of the rectangle differ from `color` by more than `tolerance` in a channel.
    func mismatches(x: Int, y: Int, width: Int, height: Int, color: UInt32, tolerance: Int = 3) -> Int {
        var count = 0
        for row in y..<(y + height) {
            for column in x..<(x + width) where !Self.near(pixel(column, row), color, tolerance) { count += 1 }
        }
        return count
    }

    static func near(_ a: UInt32, _ b: UInt32, _ tolerance: Int) -> Bool {
        [16, 8, 0].allSatisfy { abs(Int(a >> $0 & 0xFF) - Int(b >> $0 & 0xFF)) <= tolerance }
    }
}
