import Foundation
import Testing
import TestSupport

/// Page recordings through a spawned recorderd with Debian's chromium, the
/// pages served over HTTP by the test (`PageServer`): gates, failures, the
/// page's own endings, and what is left afterwards (nothing).
@Suite(.serialized, .tags(.bench)) struct RecorderdPageTests {
    static let width = 640, height = 360

    /// Starts a page recording of `url`; returns its id (the answer must be 201).
    static func start(_ daemon: Daemon, _ url: String, page extra: String = "", body more: String = "",
                      file: String) throws -> String {
        let answer = try daemon.request("POST", "/v1/recordings", body: """
            {"page": {"url": "\(url)", "width": \(width), "height": \(height)\(extra)}, "file": "\(file)"\(more)}
            """)
        try #require(answer.status == 201, "\(answer.status) \(answer.body)\n\(daemon.log.suffix(3000))")
        return try #require(answer.json["id"] as? String)
    }

    static func ended(_ view: [String: Any]) -> Bool {
        ["finished", "failed"].contains(view["state"] as? String ?? "")
    }

    /// Nothing of the recordings is left: no child process, nothing holding
    /// a profile (in or out of the browser's group), no profile.
    static func expectNothingLeft(_ daemon: Daemon, sourceLocation: SourceLocation = #_sourceLocation) {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && !(daemon.descendants.isEmpty && daemon.browserLeftovers.isEmpty) { usleep(100_000) }
        #expect(daemon.descendants.isEmpty, "processes left: \(daemon.descendants)", sourceLocation: sourceLocation)
        #expect(daemon.browserHolders.isEmpty, "processes holding a profile: \(daemon.browserHolders)", sourceLocation: sourceLocation)
        #expect(daemon.browserLeftovers.isEmpty, "browser files left: \(daemon.browserLeftovers)", sourceLocation: sourceLocation)
    }

    @Test func consoleGatesStartAndEndTheRecordingAndNothingBeforeTheStartIsInTheFile() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench)])
        // Green until START_RECORDING at 3 s, then red; END_RECORDING at 9 s.
        let id = try Self.start(daemon, pages.url("c=00ff00&c2=ff0000&f=523&start=3&end=9"),
                                page: #", "start": {"on": "console"}, "end": {"on": "console"}"#, file: "console/a.mp4")
        let view = try daemon.waitFor(id, seconds: 40, Self.ended)
        #expect(view["state"] as? String == "finished", "\(view)\n\(daemon.log.suffix(3000))")
        #expect(view["stopReason"] as? String == "pageEnded", "\(view)")
        let path = "\(daemon.recordings)/console/a.mp4"
        let (probe, problems) = try checkRecording(path, colour: (255, 0, 0), tone: nil, width: Self.width, height: Self.height)
        #expect(problems.isEmpty, "\(problems)")
        let samples = try MediaProbe.decodeAudio(path, start: 1)
        #expect(Self.energy(samples, at: 523) > 20 * Self.energy(samples, at: 784), "the page's 523 Hz tone")
        let duration = probe.duration ?? 0
        #expect(duration > 4 && duration < 7.5, "between the gates: about 6 s, got \(duration)")
        // The first frame is the page after its start: red, never green.
        let first = try MediaProbe.decodeFrameRGB(path, at: 0)
        let centre = ((Self.height / 2) * Self.width + Self.width / 2) * 3
        #expect(first.count > centre + 2 && first[centre] > 200 && first[centre + 1] < 60, "first frame's centre: \(first[centre..<centre + 3])")
        Self.expectNothingLeft(daemon)
        #expect(daemon.stop() == 0)
    }

    @Test func aPredicateGateStartsTheRecordingWhenItHolds() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench)])
        let id = try Self.start(daemon, pages.url("c=0040ff&ready=2"),
                                page: #", "start": {"on": "predicate", "expression": "window.ready === true", "timeoutSeconds": 20}"#,
                                body: #", "duration": 3"#, file: "predicate/a.mp4")
        let view = try daemon.waitFor(id, seconds: 40, Self.ended)
        #expect(view["state"] as? String == "finished" && view["stopReason"] as? String == "durationReached", "\(view)")
        let (_, problems) = try checkRecording("\(daemon.recordings)/predicate/a.mp4", colour: (0, 64, 255), tone: nil,
                                               width: Self.width, height: Self.height)
        #expect(problems.isEmpty, "\(problems)")
        // A predicate that never holds fails at its deadline, nothing recorded.
        let never = try Self.start(daemon, pages.url("c=0040ff"),
                                   page: #", "start": {"on": "predicate", "expression": "window.ready === true", "timeoutSeconds": 2}"#,
                                   file: "predicate/never.mp4")
        let failed = try daemon.waitFor(never, seconds: 40, Self.ended)
        #expect(failed["state"] as? String == "failed" && (failed["error"] as? String ?? "").contains("predicate"), "\(failed)")
        #expect(!FileManager.default.fileExists(atPath: "\(daemon.recordings)/predicate/never.mp4"))
        Self.expectNothingLeft(daemon)
        #expect(daemon.stop() == 0)
    }

    /// With `workspaces.max` running, a page is refused as a workspace is:
    /// 503, reason `workspaces`, Retry-After, nothing started.
    @Test func aPageAtTheWorkspaceLimitIsRefusedAsAWorkspaceIs() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench, extra: "workspaces: {max: 1}")])
        let workspace = try daemon.request("POST", "/v1/workspaces", body: #"{"width": 320, "height": 240}"#)
        try #require(workspace.status == 201, "\(workspace.status) \(workspace.body)")
        let another = try daemon.request("POST", "/v1/workspaces", body: #"{"width": 320, "height": 240}"#)
        let page = try daemon.request("POST", "/v1/recordings", body: #"{"page": {"url": "\#(pages.url("c=00ff00"))"}, "file": "limit/a.mp4"}"#)
        for (name, answer) in [("workspace", another), ("page", page)] {
            #expect(answer.status == 503 && answer.json["reason"] as? String == "workspaces", "\(name): \(answer.status) \(answer.body)")
            #expect(answer.headers["retry-after"].flatMap { Int($0) } != nil, "\(name): \(answer.headers)")
        }
        #expect(page.json["error"] as? String == another.json["error"] as? String, "\(page.body) \(another.body)")
        #expect((try daemon.request("GET", "/v1/recordings").json["recordings"] as? [Any])?.isEmpty == true)
        #expect(!FileManager.default.fileExists(atPath: "\(daemon.recordings)/limit"))
        #expect(try daemon.request("GET", "/metrics").body.contains(#"recorderd_recordings_refused_total{reason="workspaces"} 1"#))
        #expect(daemon.browserLeftovers.isEmpty && !daemon.descendants.contains { $0.command.contains("chromium") })
        let id = try #require(workspace.json["id"] as? String)
        #expect(try daemon.request("DELETE", "/v1/workspaces/\(id)").status == 204)
        Self.expectNothingLeft(daemon)
        #expect(daemon.stop() == 0)
    }

    @Test func aPageAnswering404FailsNamingTheStatusAndRefusalsStartNothing() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench)])
        let id = try Self.start(daemon, "http://127.0.0.1:\(pages.port)/missing.html", file: "missing/a.mp4")
        let view = try daemon.waitFor(id, seconds: 60, Self.ended)
        #expect(view["state"] as? String == "failed", "\(view)")
        #expect((view["error"] as? String ?? "").contains("404"), "\(view)")
        #expect(!FileManager.default.fileExists(atPath: "\(daemon.recordings)/missing/a.mp4"))
        for url in ["file:///etc/passwd", "http://127.0.0.2:\(pages.port)/page.html", "http://example.com/?jwt=SECRET"] {
            let answer = try daemon.request("POST", "/v1/recordings", body: #"{"page": {"url": "\#(url)"}}"#)
            #expect(answer.status == 400 && answer.json["field"] as? String == "page.url", "\(url): \(answer.body)")
            #expect(!answer.body.contains("SECRET"))
        }
        #expect((try daemon.request("GET", "/v1/workspaces").json["workspaces"] as? [Any])?.isEmpty == true)
        #expect(!daemon.log.contains("SECRET"))
        Self.expectNothingLeft(daemon)
        #expect(daemon.stop() == 0)
    }

    /// A stop while the page waits for its start gate: no file, the
    /// browser and workspace gone; a stop while it records: its file.
    @Test func anAPIStopEndsAPageRecordingBeforeAndAfterItsGate() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench)])
        let waiting = try Self.start(daemon, pages.url("c=ff8000"), page: #", "start": {"on": "console"}"#, file: "stop/waiting.mp4")
        _ = try daemon.browserGroup(waiting)
        let stopped = try daemon.request("POST", "/v1/recordings/\(waiting)/stop")
        #expect(stopped.status == 200 && stopped.json["stopReason"] as? String == "stopRequested", "\(stopped.body)")
        #expect(!FileManager.default.fileExists(atPath: "\(daemon.recordings)/stop/waiting.mp4"))
        let recording = try Self.start(daemon, pages.url("c=ff8000"), file: "stop/recording.mp4")
        _ = try daemon.waitFor(recording, seconds: 30) { Daemon.mediaSeconds($0) >= 2 }
        let ended = try daemon.request("POST", "/v1/recordings/\(recording)/stop")
        #expect(ended.json["state"] as? String == "finished" && ended.json["stopReason"] as? String == "stopRequested", "\(ended.body)")
        #expect(try MediaProbe(path: "\(daemon.recordings)/stop/recording.mp4").video != nil)
        Self.expectNothingLeft(daemon)
        #expect(daemon.stop() == 0)
    }

    @Test func aPageThatHangsEndsAsPageHungWithAPlayableFile() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench)])
        let id = try Self.start(daemon, pages.url("c=ffff00&f=440&hang=5"), file: "hang/a.mp4")
        _ = try daemon.waitFor(id, seconds: 30) { $0["state"] as? String == "recording" }
        let began = Date()
        let view = try daemon.waitFor(id, seconds: 40, Self.ended)
        let after = Date().timeIntervalSince(began)
        #expect(view["stopReason"] as? String == "pageHung" && view["state"] as? String == "finished", "\(view)")
        // The loop starts about 5 s after load; pageHung within 20 s of it.
        #expect(after < 25, "pageHung after \(after) s")
        let (probe, problems) = try checkRecording("\(daemon.recordings)/hang/a.mp4", colour: nil, tone: nil,
                                                   width: Self.width, height: Self.height)
        #expect(problems.isEmpty && (probe.duration ?? 0) > 4, "\(problems) \(String(describing: probe.duration))")
        Self.expectNothingLeft(daemon)
        let metrics = try daemon.metrics()
        #expect(metrics[#"recorderd_page_endings_total{reason="pageHung"}"#] == 1, "\(metrics.filter { $0.key.contains("page") })")
        #expect(daemon.stop() == 0)
    }

    /// The renderer is killed (SIGKILL to the `--type=renderer` processes
    /// of the browser's group): the target crashes as with `Page.crash`.
    @Test func aCrashedPageEndsAsPageCrashedWithinTwoSeconds() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench)])
        let id = try Self.start(daemon, pages.url("c=ff00ff"), file: "crash/a.mp4")
        _ = try daemon.waitFor(id, seconds: 30) { Daemon.mediaSeconds($0) >= 2 }
        let group = try daemon.browserGroup(id)
        let renderers = daemon.descendants.filter { Self.processGroup($0.pid) == group && $0.command.contains("--type=renderer") }
        try #require(!renderers.isEmpty, "no renderer in group \(group): \(daemon.descendants)")
        let killed = Date()
        for renderer in renderers { kill(renderer.pid, SIGKILL) }
        let view = try daemon.waitFor(id, seconds: 20) { $0["stopReason"] as? String != nil }
        let after = Date().timeIntervalSince(killed)
        #expect(view["stopReason"] as? String == "pageCrashed", "\(view)")
        #expect(after < 2, "pageCrashed after \(after) s")
        let final = try daemon.waitFor(id, seconds: 20, Self.ended)
        #expect(final["state"] as? String == "finished", "\(final)")
        #expect(try MediaProbe(path: "\(daemon.recordings)/crash/a.mp4").video != nil)
        Self.expectNothingLeft(daemon)
        #expect(daemon.stop() == 0)
    }

    /// `browserNice: 7`: every process of the browser (its group, and the
    /// crash handlers Chromium starts outside it) runs 7 nice levels below
    /// the daemon, set before exec: none escapes it by forking early.
    @Test func everyBrowserProcessRunsAtTheConfiguredNice() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench, extra: "browserNice: 7")])
        let id = try Self.start(daemon, pages.url("c=0000ff"), file: "nice/a.mp4")
        _ = try daemon.waitFor(id, seconds: 30) { Daemon.mediaSeconds($0) >= 2 }
        let group = try daemon.browserGroup(id)
        let daemonNice = try #require(Self.nice(daemon.process.pid))
        let browser = daemon.descendants.filter { Self.processGroup($0.pid) == group || $0.command.contains("chrom") }
        try #require(browser.count >= 3, "the browser's processes: \(browser)")
        for process in browser {
            #expect(Self.nice(process.pid) == min(19, daemonNice + 7), "\(process.pid) \(process.command.prefix(80)): nice \(Self.nice(process.pid).map { "\($0)" } ?? "?"), the daemon's \(daemonNice)")
        }
        // The workspace's X server keeps the daemon's (PulseAudio, as root, raises its own priority).
        let servers = daemon.descendants.filter { $0.command.contains("Xvfb") }
        try #require(!servers.isEmpty, "no X server among \(daemon.descendants)")
        for server in servers { #expect(Self.nice(server.pid) == daemonNice, "\(server.command.prefix(60)) runs at the daemon's nice") }
        #expect(try daemon.request("POST", "/v1/recordings/\(id)/stop").status == 200)
        Self.expectNothingLeft(daemon)
        #expect(daemon.stop() == 0)
    }

    /// A process's nice value: /proc/PID/stat field 19.
    static func nice(_ pid: pid_t) -> Int? { statField(pid, 19).flatMap { Int($0) } }

    /// Field `number` (1-based, as proc(5) counts) of /proc/PID/stat, from
    /// field 3 on (read after the command's closing parenthesis).
    static func statField(_ pid: pid_t, _ number: Int) -> Substring? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > number - 3 ? fields[number - 3] : nil
    }

    @Test func aBrowserKilledFromOutsideEndsAsBrowserExited() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench)])
        let id = try Self.start(daemon, pages.url("c=00ffff"), file: "exit/a.mp4")
        _ = try daemon.waitFor(id, seconds: 30) { Daemon.mediaSeconds($0) >= 2 }
        let group = try daemon.browserGroup(id)
        let killed = Date()
        kill(-group, SIGKILL)
        let view = try daemon.waitFor(id, seconds: 20) { $0["stopReason"] as? String != nil }
        #expect(view["stopReason"] as? String == "browserExited", "\(view)")
        #expect(Date().timeIntervalSince(killed) < 2)
        let final = try daemon.waitFor(id, seconds: 20, Self.ended)
        #expect(final["state"] as? String == "finished", "\(final)")
        Self.expectNothingLeft(daemon)
        #expect(daemon.stop() == 0)
    }

    @Test func twoPagesAtOnceEachRecordTheirOwnPictureAndTone() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench)])
        let colours = [(255, 64, 0), (0, 64, 255)], tones = [523, 784]
        var ids: [String] = []
        for index in 0..<2 {
            let (r, g, b) = colours[index]
            let colour = String(format: "%02x%02x%02x", r, g, b)
            ids.append(try Self.start(daemon, pages.url("c=\(colour)&f=\(tones[index])"), body: #", "duration": 6"#,
                                      file: "two/\(index).mp4"))
        }
        for (index, id) in ids.enumerated() {
            let view = try daemon.waitFor(id, seconds: 60, Self.ended)
            #expect(view["state"] as? String == "finished", "\(view)")
            let cost = view["cost"] as? [String: Any]
            let browser = cost?["browser"] as? [String: Any]
            #expect((browser?["residentBytes"] as? Int ?? 0) > 10_000_000, "the browser's memory is measured: \(String(describing: cost))")
            let path = "\(daemon.recordings)/two/\(index).mp4"
            let (_, problems) = try checkRecording(path, colour: colours[index], tone: nil, width: Self.width, height: Self.height)
            #expect(problems.isEmpty, "page \(index): \(problems)")
            // Its own tone, not the other's: the energy at each frequency
            // (robust to the gaps Chromium's sound has on a loaded host,
            // which upset a zero-crossing estimate).
            let samples = try MediaProbe.decodeAudio(path, start: 1)
            let own = Self.energy(samples, at: Double(tones[index])), other = Self.energy(samples, at: Double(tones[1 - index]))
            #expect(own > 20 * other, "page \(index): \(tones[index]) Hz energy \(own), \(tones[1 - index]) Hz \(other)")
        }
        Self.expectNothingLeft(daemon)
        #expect(daemon.stop() == 0)
    }

    /// 30 short page recordings in one daemon, two at a time: afterwards no
    /// chromium, Xvfb or PulseAudio of theirs, no profile, and the daemon's
    /// descriptors and threads back to their count before the first.
    @Test func thirtyPageRecordingsLeaveNothingBehind() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        // A finished recording keeps its session (and its directory's
        // descriptor) while it is listed: two are kept, as many as run at once.
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench, extra: "keepFinished: 2")])
        // Warm the daemon's lazily made parts (HTTP, metrics) with two first.
        let warm = try (0..<2).map { index in
            try Self.start(daemon, pages.url("c=808080"), body: #", "duration": 1"#, file: "thirty/warm-\(index).mp4")
        }
        for id in warm { _ = try daemon.waitFor(id, seconds: 60, Self.ended) }
        Self.expectNothingLeft(daemon)
        usleep(500_000)
        let before = daemon.descriptorsAndThreads
        for round in 0..<15 {
            let ids = try (0..<2).map { index in
                try Self.start(daemon, pages.url("c=808080"), body: #", "duration": 1"#, file: "thirty/\(round)-\(index).mp4")
            }
            for id in ids {
                let view = try daemon.waitFor(id, seconds: 60, Self.ended)
                #expect(view["state"] as? String == "finished", "\(view)")
            }
        }
        Self.expectNothingLeft(daemon)
        var after = daemon.descriptorsAndThreads
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && (after.fds > before.fds || after.threads > before.threads) {
            usleep(200_000)
            after = daemon.descriptorsAndThreads
        }
        #expect(after.fds <= before.fds, "descriptors \(before.fds) -> \(after.fds)")
        #expect(after.threads <= before.threads, "threads \(before.threads) -> \(after.threads)")
        #expect(daemon.stop() == 0)
    }

    /// A daemon killed while it records a page: the next one on the same
    /// directory ends the browser's group (if it still runs: Chromium also
    /// closes itself when its DevTools pipe closes) and any other process
    /// holding a profile (here one in no noted group, as a crash handler
    /// is), removes the profiles and ends the workspace's Xvfb and PulseAudio.
    @Test func theNextDaemonEndsWhatACrashLeft() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        let configuration = try pages.configuration(bench)
        let first = try Daemon(bench, arguments: ["--config", configuration])
        let id = try Self.start(first, pages.url("c=00ff00"), file: "crash/a.mp4")
        _ = try first.waitFor(id, seconds: 30) { Daemon.mediaSeconds($0) >= 1 }
        _ = try first.browserGroup(id)
        // A process outside every noted group with a file of a profile open
        // (only that: its command line and environment do not name it).
        let stray = "\(first.recordings)/.recorderd/browsers/chromium-profile-stray1"
        try FileManager.default.createDirectory(atPath: stray, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: "\(stray)/held", contents: Data())
        let holder = try ChildProcess(["sh", "-c", #"exec 5<"$HELD"; unset HELD; exec sleep 600"#],
                                      environment: ChildProcess.environment(updating: ["HELD": "\(stray)/held"]))
        defer { holder.send(SIGKILL); holder.wait() }
        let left = first.descendants.map(\.pid) + [holder.pid]
        try #require(!left.isEmpty)
        let opened = Date().addingTimeInterval(5)
        while Date() < opened && !first.browserHolders.contains(where: { $0.pid == holder.pid }) { usleep(50_000) }
        _ = first.stop(SIGKILL)
        let second = try Daemon(bench, recordings: first.recordings, arguments: ["--config", configuration])
        let deadline = Date().addingTimeInterval(10)
        func alive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 && !((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "").contains(") Z") }
        while Date() < deadline && left.contains(where: alive) { usleep(100_000) }
        #expect(!left.contains(where: alive), "left running: \(left.filter(alive))")
        #expect(second.browserLeftovers.isEmpty, "\(second.browserLeftovers)")
        #expect(second.browserHolders.isEmpty, "\(second.browserHolders)")
        #expect(second.stop() == 0)
    }

    /// Goertzel: the power of `frequency` in 44.1 kHz `samples`.
    static func energy(_ samples: [Double], at frequency: Double, rate: Double = 44_100) -> Double {
        let coefficient = 2 * cos(2 * Double.pi * frequency / rate)
        var (previous, beforePrevious) = (0.0, 0.0)
        for sample in samples {
            let value = sample + coefficient * previous - beforePrevious
            beforePrevious = previous
            previous = value
        }
        return previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious
    }

    /// A process's group: /proc/PID/stat field 5.
    static func processGroup(_ pid: pid_t) -> pid_t? { statField(pid, 5).flatMap { Int32($0) } }

    /// A/V sync of a page recording: flashes and beeps at the same moment
    /// of the page's audio clock, 20 s through recorderd (in this serialized
    /// suite: another recording beside it upsets the page's clock).
    @Test func flashesAndBeepsStayTogetherThroughARecording() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        try FlashBeepAnalysis.page.write(toFile: "\(pages.directory)/flashbeep.html", atomically: true, encoding: .utf8)
        let daemon = try Daemon(bench, arguments: ["--config", try pages.configuration(bench)])
        // The page's first seconds (the browser warming up beside the
        // engine's start) upset its audio clock on a loaded host: the gate
        // lets it settle, as a meeting page is joined before it records.
        let id = try Self.start(daemon, "http://127.0.0.1:\(pages.port)/flashbeep.html",
                                              page: #", "start": {"on": "predicate", "expression": "performance.now() > 6000"}"#,
                                              body: #", "duration": 20"#, file: "sync/a.mp4")
        let view = try daemon.waitFor(id, seconds: 90, Self.ended)
        #expect(view["state"] as? String == "finished", "\(view)")
        let offsets = try FlashBeepAnalysis.offsets("\(daemon.recordings)/sync/a.mp4")
        let text = offsets.map { String(format: "%.1f s: %+.1f ms", $0.time, $0.offset * 1000) }.joined(separator: ", ")
        print("page flash+beep offsets (beep - flash): \(text)")
        let beeps = try FlashBeepAnalysis.beepTimes("\(daemon.recordings)/sync/a.mp4")
        print("page flash+beep beeps at: \(beeps.map { String(format: "%.4f", $0) }.joined(separator: " "))")
        print("page flash+beep statistics: \(view["statistics"] ?? "?")")
        try #require(offsets.count >= 7, "flashes paired with beeps: \(text)")
        let values = offsets.map(\.offset)
        let spread = values.max()! - values.min()!
        #expect(spread <= 1.0 / 30 + 0.010, "spread \(spread * 1000) ms: \(text)")
        let third = values.count / 3
        let first = values.prefix(third).reduce(0, +) / Double(third)
        let last = values.suffix(third).reduce(0, +) / Double(third)
        #expect(abs(last - first) < 1.0 / 30, "drift \((last - first) * 1000) ms: \(text)")
        #expect(daemon.stop() == 0)
    }
}
