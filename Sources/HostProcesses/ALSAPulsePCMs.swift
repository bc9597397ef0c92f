import Foundation

/// ALSA configuration text for the `pulse` plugin's PCMs (Debian's
/// `libasound2-plugins`): one plays into a PulseAudio sink, one captures the
/// sink's monitor. alsa-lib reads the files named on `ALSA_CONFIG_PATH`
/// (colon-separated) when the first PCM of a process is opened.
public enum ALSAPulsePCMs {
    /// The system's own configuration, which every list must start with.
    public static let systemConfiguration = "/usr/share/alsa/alsa.conf"

    /// Two PCMs on the server at `server` (`unix:PATH`).
    public static func definitions(playback: String, capture: String, server: String, sink: String) -> String {
        """
        pcm.\(playback) { type pulse; device "\(sink)"; server "\(server)" }
        pcm.\(capture) { type pulse; device "\(sink).monitor"; server "\(server)" }

        """
    }

    /// Two PCMs taking one argument `ID` (`NAME:ID`), each reaching the
    /// server whose socket is `socketDirectory/ID/socketName`: one file for
    /// many servers, made once, before any of them starts.
    public static func definitions(playback: String, capture: String, socketDirectory: String, socketName: String,
                                   sink: String) -> String {
        func pcm(_ name: String, device: String) -> String {
            """
            pcm.\(name) {
                @args [ WS ]
                @args.WS { type string }
                type pulse
                device "\(device)"
                server { @func concat strings [ "unix:\(socketDirectory)/" $WS "/\(socketName)" ] }
            }

            """
        }
        return pcm(capture, device: "\(sink).monitor") + pcm(playback, device: sink)
    }

    /// An `ALSA_CONFIG_PATH` value: the system's configuration, then the
    /// files `existing` names (this process's variable when nil), then
    /// `files`, each once.
    public static func configPath(adding files: [String], to existing: String? = nil) -> String {
        var paths = [systemConfiguration]
        let current = existing ?? ProcessInfo.processInfo.environment["ALSA_CONFIG_PATH"] ?? ""
        for path in current.split(separator: ":").map(String.init) + files where !paths.contains(path) {
            paths.append(path)
        }
        return paths.joined(separator: ":")
    }
}
