import Foundation
import Testing
import TestSupport

/// Every capbench subcommand, run briefly (tiny sizes and durations) through
/// the built binary on the test bench: the table is printed, the JSON holds
/// the figures with sane values, and every same-work check holds. Never a
/// speed: these run on a shared machine while others build.
@Suite(.serialized, .tags(.bench)) struct CapbenchTests {
    /// The debug binaries `swift build --build-tests` makes.
    static let binary = "\(Repository.root)/.build/debug/capbench"
    static let recordDisplay = "\(Repository.root)/.build/debug/record-display"

    /// One figure as the JSON holds it.
    struct Figure {
        let name: String
        let unit: String
        let ours: Double
        let peer: Double?
        let ratio: Double?
    }

    /// What a run printed and wrote.
    struct Run {
        let table: String
        let settings: [String: String]
        let figures: [Figure]

        func figure(_ name: String) throws -> Figure {
            try #require(figures.first { $0.name == name }, "no figure '\(name)' in \(figures.map(\.name))")
        }

        func figures(containing text: String) -> [Figure] { figures.filter { $0.name.contains(text) } }
    }

    /// Runs `capbench SUBCOMMAND ARGUMENTS --json FILE` on the bench and reads both outputs.
    private func capbench(_ subcommand: String, _ arguments: [String]) throws -> Run {
        let bench = try TestBench.current()
        #expect(access(Self.binary, X_OK) == 0, "\(Self.binary) is missing: run `swift build --build-tests` first")
        let json = "\(try bench.scratchDirectory(subcommand))/\(subcommand).json"
        let result = try Subprocess.run([Self.binary, subcommand] + arguments + ["--json", json])
        try #require(result.status == 0, "capbench \(subcommand) exited with \(result.status): \(result.standardError.suffix(1500))")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let report = try #require(object)
        #expect(report["benchmark"] as? String == subcommand)
        #expect((report["machine"] as? String)?.contains("cores") == true)
        let figures = try #require(report["figures"] as? [[String: Any]]).map { figure in
            Figure(name: figure["name"] as? String ?? "", unit: figure["unit"] as? String ?? "",
                   ours: figure["ours"] as? Double ?? .nan, peer: figure["peer"] as? Double, ratio: figure["ratio"] as? Double)
        }
        #expect(!figures.isEmpty, "no figures")
        // The table names every figure, under its header.
        #expect(result.standardOutput.contains("figure") && result.standardOutput.contains("ours/peer"))
        for figure in figures {
            #expect(result.standardOutput.contains(figure.name), "the table lacks '\(figure.name)'")
            #expect(figure.ours.isFinite, "\(figure.name): ours is \(figure.ours)")
        }
        return Run(table: result.standardOutput, settings: report["settings"] as? [String: String] ?? [:], figures: figures)
    }

    /// A figure measured on both sides: both positive, the ratio theirs.
    private func expectCompared(_ figure: Figure, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(figure.ours > 0, "\(figure.name): ours \(figure.ours)", sourceLocation: sourceLocation)
        guard let peer = figure.peer, let ratio = figure.ratio else {
            Issue.record("\(figure.name): no peer figure or ratio", sourceLocation: sourceLocation)
            return
        }
        #expect(peer > 0, "\(figure.name): peer \(peer)", sourceLocation: sourceLocation)
        #expect(abs(ratio - figure.ours / peer) < 1e-9 * max(1, ratio), "\(figure.name): ratio \(ratio)",
                sourceLocation: sourceLocation)
    }

    @Test func ringOnTheBenchComparesTheRingWithAMutexQueue() throws {
        let run = try capbench("ring", ["--items", "50000", "--trials", "1", "--capacity", "64"])
        expectCompared(try run.figure("handoffs per second"))
    }

    @Test func captureOnTheBenchComparesGrabsWithFFmpegX11grab() throws {
        let run = try capbench("capture", ["--size", "320x240", "--seconds", "0.5", "--rounds", "1"])
        #expect(run.figures.count == 5)
        for figure in run.figures where !figure.name.contains("X server share") { expectCompared(figure) }
    }

    @Test func convertOnTheBenchComparesLibyuvWithSwscaleOnTheSamePicture() throws {
        let run = try capbench("convert", ["--sizes", "320x240,160x96", "--frames", "3", "--rounds", "2"])
        #expect(run.figures.count == 4)
        for figure in run.figures {
            #expect(figure.unit == "ms/frame")
            expectCompared(figure)
        }
        // Same work: both converters make the same picture, to rounding.
        for size in ["320x240", "160x96"] {
            let difference = try #require(run.settings["\(size) mean |Y libyuv - Y swscale|"]
                .flatMap { Double($0.split(separator: " ")[0]) })
            #expect(difference < 1.5, "\(size): luma differs by \(difference) levels")
        }
    }

    @Test func encodeOnTheBenchComparesOurEncodersWithFFmpegOnTheSameInput() throws {
        let run = try capbench("encode", ["--recording-size", "320x240", "--streaming-size", "256x144", "--frames", "30",
                                          "--distinct-frames", "10", "--audio-seconds", "2", "--rounds", "1"])
        #expect(run.figures.count == 6)
        for figure in run.figures { expectCompared(figure) }
        // Same work: the same settings give about the same bit rate.
        for figure in run.figures(containing: "bit rate") {
            let ratio = figure.ratio ?? 0
            #expect(ratio > 0.67 && ratio < 1.5, "\(figure.name): ours/peer \(ratio)")
        }
        #expect(run.figures(containing: "CPU per media second").count == 3)
    }

    @Test func finalizeComparesFinishingInPlaceWithFFmpegsFaststartRemux() throws {
        let run = try capbench("finalize", ["--hours", "0.005", "--bitrate", "1M"])
        expectCompared(try run.figure("0.005 h at 1M: seconds to finish"))
        let extra = try run.figure("0.005 h at 1M: extra disk needed to finish")
        #expect(extra.ours == 0, "finishing in the reserve needs no space")
        #expect((extra.peer ?? 0) > 1_000_000, "the remux copies the whole recording: \(extra.peer ?? 0)")
        #expect(try run.figure("0.005 h at 1M: index before the media (1 yes, 0 no)").ours == 1)
        #expect(try run.figure("0.005 h at 1M: fragments").ours >= 17)
    }

    @Test func avsyncOnTheBenchPairsRampsAndBeepsForBothRecorders() throws {
        let run = try capbench("avsync", ["--seconds", "6", "--size", "320x240", "--calibration-seconds", "4"])
        let paired = try run.figure("events paired")
        #expect(paired.ours >= 3 && (paired.peer ?? 0) >= 3, "pairs: ours \(paired.ours), ffmpeg \(paired.peer ?? 0)")
        let mean = try run.figure("A/V offset, mean")
        // Pairs are sought up to 2.5 s apart (ffmpeg on this loopback is off by about half a second).
        #expect(abs(mean.ours) <= 2500 && abs(mean.peer ?? 9999) <= 2500, "offsets must come from paired events")
        #expect(mean.ratio == nil, "a signed offset has no ratio")
        let deviation = try run.figure("A/V offset, standard deviation")
        #expect(deviation.ours >= 0 && (deviation.peer ?? -1) >= 0)
        _ = try run.figure("A/V drift, first to last event")
        // Every paired event was named by the pure capture, so the probe's own
        // error could be taken out of each.
        let named = try run.figure("events named by the pure capture")
        #expect(named.ours >= 3 && (named.peer ?? 0) >= 3, "named: ours \(named.ours), ffmpeg \(named.peer ?? 0)")
        let net = try run.figure("A/V offset, net of the probe, mean")
        #expect(abs(net.ours) <= 2500 && abs(net.peer ?? 9999) <= 2500)
        // The onset is read off the ramp: several pictures per ramp, and the
        // spread split into its video and audio sides.
        let pictures = try run.figure("pictures on each ramp, mean")
        #expect(pictures.ours >= 1 && pictures.ours <= 6 && (pictures.peer ?? 0) >= 1, "pictures per ramp: \(pictures)")
        for side in ["video side: ramp start in the file less its instant, sd about its line",
                     "audio side: beep in the file less its pure-capture stamp, sd about its line"] {
            let figure = try run.figure(side)
            #expect(figure.ours >= 0 && (figure.peer ?? -1) >= 0, "\(side): \(figure)")
        }
        // The probe's bounds were measured, and the analysis reads an aligned file as aligned.
        let step = try run.figure("probe: ramp step, fill request to XSync returned, max")
        #expect(step.ours >= 0 && step.ours < 200)
        let departure = try run.figure("probe: ramp step on screen less the nominal ramp's time for its level, max |.|")
        #expect(departure.ours >= 0 && departure.ours < 200)
        let beep = try run.figure("probe: beep as a pure capture stamped it, after its instant, mean")
        #expect(abs(beep.ours) < 200, "a beep stamped \(beep.ours) ms from its instant")
        let reference = try run.figure("analysis check: offset in a file aligned by construction, mean")
        #expect(abs(reference.ours) < 2, "the analysis is \(reference.ours) ms off on an aligned file")
        #expect(!run.figures(containing: "pure capture: A/V offset").isEmpty, "the pure capture found no pair")
        _ = try run.figure("pure capture: picture taken after its grab stamp, mean")
    }

    @Test func concurrencyOnTheBenchStepsRecordingsForBothRecorders() throws {
        let run = try capbench("concurrency", ["--max-sessions", "1", "--seconds", "3", "--size", "320x240"])
        let held = try run.figure("most recordings held at once")
        #expect([0, 1].contains(held.ours) && [0, 1].contains(held.peer ?? -1))
        expectCompared(try run.figure("1 at once: CPU per media second, all recorders"))
        let drops = try run.figure("1 at once: frames dropped or duplicated")
        #expect(drops.ours >= 0 && (drops.peer ?? -1) >= 0)
        #expect(run.settings["1 at once, engine"]?.contains("/90 frames") == true, "\(run.settings)")
    }

    @Test func pipelineOnTheBenchMeasuresRecordDisplayFFmpegAndTheFloor() throws {
        #expect(access(Self.recordDisplay, X_OK) == 0, "\(Self.recordDisplay) is missing")
        let run = try capbench("pipeline", ["--size", "320x240", "--seconds", "2"])
        expectCompared(try run.figure("CPU per recorded second (recorder + X server)"))
        expectCompared(try run.figure("recorder CPU alone"))
        expectCompared(try run.figure("peak RSS"))
        #expect(try run.figure("encoder-only floor (libx264 + AAC on pre-converted frames, real time)").ours > 0)
        #expect(try run.figure("ours over the floor (recorder alone)").ours > 0)
        #expect(run.settings["engine's x264 threads"] == "1", "a 320x240 recording needs one x264 thread: \(run.settings)")
        #expect(try run.figure("frames dropped").ours >= 0)
        #expect(run.settings["size"] == "320x240" && run.settings["preset"] == "ultrafast")
    }

    /// Two renditions from one capture against ffmpeg's split, and the
    /// scaling per frame; small sizes and 2 s keep it brief.
    @Test func renditionsOnTheBenchMeasuresAFileAndAScaledStreamAgainstFFmpegSplit() throws {
        #expect(access(Self.recordDisplay, X_OK) == 0, "\(Self.recordDisplay) is missing")
        let run = try capbench("renditions", ["--size", "320x240", "--stream-size", "160x120", "--seconds", "2",
                                              "--scale-frames", "5", "--scale-rounds", "2"])
        expectCompared(try run.figure("CPU per recorded second (recorder + X server)"))
        expectCompared(try run.figure("peak RSS"))
        expectCompared(try run.figure("320x240->160x120 I420 scale, best batch"))
        expectCompared(try run.figure("320x240->160x120 ffmpeg's scaled branch (BGRA -> yuv420p), best batch"))
        // Both streams reached the RTMP server whole.
        let received = try run.figure("frames the RTMP server received")
        #expect(received.ours == 60 && received.peer == 60, "\(received)")
        #expect(run.settings["stream size"] == "160x120")
    }

    /// `--jibri`: jibri-ffmpeg and ffmpeg given the same Jibri list, each
    /// recording as long as asked (read from their own progress lines).
    @Test(arguments: ["recording", "streaming"])
    func pipelineJibriMeasuresJibriFFmpegAgainstFFmpegWithTheSameArguments(list: String) throws {
        #expect(access("\(Repository.root)/.build/debug/jibri-ffmpeg", X_OK) == 0, "jibri-ffmpeg is missing")
        let run = try capbench("pipeline", ["--size", "320x240", "--seconds", "2", "--jibri", list])
        expectCompared(try run.figure("CPU per recorded second (recorder + X server)"))
        expectCompared(try run.figure("peak RSS"))
        #expect(run.settings["ours"] == "jibri-ffmpeg given Jibri's \(list) list", "\(run.settings)")
        let arguments = try #require(run.settings["arguments"])
        #expect(arguments.contains(list == "recording" ? "-preset ultrafast -profile:v main -level 3.1" : "-tune zerolatency -g 60"))
        #expect(run.settings["gop"] == (list == "recording" ? "250" : "60"))
        #expect(run.settings["engine's x264 threads"] == "1", "\(run.settings)")
    }

    @Test func resolutionSweepOnTheBenchMeasuresRecordDisplayAndFFmpeg() throws {
        #expect(access(Self.recordDisplay, X_OK) == 0, "\(Self.recordDisplay) is missing")
        let run = try capbench("resolution-sweep", ["--sizes", "320x240", "--seconds", "2",
                                                    "--record-display", Self.recordDisplay])
        #expect(run.figures.count == 4)
        expectCompared(try run.figure("320x240 CPU per recorded second, recorder + X server"))
        expectCompared(try run.figure("320x240 CPU per recorded second, recorder alone"))
        expectCompared(try run.figure("320x240 peak RSS"))
    }

    @Test func scenesOnTheBenchMeasuresDamageFullGrabsAndFFmpeg() throws {
        #expect(access(Self.recordDisplay, X_OK) == 0, "\(Self.recordDisplay) is missing")
        let run = try capbench("scenes", ["--size", "320x240", "--seconds", "2", "--rounds", "1", "--scenes", "static,motion"])
        for scene in ["static", "motion"] {
            expectCompared(try run.figure("\(scene): CPU per recorded second, recorder + X server"))
            expectCompared(try run.figure("\(scene): CPU per recorded second, recorder alone"))
            expectCompared(try run.figure("\(scene): full grabs, CPU per recorded second, recorder + X server"))
            #expect(try run.figure("\(scene): DAMAGE over full grabs, recorder + X server").ours > 0)
        }
        // Sanity, not speed: a still scene is (almost) all unchanged frames
        // and skipped pictures, a moving one (almost) none.
        #expect(try run.figure("static: unchanged frames (no grab, no conversion)").ours > 0.9)
        #expect(try run.figure("static: frames written as skipped pictures (no x264)").ours > 0.9)
        #expect(try run.figure("motion: unchanged frames (no grab, no conversion)").ours < 0.2)
        #expect(run.settings["size"] == "320x240")
    }

    @Test func cursorMeasuresThePointersCostAgainstFFmpegsDrawMouse() throws {
        #expect(access(Self.recordDisplay, X_OK) == 0, "\(Self.recordDisplay) is missing")
        // One scene: the other takes the same path with another picture.
        let run = try capbench("cursor", ["--size", "320x240", "--seconds", "1", "--quiet-seconds", "0.5", "--rounds", "1",
                                          "--scenes", "static"])
        #expect(try run.figure("pointer query (XQueryPointer), round trip").ours > 0)
        #expect(try run.figure("draw and restore a 32x32 pointer on a 320x240 picture, encode thread CPU").ours > 0)
        expectCompared(try run.figure("static: CPU per frame with the pointer drawn, recorder + X server"))
        expectCompared(try run.figure("static: CPU per frame without it"))
        // A difference of two runs: may come out below zero on a busy machine.
        #expect(try run.figure("static: cost of drawing the pointer per frame").peer != nil)
    }

    @Test func costsOnTheBenchMeasuresASessionPerSizeAndPresetAndFitsALine() throws {
        let run = try capbench("costs", ["--sizes", "320x240,640x360", "--presets", "ultrafast", "--seconds", "2"])
        let small = try run.figure("ultrafast 320x240@30: CPU per second at full rate").ours
        let larger = try run.figure("ultrafast 640x360@30: CPU per second at full rate").ours
        #expect(small > 0 && small < 2 && larger > 0 && larger < 2, "\(small) \(larger)")
        // A line through two noisy points: its sign is the machine's, not capbench's
        // (CI saw a slope below zero once). The figures must be there and be numbers.
        #expect(try run.figure("ultrafast fit: base").ours.isFinite)
        #expect(try run.figure("ultrafast fit: per megapixel per second").ours.isFinite)
    }

    @Test func nomediaMeasuresTheFrozenPictureAndSilenceChecks() throws {
        let run = try capbench("nomedia", ["--sizes", "320x240", "--frames", "200", "--periods", "2000"])
        #expect(try run.figure("frozen-picture check, 320x240, per frame").ours > 0)
        #expect(try run.figure("silence check, per 1024-frame period").ours > 0)
    }

    @Test func soakOnTheBenchRecordsTheProbeAndReportsOffsetMemoryAndFrames() throws {
        let run = try capbench("soak", ["--minutes", "0.15", "--size", "320x240"])
        let paired = try run.figure("events paired")
        #expect(paired.ours >= 5, "pairs: \(paired.ours)")
        let named = try run.figure("events named by the pure capture")
        #expect(named.ours >= 5, "named: \(named.ours)")
        for name in ["A/V offset, min", "A/V offset, max", "A/V offset, net of the probe, min", "A/V offset, net of the probe, max"] {
            let figure = try run.figure(name)
            #expect(abs(figure.ours) < 500 && figure.ratio == nil, "\(name): \(figure.ours)")
        }
        #expect(try run.figure("A/V offset, min").ours <= run.figure("A/V offset, max").ours)
        _ = try run.figure("A/V drift, net of the probe, first to last event")
        for name in ["RSS at the end (last sample while recording)", "RSS peak while recording (VmHWM)",
                     "RSS once the session was released"] {
            let figure = try run.figure(name)
            #expect(figure.ours > 10 && figure.ours < 4000, "\(name): \(figure.ours) MB")
        }
        let media = try run.figure("media recorded")
        #expect(abs(media.ours - 9) < 0.1, "\(media.ours) s recorded")
        #expect(try run.figure("frames encoded").ours == 270)
        _ = try run.figure("frames dropped")
        _ = try run.figure("audio silence filled")
    }

    /// One 720p grid meeting each way, briefly, with one browser-alone
    /// variant: the fields are there and sane. Needs the recorderd product
    /// built next to capbench (`swift build --product recorderd`), chromium and python3.
    @Test func meetingsRecordsAPageBothWaysAndSplitsTheCPU() throws {
        let run = try capbench("meetings", ["--pages", "grid", "--sizes", "1280x720", "--max-meetings", "1", "--seconds", "6",
                                            "--experiments", "--experiment-seconds", "2", "--experiment-rounds", "1"])
        let held = try run.figure("grid 1280x720: most meetings held")
        #expect(held.ours <= 1 && (held.peer ?? -1) >= 0 && (held.peer ?? 2) <= 1)
        for part in ["total", "browser", "recorder", "X server", "sound server"] {
            let figure = try run.figure("grid 1280x720, 1 at once: \(part) CPU per meeting")
            #expect(figure.ours >= 0 && figure.ours < 4 && (figure.peer ?? -1) >= 0, "\(figure.name): \(figure.ours) / \(figure.peer ?? -1)")
        }
        expectCompared(try run.figure("grid 1280x720, 1 at once: browser CPU per meeting"))
        expectCompared(try run.figure("grid 1280x720, 1 at once: recorder CPU per meeting"))
        for memory in ["RSS", "PSS"] {
            let figure = try run.figure("grid 1280x720, 1 at once: \(memory) per meeting")
            #expect(figure.ours > 50 && figure.ours < 4000 && (figure.peer ?? 0) > 50, "\(figure.name): \(figure.ours) / \(figure.peer ?? 0)")
        }
        _ = try run.figure("grid 1280x720, 1 at once: frames late")
        // Both files show the grid's moving tiles: most of the 30 slots a second a picture of their own.
        let pictures = try run.figure("grid 1280x720, 1 at once: distinct pictures per meeting")
        #expect(pictures.ours > 10 && pictures.ours <= 30.5 && (pictures.peer ?? 0) > 10 && (pictures.peer ?? 31) <= 30.5,
                "\(pictures.ours) / \(pictures.peer ?? -1) pictures/s")
        // PageBrowser limits the page's animation frames to the recording's 30 a second.
        let rate = try run.figure("browser alone, grid 1280x720, PageBrowser's flags: animation frames per second")
        #expect(rate.ours > 5 && rate.ours < 35, "\(rate.ours) frames/s")
        _ = try run.figure("browser alone, grid 1280x720, PageBrowser's flags: browser CPU (mean of 1)")
        #expect(run.settings["load before"] != nil && run.settings["grid 1280x720, 1 at once, recorderd"] != nil)
    }

    @Test func badInputIsRefusedWithANonZeroStatus() throws {
        _ = try TestBench.current()
        let result = try Subprocess.run([Self.binary, "convert", "--sizes", "33x7"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("33x7"), "\(result.standardError)")
        for (option, value) in [("--browser-nice", "30"), ("--least-pictures", "2")] {
            let meetings = try Subprocess.run([Self.binary, "meetings", option, value])
            #expect(meetings.status != 0)
            #expect(meetings.standardError.contains(option) && meetings.standardError.contains(value), "\(meetings.standardError)")
        }
    }
}
