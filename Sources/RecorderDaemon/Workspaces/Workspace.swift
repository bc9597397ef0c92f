import Foundation
import HostProcesses

/// A private display and sound sink for one meeting: an Xvfb and a
/// PulseAudio server with one null sink, whose monitor the recorder reads
/// as an ALSA capture PCM. A browser launcher gets `DISPLAY` and
/// `PULSE_SERVER` and plays into the sink (the server's only one).
struct Workspace: Sendable {
    let id: String
    let width: Int
    let height: Int
    /// `:N`.
    let display: String
    /// The workspace's runtime directory (PulseAudio's socket and home).
    let directory: String
    let xvfb: PrivateXServer
    let pulse: PrivateSoundServer

    /// The null sink's name in the workspace's PulseAudio.
    static let sinkName = "workspace"
    /// Its socket's name in the workspace's directory.
    static let socketName = "native"

    var pulseServer: String { pulse.address }
    /// ALSA PCMs defined by the daemon's ALSA configuration (`alsaConfig`).
    var capturePCM: String { "recorderd_capture:\(id)" }
    var playbackPCM: String { "recorderd_playback:\(id)" }

    func view(alsaConfig: String) -> WorkspaceView {
        WorkspaceView(id: id, width: width, height: height, display: display, pulseServer: pulseServer,
                      sink: Self.sinkName, capturePCM: capturePCM, playbackPCM: playbackPCM, alsaConfig: alsaConfig,
                      environment: ["DISPLAY": display, "PULSE_SERVER": pulseServer, "PULSE_SINK": Self.sinkName])
    }
}

/// What `POST /v1/workspaces` answers.
struct WorkspaceView: Encodable, Sendable {
    var id: String
    var width: Int
    var height: Int
    var display: String
    var pulseServer: String
    var sink: String
    var capturePCM: String
    var playbackPCM: String
    /// The ALSA configuration file defining the two PCMs (add it to a
    /// player's ALSA_CONFIG_PATH to use `playbackPCM`).
    var alsaConfig: String
    /// The environment a browser launched into the workspace needs.
    var environment: [String: String]
}

struct WorkspaceList: Encodable, Sendable {
    var workspaces: [WorkspaceView]
}
