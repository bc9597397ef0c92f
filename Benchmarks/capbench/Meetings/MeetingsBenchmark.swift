import ArgumentParser
import Foundation
import HostProcesses

/// Meetings per host: the reference meeting pages recorded N at once
/// through one spawned recorderd (page recordings) against the Jibri way
/// (per meeting an Xvfb + PulseAudio, a chromium and an ffmpeg running
/// Jibri's list, the browser with Jibri's Chrome flags), N = 1, 2, ... until
/// a way no longer holds real time (`MeetingStep.held`, one rule for both,
/// read from each recorder's counters and its files); per meeting the CPU of
/// the browser, the recorder, the X server and the sound server over the
/// steady part of the recording, and the memory (RSS and PSS) at its end.
/// Then the browser alone under flag variants (`--experiments`).
struct MeetingsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meetings",
        abstract: "Meetings per host: page recordings through recorderd against Jibri's browser + ffmpeg, N at once.")

    @Option(help: "Pages, comma-separated: grid (2x2 moving tiles, four tones), slide (still slide, one small moving tile).")
    var pages = "grid,slide"
    @Option(help: "Sizes WxH, comma-separated (each display and page is this size).") var sizes = "1920x1080,1280x720"
    @Option(help: "Most meetings to try at once.") var maxMeetings = 3
    @Option(help: "Seconds each recording lasts (the CPU window is its middle: all but the first 1 and last 2).") var seconds = 12.0
    @Option(help: "Frames per second.") var fps = 30
    @Option(help: "Seconds a recording may take to end (ffmpeg: past its length; recorderd: after its stop) before it counts as not real time.")
    var lagLimit = 2.0
    @Option(help: "Share of frames that may be late (filled, dropped or left out) in a step that holds.") var lateTolerance = 0.01
    @Option(help: "Share of --fps that must be distinct pictures in a step that holds (both pages move every frame: fewer means the page did not draw).")
    var leastPictures = 0.9
    @Option(help: "The directory of the reference pages (default the repository's Benchmarks/meetings).") var pagesDirectory: String?
    @Option(help: "The recorderd program (default the one built next to capbench).") var recorderd: String?
    @Option(help: "recorderd's browserNice: nice levels its browsers run below it, 0-19 (default the daemon's).") var browserNice: Int?
    @Option(help: "A window manager started on each Jibri-way display before its browser (Jibri's hosts run icewm; \"none\": a bare Xvfb, where Jibri's --kiosk leaves a 945x1060 window at 1080p).")
    var peerWindowManager = "icewm"
    @Flag(help: "Also run the browser alone under flag variants.") var experiments = false
    @Flag(help: "Only the browser-alone variants (no recordings).") var experimentsOnly = false
    @Option(help: "Rounds of the browser-alone variants (each round runs every variant in turn).") var experimentRounds = 2
    @Option(help: "The page of the browser-alone variants: grid or slide.") var experimentPage = "grid"
    @Option(help: "An extra browser-alone variant: chromium flags separated by spaces, added; or \"without\" and flags of PageBrowser's, left out (repeatable).") var experimentFlags: [String] = []
    @Option(help: "Seconds each browser-alone variant is measured.") var experimentSeconds = 8.0
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let frames = try sizes.split(separator: ",").map { try FrameSize(parsing: String($0)) }
        let kinds = try pages.split(separator: ",").map { name in
            guard let kind = MeetingPages.Kind(rawValue: String(name)) else { throw ValidationError("--pages: '\(name)': valid values: grid, slide") }
            return kind
        }
        guard maxMeetings > 0, seconds >= 5, experimentRounds > 0, !frames.isEmpty, !kinds.isEmpty else {
            throw ValidationError("--max-meetings and --experiment-rounds must be positive, --seconds at least 5, --sizes and --pages not empty")
        }
        if let browserNice, !(0...19).contains(browserNice) { throw ValidationError("--browser-nice: \(browserNice) is not from 0 to 19") }
        guard (0...1).contains(leastPictures) else { throw ValidationError("--least-pictures: \(leastPictures) is not a share from 0 to 1") }
        guard let experimentKind = MeetingPages.Kind(rawValue: experimentPage) else {
            throw ValidationError("--experiment-page: '\(experimentPage)': valid values: grid, slide")
        }
        let sandbox = geteuid() != 0
        let scratch = try ScratchDirectory("meetings")
        let served = try MeetingPages(source: pagesDirectory ?? MeetingPages.sourceDirectory, directory: scratch.file("pages"))
        let daemon: DaemonMeetings? = try experimentsOnly ? nil : DaemonMeetings(binary: recorderd ?? ChildProcess.siblingExecutable("recorderd"),
                                        directory: scratch.file("daemon"), allowPattern: served.allowPattern, sandbox: sandbox,
                                        browserNice: browserNice)
        let load = Self.uptime()
        var report = BenchReport(benchmark: "meetings", settings: [
            "pages": kinds.map(\.rawValue).joined(separator: ","), "sizes": frames.map(\.description).joined(separator: ","),
            "fps": "\(fps)", "seconds": "\(seconds)", "max meetings": "\(maxMeetings)", "load before": load,
            "x264": "ultrafast crf 25 main (Jibri's recording defaults), AAC 128k 44.1 kHz",
            "ours": "N page recordings through one recorderd (each its own Xvfb + PulseAudio workspace and chromium)",
            "peer": "N x (Xvfb + PulseAudio + chromium with Jibri's Chrome flags + ffmpeg with Jibri's recording list)",
            "Jibri way window manager": peerWindowManager,
            "recorderd browserNice": browserNice.map { "\($0)" } ?? "the daemon's default",
            "browser sandbox": sandbox ? "on" : "off (running as root: browserNoSandbox true, --no-sandbox)",
            "held": "the same rule for both: frames late (slots the recorder filled with the last picture, ffmpeg dup= or the "
                + "engine's framesDuplicated, plus slots missing in the file) at most \(lateTolerance * 100) % of the frames; no sound lost (capture "
                + "overruns, gaps in the file's sound); each recording ended within \(lagLimit) s (ffmpeg past its -t, recorderd after its stop); "
                + "at least \(leastPictures * Double(fps)) distinct pictures a second in the files (MeetingPictures)",
            "CPU window": "all N recording, from 1 s after the last start for seconds - 3 s; per meeting = part's CPU-s/s / N",
        ])
        let peerName = "Jibri way"
        for frame in frames {
            log("\(frame): starting \(maxMeetings) displays and sound servers for the Jibri way")
            var benches: [PrivateBench] = []
            for index in 0..<maxMeetings {
                let bench = try PrivateBench(index: index, width: frame.width, height: frame.height,
                                             directory: scratch.file("benches-\(frame)"))
                if peerWindowManager != "none" { try bench.startWindowManager(peerWindowManager) }
                benches.append(bench)
            }
            PrivateBench.exportALSAConfiguration(benches)
            report.settings["\(frame) Xvfb mode"] = BrowserExperiments.currentMode(display: benches[0].display)
            let jibri = JibriMeetings(frame: frame, fps: fps, seconds: seconds, lagLimit: lagLimit, lateTolerance: lateTolerance,
                                      sandbox: sandbox, scratch: scratch)
            for kind in experimentsOnly ? [] : kinds {
                var ours: [MeetingStep] = [], peer: [MeetingStep] = []
                for count in 1...maxMeetings {
                    if ours.last?.held ?? true {
                        log("\(kind) \(frame), \(count) at once: recorderd")
                        var step = try await daemon!.record(meetings: count, url: served.url(kind), frame: frame, fps: fps,
                                                            seconds: seconds, lagLimit: lagLimit, lateTolerance: lateTolerance)
                        step.leastPicturesPerSecond = leastPictures * Double(fps)
                        ours.append(step)
                        log(ours.last!.summary)
                    }
                    if peer.last?.held ?? true {
                        log("\(kind) \(frame), \(count) at once: Jibri way")
                        var step = try await jibri.record(Array(benches.prefix(count)), url: served.url(kind))
                        step.leastPicturesPerSecond = leastPictures * Double(fps)
                        peer.append(step)
                        log(peer.last!.summary)
                    }
                    if !(ours.last?.held ?? false) && !(peer.last?.held ?? false) { break }
                }
                let label = "\(kind) \(frame)"
                let oursHeld = ours.filter(\.held).map(\.meetings).max() ?? 0, peerHeld = peer.filter(\.held).map(\.meetings).max() ?? 0
                report.add(Figure("\(label): most meetings held", unit: "meetings", ours: Double(oursHeld), peer: Double(peerHeld),
                                  peerName: peerName))
                if oursHeld == maxMeetings || peerHeld == maxMeetings {
                    report.settings["\(label) note"] = "a way held the cap (raise --max-meetings to find its limit)"
                }
                for step in ours + peer {
                    report.settings["\(label), \(step.meetings) at once, \(step.way.rawValue)"] = step.summary
                }
                for count in 1...maxMeetings {
                    guard let mine = ours.first(where: { $0.meetings == count && $0.windowSeconds > 0 }),
                          let theirs = peer.first(where: { $0.meetings == count && $0.windowSeconds > 0 }) else { continue }
                    let prefix = "\(label), \(count) at once"
                    func cpu(_ name: String, _ part: (PartUsage) -> Double) {
                        report.add(Figure("\(prefix): \(name) CPU per meeting", unit: "CPU-s/s", ours: mine.perMeeting(part(mine.usage)),
                                          peer: theirs.perMeeting(part(theirs.usage)), peerName: peerName))
                    }
                    cpu("total", \.cpu); cpu("browser", \.browser); cpu("recorder", \.recorder)
                    cpu("X server", \.xServer); cpu("sound server", \.soundServer)
                    report.add(Figure("\(prefix): RSS per meeting", unit: "MB", ours: mine.perMeeting(bytes: mine.usage.rss),
                                      peer: theirs.perMeeting(bytes: theirs.usage.rss), peerName: peerName))
                    report.add(Figure("\(prefix): PSS per meeting", unit: "MB", ours: mine.perMeeting(bytes: mine.usage.pss),
                                      peer: theirs.perMeeting(bytes: theirs.usage.pss), peerName: peerName))
                    report.add(Figure("\(prefix): distinct pictures per meeting", unit: "pictures/s", ours: mine.picturesPerSecond,
                                      peer: theirs.picturesPerSecond, peerName: peerName))
                    report.add(Figure("\(prefix): frames late", unit: "frames", ours: Double(mine.lateFrames),
                                      peer: Double(theirs.lateFrames), peerName: peerName, comparable: false))
                }
            }
            if experiments || experimentsOnly {
                log("\(frame): the browser alone on the \(experimentKind) page, by variant")
                let variants = BrowserExperiments.variants(extra: experimentFlags)
                let outcomes = try await BrowserExperiments(jibri: jibri, seconds: experimentSeconds)
                    .run(variants, rounds: experimentRounds, bench: benches[0], url: served.url(experimentKind), log: log)
                for variant in variants {
                    let mine = outcomes.filter { $0.variant.name == variant.name }
                    func mean(_ value: (BrowserExperiments.Outcome) -> Double) -> Double { mine.map(value).reduce(0, +) / Double(mine.count) }
                    let prefix = "browser alone, \(experimentKind) \(frame), \(variant.name)"
                    report.add(Figure("\(prefix): browser CPU (mean of \(mine.count))", unit: "CPU-s/s", ours: mean(\.browserCPU)))
                    report.add(Figure("\(prefix): browser CPU (least)", unit: "CPU-s/s", ours: mine.map(\.browserCPU).min() ?? 0))
                    report.add(Figure("\(prefix): X server CPU", unit: "CPU-s/s", ours: mean(\.xServerCPU)))
                    report.add(Figure("\(prefix): animation frames per second", unit: "frames/s", ours: mean(\.animationFramesPerSecond)))
                    report.add(Figure("\(prefix): browser RSS", unit: "MB", ours: mean { Double($0.browserRSS) } / 1e6))
                }
            }
            for bench in benches { bench.stop() }
        }
        report.settings["load after"] = Self.uptime()
        report.printTable()
        try report.write(json: common.json)
    }

    /// `uptime`'s load averages, as /proc/loadavg gives them.
    static func uptime() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("capbench meetings: \(message)\n".utf8))
    }
}
