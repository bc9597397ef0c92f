import Foundation
import Testing
import TestSupport
@testable import capbench

/// Meetings one recorderd records at once through Jicofo's protocol
/// (docs/BENCHMARKS.md, "recorderd meetings behind Jicofo"): the bench's
/// prosody, recorderd as a process with N Jibri slots, the Jicofo player
/// starting N sessions in a row, every meeting the Jitsi-like page showing
/// the grid reference page (`Benchmarks/meetings/grid.html`) in a frame
/// over the whole window. Per N: each start IQ to `on` (the player's
/// clock), capbench meetings' CPU window (`MeetingStep.measure`: browser,
/// recorder = the daemon, X server, sound server) and memory, then each
/// session stopped as Jicofo stops it, its recording's counters and file
/// read (`MeetingStep.count`) and judged by capbench meetings' "held in
/// real time" rule; every N given is run. A measurement, not a
/// check: run only when `JIBRI_MEETINGS` (e.g. `1,2,3`) is set, with
/// `RECORDERD_BINARY` the release build's; `JIBRI_MEETING_SECONDS` (60)
/// and `JIBRI_MEETING_SIZE` (1280x720: the grid's tiles at 640x360).
@Suite(.tags(.bench), .serialized)
struct JicofoMeetings {
    static let settings = ProcessInfo.processInfo.environment

    /// The Jitsi-like page (Alice and Bob in the call) with the grid page,
    /// served under `/files/`, filling the window above it.
    static func gridRoom() throws -> String {
        try JitsiLikePage.html(
            controls: ["participants": "[\(JibriDaemonTests.alice), \(JibriDaemonTests.bob)]"],
            after: """
                const grid = document.createElement("iframe");
                grid.src = "/files/grid.html";
                grid.style.cssText = "position: fixed; left: 0; top: 0; width: 100vw; height: 100vh; border: 0";
                document.body.appendChild(grid);
                """)
    }

    @Test(.enabled(if: settings["JIBRI_MEETINGS"] != nil))
    func gridMeetingsStartedThroughJicofo() async throws {
        let counts = (Self.settings["JIBRI_MEETINGS"] ?? "").split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        let seconds = Double(Self.settings["JIBRI_MEETING_SECONDS"] ?? "") ?? 60
        let frame = try FrameSize(parsing: Self.settings["JIBRI_MEETING_SIZE"] ?? "1280x720")
        try #require(!counts.isEmpty && seconds >= 5, "JIBRI_MEETINGS: counts such as 1,2,3; JIBRI_MEETING_SECONDS: at least 5")
        let fps = 30  // xmpp.fps's default
        let server = try makeProsody("meetings")
        let room = try Self.gridRoom()
        let rooms = Dictionary(uniqueKeysWithValues: (1...counts.max()!).map { ("meeting\($0)", room) })
        print("recorderd: \(RecorderdProcess.binary); grid \(frame), \(seconds) s; load \(MeetingsBenchmark.uptime())")
        try await JibriDaemonTests.withJicofo(server, rooms: rooms, files: MeetingPages.sourceDirectory) { pages, player in
            for count in counts {
                // Admission out of the way (a budget of 64 cores): the step finds the limit.
                let daemon = try RecorderdProcess(server, name: "meetings-\(count)", environments: [.init(name: "n\(count)")],
                                                  slots: count, cores: 64, pages: pages, width: frame.width, height: frame.height)
                let step: MeetingStep
                do {
                    step = try await Self.record(count, seconds: seconds, fps: fps, width: frame.width, height: frame.height,
                                                 daemon: daemon, player: player)
                } catch {
                    // Its recordings drained and their workspaces gone, not orphaned by the fixture's SIGKILL.
                    daemon.process.send(SIGTERM, groupWide: false)
                    _ = daemon.process.wait(timeout: 40)
                    throw error
                }
                daemon.process.send(SIGTERM, groupWide: false)
                #expect(daemon.process.wait().status == 0)
                print("jicofo meetings: \(count) at once \(step.held ? "held" : "NOT held") in real time")
            }
        }
    }

    /// N sessions started in a row, recorded, stopped and read; the step as capbench meetings reports it.
    static func record(_ count: Int, seconds: Double, fps: Int, width: Int, height: Int, daemon: RecorderdProcess,
                       player: JicofoPlayer) async throws -> MeetingStep {
        try await player.waitAvailable(count, seconds: 60)
        var step = MeetingStep(way: .recorderd, meetings: count, lagLimit: 2, lateTolerance: 0.01)
        let sessions = (1...count).map { "n\(count)-\($0)" }
        var sentAt: [String: Double] = [:]
        for (index, session) in sessions.enumerated() {
            let mark = player.all.count
            player.send(["cmd": "start", "session_id": session, "room": "meeting\(index + 1)@conference.\(ProsodyServer.domain)",
                         "mode": "file"])
            let sent = try await player.wait("start sent", after: mark) { $0.name == "start_sent" && $0["session_id"] == session }
            sentAt[session] = Double(sent["t"] ?? "") ?? 0
            let reply = try await player.wait("pending", after: mark) {
                $0.name == "start_reply" && $0["session_id"] == session && $0["status"] == "pending"
            }
            // The occupant says busy before the next start (Jicofo picks idle ones).
            try await player.wait("busy presence", seconds: 10, after: mark) {
                $0.name == "instance" && $0["occupant"] == reply["occupant"] && $0["busy"] == "busy"
            }
        }
        var startToOn: [Double] = []
        for session in sessions {
            let on = try await player.wait("on", seconds: 180) {
                $0.name == "status" && $0["status"] == "on" && $0["session_id"] == session
            }
            startToOn.append((Double(on["t"] ?? "") ?? 0) - (sentAt[session] ?? 0))
        }
        // Each session's recording, by the metadata the daemon gives it.
        let listed = try JSONSerialization.jsonObject(with: Data(daemon.get("/v1/recordings").utf8)) as? [String: Any]
        var ids: [String: String] = [:]
        for recording in listed?["recordings"] as? [[String: Any]] ?? [] {
            if let session = (recording["metadata"] as? [String: Any])?["jibri_session"] as? String, let id = recording["id"] as? String {
                ids[session] = id
            }
        }
        try #require(ids.count == count, "recordings of the sessions: \(ids)")

        try await step.measure(PartUsage.Parts(daemon: daemon.process.pid), seconds: seconds)

        var stopped: [String: Date] = [:]
        for session in sessions {
            stopped[session] = Date()
            player.send(["cmd": "stop", "session_id": session])
        }
        // Every recording polled in turn, so each one's end is seen when it comes.
        var views: [String: [String: Any]] = [:]
        let deadline = Date().addingTimeInterval(60)
        while views.count < count {
            for session in sessions where views[session] == nil {
                let id = ids[session]!
                let view = (try? JSONSerialization.jsonObject(with: Data(daemon.get("/v1/recordings/\(id)").utf8))) as? [String: Any] ?? [:]
                if ["finished", "failed", "scriptFailed", "scriptTimedOut"].contains(view["state"] as? String ?? "") {
                    views[session] = view
                    step.worstLag = max(step.worstLag, Date().timeIntervalSince(stopped[session]!))
                } else if Date() > deadline {
                    views[session] = view
                    step.errors.append("\(session) still \(view["state"].map { "\($0)" } ?? "?") 60 s after its stop")
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        for session in sessions {
            let file = views[session]!["file"] as? String
            step.count(views[session]!, id: session, file: file, fps: fps)
            // The grid, not the Jitsi-like page under it, was recorded.
            if let file, try JibriDaemonTests.showsThePage(file, at: 2, width: width, height: height) {
                step.errors.append("\(file) shows the Jitsi-like page, not the grid")
            }
        }
        let ons = startToOn.map { String(format: "%.2f", $0) }.joined(separator: ", ")
        print("jicofo meetings: \(count) at once: start IQ to on \(ons) s; \(step.summary); load \(MeetingsBenchmark.uptime())")
        // The daemon's own breakdown of each start (workspace, browser, page, join, first frame).
        for line in daemon.log.split(separator: "\n") where line.contains("jibri recording on: after") {
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            print("jicofo meetings: \(count) at once: \(object?["message"] as? String ?? String(line))")
        }
        return step
    }
}
