import Foundation
import HostProcesses

/// The reference meeting pages (`Benchmarks/meetings/`: a 2x2 grid of
/// moving tiles, a still slide with one small moving speaker tile, each
/// with a WebAudio tone; `tile.webm`, the tiles' looping video: 2 s of
/// ffmpeg's testsrc2 at 640x360, 30 fps, VP8 400k, made by `make-tile.sh`)
/// served over HTTP on loopback by a `python3 -m http.server` child.
final class MeetingPages {
    enum Kind: String, CaseIterable {
        case grid, slide
    }

    let directory: String
    let port: Int
    private let server: ChildProcess

    /// The committed pages, found from this source file's place in the repository.
    static let sourceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("meetings").path

    /// Copies the pages from `source` into `directory` and starts the server.
    /// - Throws: `BenchFailure` when a file is missing or the server does not answer within 10 s.
    init(source: String, directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["grid.html", "slide.html", "meeting.js", "tile.webm"] {
            guard FileManager.default.fileExists(atPath: "\(source)/\(name)") else {
                throw BenchFailure("--pages-directory: no \(name) in \(source)")
            }
            try FileManager.default.copyItem(atPath: "\(source)/\(name)", toPath: "\(directory)/\(name)")
        }
        port = try Self.freePort()
        server = try ChildProcess(["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory, "\(port)"],
                                  standardOutput: .null, standardError: .file("\(directory)/../http.log"))
        let deadline = Date().addingTimeInterval(10)
        while (try? BenchTools.output(["curl", "-sf", "-o", "/dev/null", url(.grid)])) == nil {
            guard Date() < deadline else { throw BenchFailure("the page server on port \(port) did not answer within 10 s") }
            usleep(100_000)
        }
    }

    func url(_ kind: Kind) -> String { "http://127.0.0.1:\(port)/\(kind.rawValue).html" }

    /// The daemon's `pageAllowList` entry for this server.
    var allowPattern: String { "http://127\\.0\\.0\\.1:\(port)/.*" }

    /// A loopback TCP port free now (bound to port 0, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw BenchFailure("no free loopback port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { server.stop(grace: 1) }
}
