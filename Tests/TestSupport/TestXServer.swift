import Foundation

/// An extra Xvfb a test starts for itself (the bench has one), on a display
/// number the server picks (`-displayfd`), stopped when released.
public final class TestXServer: @unchecked Sendable {
    /// `:N`.
    public let display: String
    /// The server's process.
    public let process: ChildProcess

    /// Starts Xvfb with a `width`x`height`x`depth` screen and MIT-SHM;
    /// `arguments` are added (`-extension DAMAGE`...).
    public init(width: Int = 640, height: Int = 480, depth: Int = 24, arguments: [String] = []) throws {
        let pipe = Pipe()
        process = try ChildProcess(["Xvfb", "-displayfd", "1", "-screen", "0", "\(width)x\(height)x\(depth)",
                                    "-nolisten", "tcp", "-noreset"] + arguments,
                                   standardOutput: pipe.fileHandleForWriting.fileDescriptor)
        try pipe.fileHandleForWriting.close()
        // Xvfb writes the display number once it accepts connections.
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while !text.contains("\n") && Date() < deadline {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let number = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.send(SIGKILL)
            process.wait()
            throw TestXServerError.didNotStart(text)
        }
        display = ":\(number)"
    }

    deinit {
        process.send(SIGTERM)
        if process.wait(timeout: 5) == nil {
            process.send(SIGKILL)
            process.wait()
        }
    }
}

public enum TestXServerError: Error { case didNotStart(String) }
