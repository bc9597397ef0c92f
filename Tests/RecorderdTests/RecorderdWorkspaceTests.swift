import Foundation
import Testing
import TestSupport

/// Workspaces: a private Xvfb and sound sink per meeting, recorded by name.
@Suite(.serialized, .tags(.bench)) struct RecorderdWorkspaceTests {
    @Test func twoWorkspacesRecordTheirOwnPictureAndToneAndLeaveNothing() throws {
        let bench = try TestBench.current()
        let daemon = try Daemon(bench)
        var workspaces: [[String: Any]] = []
        for _ in 0..<2 {
            let answer = try daemon.request("POST", "/v1/workspaces", body: #"{"width": 640, "height": 480}"#)
            try #require(answer.status == 201, "\(answer.body)\n\(daemon.log.suffix(2000))")
            workspaces.append(answer.json)
        }
        let colours = [(255, 64, 0), (0, 64, 255)], tones = [523, 784]
        var windows: [TestWindow] = [], players: [ChildProcess] = []
        defer { for player in players { player.send(SIGTERM); player.wait() } }
        var ids: [String] = []
        for (index, workspace) in workspaces.enumerated() {
            let display = try #require(workspace["display"] as? String)
            let window = try TestWindow(displayName: display, x: 0, y: 0, width: 640, height: 480)
            let (r, g, b) = colours[index]
            window.fill(UInt32(r << 16 | g << 8 | b), x: 0, y: 0, width: 640, height: 480)
            window.sync()
            windows.append(window)
            let config = try #require(workspace["alsaConfig"] as? String)
            let alsaPath = (ProcessInfo.processInfo.environment["ALSA_CONFIG_PATH"] ?? "/usr/share/alsa/alsa.conf") + ":" + config
            players.append(try playTone(tones[index], into: try #require(workspace["playbackPCM"] as? String), alsaConfigPath: alsaPath))
            let answer = try daemon.request("POST", "/v1/recordings", body: """
                {"workspace": "\(workspace["id"]!)", "region": "640x480+0+0", "file": "ws/\(index).mp4"}
                """)
            try #require(answer.status == 201, "\(answer.body)")
            #expect(answer.json["display"] as? String == display)
            ids.append(answer.json["id"] as! String)
        }
        for id in ids { _ = try daemon.waitFor(id) { Daemon.mediaSeconds($0) >= 4 } }
        // A second recording of a workspace being recorded: 409 naming the field.
        let again = try daemon.request("POST", "/v1/recordings", body: #"{"workspace": "\#(workspaces[0]["id"]!)", "file": "again.mp4"}"#)
        #expect(again.status == 409 && again.json["field"] as? String == "workspace", "\(again.body)")
        // A workspace being recorded cannot be deleted.
        #expect(try daemon.request("DELETE", "/v1/workspaces/\(workspaces[0]["id"]!)").status == 409)
        for (index, id) in ids.enumerated() {
            let stopped = try daemon.request("POST", "/v1/recordings/\(id)/stop")
            #expect(stopped.json["state"] as? String == "finished", "\(stopped.body)")
            let (_, problems) = try checkRecording("\(daemon.recordings)/ws/\(index).mp4", colour: colours[index],
                                                   tone: Double(tones[index]))
            #expect(problems.isEmpty, "workspace \(index): \(problems)")
        }
        for player in players { player.send(SIGTERM); player.wait() }
        players.removeAll()
        windows.removeAll()
        for workspace in workspaces {
            #expect(try daemon.request("DELETE", "/v1/workspaces/\(workspace["id"]!)").status == 204)
        }
        #expect((try daemon.request("GET", "/v1/workspaces").json["workspaces"] as? [Any])?.isEmpty == true)
        for workspace in workspaces {
            let display = workspace["display"] as! String
            let number = display.dropFirst()
            #expect(!FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(number)"), "Xvfb \(display) is gone")
            let server = (workspace["pulseServer"] as! String).dropFirst("unix:".count)
            #expect(!FileManager.default.fileExists(atPath: String(server)), "the sink's PulseAudio is gone")
            #expect(try Subprocess.run(["xdpyinfo", "-display", display]).status != 0)
        }
        #expect(daemon.stop() == 0)
    }

    @Test func workspacesAreTornDownWhenTheDaemonStops() throws {
        let bench = try TestBench.current()
        let daemon = try Daemon(bench)
        let answer = try daemon.request("POST", "/v1/workspaces", body: #"{"width": 320, "height": 240}"#)
        try #require(answer.status == 201, "\(answer.body)")
        let display = try #require(answer.json["display"] as? String)
        #expect(try Subprocess.run(["xdpyinfo", "-display", display]).status == 0)
        // A region off the workspace's screen: refused before anything starts.
        let off = try daemon.request("POST", "/v1/recordings", body: """
            {"workspace": "\(answer.json["id"]!)", "region": "640x480+0+0", "file": "off/x.mp4"}
            """)
        #expect(off.status == 400 && off.json["field"] as? String == "region", "\(off.body)")
        #expect((off.json["error"] as? String ?? "").contains("leaves the 320x240 screen"), "\(off.body)")
        #expect(!FileManager.default.fileExists(atPath: "\(daemon.recordings)/off"), "nothing written")
        #expect((try daemon.request("GET", "/v1/recordings").json["recordings"] as? [Any])?.isEmpty == true)
        #expect(daemon.stop() == 0)
        #expect(try Subprocess.run(["xdpyinfo", "-display", display]).status != 0, "Xvfb \(display) stopped with the daemon")
        let server = (answer.json["pulseServer"] as! String).dropFirst("unix:".count)
        #expect(!FileManager.default.fileExists(atPath: String(server)))
    }
}
