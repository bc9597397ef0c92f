import Foundation

/// An X server of the test's own that can change size (RandR): Xtigervnc from
/// Debian's tigervnc-standalone-server, with MIT-SHM and DAMAGE like Xvfb.
/// Local only: no VNC port, no TCP, no authentication to set up.
public final class RandRServer: @unchecked Sendable {
    public let display: String
    private let process: ChildProcess
    private var stopped = false

    /// Starts Xtigervnc at `width`x`height` and `depth` (16 or 24) on a free
    /// display number (the server picks it: `-displayfd`). Throws when it
    /// does not come up.
    public init(width: Int, height: Int, depth: Int = 24, bench: TestBench) async throws {
        guard access("/usr/bin/Xtigervnc", X_OK) == 0 else { throw RandRServerMissing() }
        let displayFile = "\(try bench.scratchDirectory("xtigervnc"))/display"
        process = try ChildProcess(["bash", "-c",
            "exec Xtigervnc -displayfd 3 -geometry \(width)x\(height) -depth \(depth) -SecurityTypes None -localhost"
            + " -rfbport -1 -nolisten tcp -AlwaysShared 3>\(displayFile)"])
        var number = ""
        let deadline = Date().addingTimeInterval(10)
        while number.isEmpty && Date() < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
            number = (try? String(contentsOfFile: displayFile, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        guard !number.isEmpty else {
            process.send(SIGKILL)
            process.wait()
            throw RandRServerMissing(reason: "Xtigervnc did not report a display within 10 s")
        }
        display = ":\(number)"
    }

    /// Sets the screen size with `xrandr -s` (one of the sizes Xtigervnc
    /// lists: 1024x768, 1280x720, 1920x1080...).
    public func resize(width: Int, height: Int) throws {
        let result = try Subprocess.run(["xrandr", "-display", display, "-s", "\(width)x\(height)"])
        guard result.status == 0 else { throw RandRServerMissing(reason: "xrandr failed: \(result.standardError)") }
    }

    public func stop() {
        guard !stopped else { return }
        stopped = true
        process.send(SIGTERM)
        if process.wait(timeout: 5) == nil {
            process.send(SIGKILL)
            process.wait()
        }
    }

    deinit { stop() }
}

public struct RandRServerMissing: Error, CustomStringConvertible {
    public var reason = "Xtigervnc not found: install Debian's tigervnc-standalone-server and x11-xserver-utils (scripts/setup does)"
    public var description: String { reason }
}
