import Foundation

/// What headless Chromium's `<video>` makes of a file: its duration, and
/// whether it seeks and plays on from there. A minimal helper (the
/// `finalize` branch is building a fuller one): a page loads the file,
/// seeks, plays briefly, and writes the result into the DOM that
/// `--dump-dom` prints.
public struct ChromiumPlayback: Sendable {
    public let duration: Double
    public let width: Int
    /// Where the element reported itself after seeking to the asked time.
    public let seekedTo: Double
    /// Where playback had got to once it moved on from there (or after 5 s).
    public let playedTo: Double

    /// Plays `path` in headless Chromium, seeking to `seekTo` seconds.
    public init(path: String, seekTo: Double) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let page = "\(directory)/play-\(UUID().uuidString.prefix(8)).html"
        let html = """
            <html><body><div id="out">pending</div><video id="v" muted preload="auto" src="\(name)"></video><script>
            const v = document.getElementById('v'), out = document.getElementById('out'); const r = {};
            v.addEventListener('error', () => { out.textContent = 'error ' + (v.error && v.error.code); });
            v.addEventListener('loadedmetadata', () => { r.duration = v.duration; r.width = v.videoWidth; v.currentTime = \(seekTo); });
            v.addEventListener('seeked', () => { r.seekedTo = v.currentTime;
              // Playing on: wait (up to 5 s) until the position moves, then report.
              let polls = 0;
              const poll = () => { polls += 1;
                if (v.currentTime > r.seekedTo + 0.1 || polls >= 50) { r.playedTo = v.currentTime; out.textContent = 'result ' + JSON.stringify(r); }
                else setTimeout(poll, 100); };
              v.play().then(() => setTimeout(poll, 100)).catch(e => { out.textContent = 'playfail ' + e; }); }, { once: true });
            </script></body></html>
            """
        try html.write(toFile: page, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: page) }
        let result = try Subprocess.run(["timeout", "60", "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                         "--autoplay-policy=no-user-gesture-required", "--allow-file-access-from-files",
                                         "--virtual-time-budget=30000", "--dump-dom", "file://\(page)"])
        guard let range = result.standardOutput.range(of: #"<div id="out">[^<]*"#, options: .regularExpression) else {
            throw ChromiumPlaybackFailed(output: "status \(result.status): \(result.standardError.suffix(500))")
        }
        let text = String(result.standardOutput[range].dropFirst(#"<div id="out">"#.count))
        guard text.hasPrefix("result "),
              let json = try JSONSerialization.jsonObject(with: Data(text.dropFirst(7).utf8)) as? [String: Any],
              let duration = json["duration"] as? Double, let seekedTo = json["seekedTo"] as? Double,
              let playedTo = json["playedTo"] as? Double
        else { throw ChromiumPlaybackFailed(output: text) }
        self.duration = duration
        width = json["width"] as? Int ?? 0
        self.seekedTo = seekedTo
        self.playedTo = playedTo
    }
}

public struct ChromiumPlaybackFailed: Error, CustomStringConvertible {
    public let output: String
    public var description: String { "Chromium could not play the file: \(output)" }
}
