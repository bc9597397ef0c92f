import ArgumentParser
import Encoder
import Foundation
import HostProcesses
import MediaCore
import RecorderEngine

/// A whole recording at given settings: record-display against Jibri's ffmpeg
/// command on the same display and PCM, alternating, with the encoder-only
/// floor (the same encoders fed pre-converted frames of the same content)
/// measured beside both.
struct PipelineBenchmark: ParsableCommand, RunCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline", abstract: "A whole recording against Jibri's ffmpeg command, with the encoder-only floor.")

    @OptionGroup var recording: RunOptions<Defaults>
    enum Defaults: RunDefaults { static let seconds = 20, rounds = 1 }
    @Option(help: "ALSA PCM to record (default $BENCH_CAPTURE_PCM).") var audioDevice: String?
    @Option(help: "ALSA PCM the test tone plays into (default $BENCH_PLAYBACK_PCM).") var playbackDevice: String?
    @Option(help: "x264 preset.") var preset = "ultrafast"
    @Option(help: "Constant rate factor (omit with --no-crf).") var crf = 25
    @Flag(help: "No CRF (streaming settings use maxrate alone).") var noCrf = false
    @Option(help: "x264 tune.") var tune: String?
    @Option(help: "VBV maxrate, e.g. 2976k.") var maxrate: String?
    @Option(help: "VBV bufsize, e.g. 5952k.") var bufsize: String?
    @Option(help: "GOP length in frames.") var gop = 60
    @Option(help: "x264 threads for the engine (0 or none: the engine's choice). ffmpeg runs Jibri's command as is.")
    var encoderThreads: Int?
    @Option(help: "X server PID, to count its CPU (default $BENCH_XVFB_PID).") var serverPid: Int32?
    @Option(help: ArgumentHelp("Run jibri-ffmpeg against ffmpeg, both given Jibri's exact argument list: recording "
                               + "(an MP4 file) or streaming (FLV to --rtmp-url). Sets the x264 options to the list's.",
                               valueName: "list"))
    var jibri: JibriFFmpeg.List?
    @Option(help: "RTMP application URL for --jibri streaming (default $BENCH_RTMP_URL).") var rtmpUrl: String?
    @Option(help: .hidden) var floorFrames: String?
    @Option(help: .hidden) var floorResult: String?
    @OptionGroup var common: CommonOptions

    struct Run {
        var cpu: Double, serverCPU: Double, peakRSS: Int, mediaSeconds: Double
        var dropped: Int, duplicated: Int, avOffset: Double?
        /// x264 threads the engine ended with (nil for ffmpeg).
        var encoderThreads: Int?
        /// Context switches of the recorder's threads.
        var contextSwitches: Int
        var cpuPerSecond: Double { (cpu + serverCPU) / mediaSeconds }
        var recordingCPU: BenchReport.RecordingCPU {
            BenchReport.RecordingCPU(cpu: cpu, serverCPU: serverCPU, mediaSeconds: mediaSeconds)
        }
    }

    mutating func run() throws {
        BenchLogs.quiet()
        if let jibri { adoptSettings(of: jibri) }
        if let floorFrames, let floorResult {
            let (width, height) = try frameSize()
            let frames = try FloorFrames(path: floorFrames, width: width, height: height)
            try String(try measureFloor(frames)).write(toFile: floorResult, atomically: true, encoding: .utf8)
            return
        }
        let environment = ProcessInfo.processInfo.environment
        guard let display = display ?? environment["DISPLAY"] else { throw ValidationError("no display: pass --display") }
        let audio = audioDevice ?? environment["BENCH_CAPTURE_PCM"] ?? "default"
        let playback = playbackDevice ?? environment["BENCH_PLAYBACK_PCM"]
        let (width, height) = try frameSize()
        let server = CPUUsage.serverPID(serverPid)
        let directory = NSTemporaryDirectory() + "capbench-pipeline-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let scene = try TestScene(display: display, width: width, height: height, playbackPCM: playback,
                                  seconds: Double(seconds * rounds * 2 + 10))
        defer { scene.stop() }
        let floorPath = try FloorFrames.grab(display: display, width: width, height: height, fps: fps, directory: directory)
        var ours: [Run] = [], peer: [Run] = [], floors: [Double] = []
        let rtmpURL = rtmpUrl ?? environment["BENCH_RTMP_URL"]
        for round in 0..<rounds {
            if let jibri {
                ours.append(try runProgressPrinter(jibriArguments(
                    jibri, program: ChildProcess.siblingExecutable("jibri-ffmpeg"), display: display, audio: audio, width: width,
                    height: height, output: "\(directory)/jibri-ffmpeg-\(getpid())-\(round).mp4", rtmpURL: rtmpURL), server: server))
                peer.append(try runProgressPrinter(jibriArguments(
                    jibri, program: "ffmpeg", display: display, audio: audio, width: width, height: height,
                    output: "\(directory)/ffmpeg-\(getpid())-\(round).mp4", rtmpURL: rtmpURL), server: server))
            } else {
                ours.append(try runOurs(display: display, audio: audio, width: width, height: height,
                                        output: "\(directory)/ours-\(round).mp4", server: server))
                peer.append(try runFFmpeg(display: display, audio: audio, width: width, height: height,
                                          output: "\(directory)/ffmpeg-\(round).mp4", server: server))
            }
            // The floor runs x264 as the engine did: with as many threads.
            floors.append(try runFloor(frames: floorPath, threads: ours.last?.encoderThreads ?? 1, directory: directory))
        }
        scene.stop()
        let floor = floors.min()!

        let best = ours.min { $0.cpuPerSecond < $1.cpuPerSecond }!
        let bestPeer = peer.min { $0.cpuPerSecond < $1.cpuPerSecond }!
        var settings = ["size": size, "fps": "\(fps)", "preset": preset, "gop": "\(gop)", "seconds": "\(seconds)",
                        "rounds": "\(rounds)", "audio": "AAC 128k 44.1 kHz from \(audio)",
                        "server CPU counted": server == nil ? "no" : "yes"]
        if !noCrf { settings["crf"] = "\(crf)" }
        if let tune { settings["tune"] = tune }
        if let maxrate { settings["maxrate"] = maxrate }
        if let jibri {
            settings["ours"] = "jibri-ffmpeg given Jibri's \(jibri.rawValue) list"
            settings["peer"] = "ffmpeg given the same list"
            settings["arguments"] = try jibriArguments(jibri, program: "PROGRAM", display: display, audio: audio, width: width,
                                                       height: height, output: "OUTPUT.mp4", rtmpURL: rtmpURL)
                .joined(separator: " ")
        }
        var report = BenchReport(benchmark: "pipeline", settings: settings)
        let peerName = jibri == nil ? "Jibri's ffmpeg command" : "ffmpeg, same arguments"
        report.addCPUFigures(ours: best.recordingCPU, peer: bestPeer.recordingCPU, peerName: peerName)
        report.add(Figure("encoder-only floor (libx264 + AAC on pre-converted frames, real time)", unit: "CPU-s/s", ours: floor))
        report.add(Figure("ours over the floor (recorder alone)", unit: "ratio", ours: (best.cpu) / best.mediaSeconds / floor))
        report.add(Figure("ours over the floor (recorder + X server)", unit: "ratio", ours: best.cpuPerSecond / floor))
        report.settings["engine's x264 threads"] = ours.map { $0.encoderThreads.map(String.init) ?? "?" }.joined(separator: ", ")
        report.add(Figure("peak RSS", unit: "MB", ours: Double(best.peakRSS) / 1e6, peer: Double(bestPeer.peakRSS) / 1e6,
                          peerName: peerName))
        report.add(Figure("frames dropped", unit: "frames", ours: Double(best.dropped), peer: Double(bestPeer.dropped),
                          peerName: peerName))
        report.add(Figure("frames duplicated", unit: "frames", ours: Double(best.duplicated), peer: Double(bestPeer.duplicated),
                          peerName: peerName))
        // Issue 10's budget: at most twice the hand-offs the media needs,
        // one per frame, per audio period (10 ms) and per packet (a video
        // packet per frame, an AAC packet per 1024 samples at 44.1 kHz).
        let handOffs = Double(fps) + 100 + Double(fps) + 44_100.0 / 1024
        report.add(Figure("context switches per recorded second", unit: "1/s",
                          ours: Double(best.contextSwitches) / best.mediaSeconds,
                          peer: Double(bestPeer.contextSwitches) / bestPeer.mediaSeconds, peerName: peerName))
        report.add(Figure("context-switch budget: 2 x (fps + audio periods/s + packets/s)", unit: "1/s", ours: 2 * handOffs))
        if let offset = best.avOffset {
            report.add(Figure("A/V offset as measured by the engine", unit: "ms", ours: offset * 1000))
        }
        report.printTable()
        try report.write(json: common.json)
    }

    private func encoderArguments() -> [String] {
        var arguments = ["--preset", preset, "--gop", "\(gop)"]
        if !noCrf { arguments += ["--crf", "\(crf)"] }
        if let tune { arguments += ["--tune", tune] }
        if let maxrate { arguments += ["--maxrate", maxrate] }
        if let bufsize { arguments += ["--bufsize", bufsize] }
        if let encoderThreads { arguments += ["--encoder-threads", "\(encoderThreads)"] }
        return arguments
    }

    private func runOurs(display: String, audio: String, width: Int, height: Int, output: String, server: Int32?) throws -> Run {
        let binary = ChildProcess.siblingExecutable("record-display")
        let stats = output + ".json"
        let server0 = CPUUsage.processSeconds(server) ?? 0
        let child = try Self.run([binary, "--display", display, "--region", "\(width)x\(height)+0+0", "--fps", "\(fps)",
                                      "--audio-device", audio, "--audio-rate", "44100", "--audio-bitrate", "128k",
                                      "--duration", "\(seconds)", "--output", output, "--stats-json", stats]
                                     + encoderArguments())
        let serverCPU = (CPUUsage.processSeconds(server) ?? 0) - server0
        guard child.status == 0 else { throw BenchFailure("record-display failed: \(child.standardError.suffix(400))") }
        let figures = try Self.recordDisplayStatistics(stats)
        return Run(cpu: child.cpuSeconds, serverCPU: serverCPU, peakRSS: child.peakRSSBytes,
                   mediaSeconds: figures["mediaSeconds"] as? Double ?? Double(seconds),
                   dropped: figures["framesDropped"] as? Int ?? -1, duplicated: figures["framesDuplicated"] as? Int ?? -1,
                   avOffset: figures["audioVideoOffset"] as? Double, encoderThreads: figures["encoderThreads"] as? Int,
                   contextSwitches: child.contextSwitches)
    }

    private func runFFmpeg(display: String, audio: String, width: Int, height: Int, output: String, server: Int32?) throws -> Run {
        var arguments = ["ffmpeg", "-nostdin", "-y", "-v", "info", "-f", "x11grab", "-draw_mouse", "0", "-r", "\(fps)",
                         "-s", "\(width)x\(height)", "-thread_queue_size", "4096", "-i", "\(display)+0,0",
                         "-f", "alsa", "-thread_queue_size", "4096", "-i", audio,
                         "-acodec", "aac", "-strict", "-2", "-ar", "44100", "-b:a", "128k", "-af", "aresample=async=1",
                         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "\(fps)", "-preset", preset,
                         "-profile:v", "main", "-g", "\(gop)"]
        if !noCrf { arguments += ["-crf", "\(crf)"] }
        if let tune { arguments += ["-tune", tune] }
        if let maxrate { arguments += ["-maxrate", maxrate] }
        if let bufsize { arguments += ["-bufsize", bufsize] }
        arguments += ["-t", "\(seconds)", "-f", "mp4", output]
        let server0 = CPUUsage.processSeconds(server) ?? 0
        let child = try Self.run(arguments)
        let serverCPU = (CPUUsage.processSeconds(server) ?? 0) - server0
        guard child.status == 0 else { throw BenchFailure("ffmpeg failed: \(child.standardError.suffix(400))") }
        func counter(_ name: String) -> Int { PipelineBenchmark.ffmpegCounter(name, in: child.standardError) }
        return Run(cpu: child.cpuSeconds, serverCPU: serverCPU, peakRSS: child.peakRSSBytes, mediaSeconds: Double(seconds),
                   dropped: counter("drop="), duplicated: counter("dup="), avOffset: nil, encoderThreads: nil,
                   contextSwitches: child.contextSwitches)
    }

    private func frameSize() throws -> (width: Int, height: Int) {
        let parts = size.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2 else { throw ValidationError("--size must be WxH") }
        return (parts[0], parts[1])
    }

    /// The frames the floor encodes: five seconds of the scene the recorders
    /// see, grabbed from the same display by ffmpeg and stored as raw
    /// yuv420p, looped (neither capture nor conversion is in the floor).
    private struct FloorFrames {
        let width: Int, height: Int
        let raw: Data

        /// Grabs the frames into a file in `directory`; returns its path.
        static func grab(display: String, width: Int, height: Int, fps: Int, directory: String) throws -> String {
            let path = "\(directory)/floor.yuv"
            let grab = try PipelineBenchmark.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "x11grab",
                                                  "-draw_mouse", "0", "-r", "\(fps)", "-s", "\(width)x\(height)",
                                                  "-i", "\(display)+0,0", "-t", "5",
                                                  "-f", "rawvideo", "-pix_fmt", "yuv420p", path])
            guard grab.status == 0 else { throw BenchFailure("grabbing frames for the floor failed: \(grab.standardError)") }
            return path
        }

        init(path: String, width: Int, height: Int) throws {
            raw = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            (self.width, self.height) = (width, height)
            guard count > 0 else { throw BenchFailure("no frames grabbed for the floor") }
        }

        var frameBytes: Int { width * height * 3 / 2 }
        var count: Int { raw.count / frameBytes }
    }

    /// The floor in a child process of its own, like the recorders: this
    /// process stays small, since Linux reports a spawned child's peak RSS
    /// as at least its parent's high-water mark at the spawn.
    private func runFloor(frames: String, threads: Int, directory: String) throws -> Double {
        let result = "\(directory)/floor-result"
        var arguments = [ChildProcess.siblingExecutable("capbench"), "pipeline", "--floor-frames", frames,
                         "--floor-result", result, "--size", size, "--fps", "\(fps)", "--preset", preset,
                         "--gop", "\(gop)", "--seconds", "\(seconds)", "--crf", "\(crf)"]
        if noCrf { arguments.append("--no-crf") }
        if let tune { arguments += ["--tune", tune] }
        if let maxrate { arguments += ["--maxrate", maxrate] }
        if let bufsize { arguments += ["--bufsize", bufsize] }
        arguments += ["--encoder-threads", "\(threads)"]
        let child = try Self.run(arguments)
        guard child.status == 0, let text = try? String(contentsOfFile: result, encoding: .utf8), let value = Double(text) else {
            throw BenchFailure("the floor failed: \(child.standardError.suffix(400))")
        }
        return value
    }

    /// libx264 and AAC through our encoders, at the thread count the engine
    /// ended its recording with,
    /// fed `FloorFrames` and a tone in real time (a frame every 1/fps s, as a
    /// display gives them): what no recorder at these settings can go below.
    /// Paced, because x264 spends more per frame when it runs ahead with all
    /// its frame threads busy than when frames arrive at the capture rate.
    /// CPU-s per media-s.
    private func measureFloor(_ frames: FloorFrames) throws -> Double {
        let (width, height) = (frames.width, frames.height)
        let options = VideoEncoderSettings.Preset(rawValue: preset) ?? .ultrafast
        let settings = try VideoEncoderSettings(
            width: width, height: height, fps: fps, preset: options,
            tune: tune.flatMap { VideoEncoderSettings.Tune(rawValue: $0) }, profile: .main, crf: noCrf ? nil : crf,
            maxrate: try maxrate.map { try VideoEncoderSettings.parseBitrate($0, key: .maxrate) },
            bufsize: try bufsize.map { try VideoEncoderSettings.parseBitrate($0, key: .bufsize) }, gop: gop,
            threads: encoderThreads ?? 1)
        let cpu0 = CPUUsage.ownSeconds()
        let encoder = try VideoEncoder(settings: settings, inputWidth: width, inputHeight: height)
        let audioEncoder = try AudioEncoder(settings: AudioEncoderSettings(sampleRate: 44_100, channels: 2, bitrate: 128_000),
                                            inputFormat: AudioFormat(sampleFormat: .s16, sampleRate: 48_000, channels: 2))
        let mediaFrames = seconds * fps
        let tone = (0..<(48_000 / fps * 2)).map { Int16(16_000 * sin(Double($0 / 2) * 2 * .pi * 440 / 48_000)) }
        let clock = MonotonicClock()
        let start = clock.now()
        try frames.raw.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            for index in 0..<mediaFrames {
                clock.sleep(until: start + Int64(index) * 1_000_000_000 / Int64(fps))
                let frame = bytes.baseAddress! + (index % frames.count) * frames.frameBytes
                try encoder.encodeI420(frameIndex: Int64(index), fill: { planes in
                    Self.copyPlane(from: frame, width: width, height: height, to: planes.y, stride: planes.strideY)
                    let chroma = frame + width * height
                    Self.copyPlane(from: chroma, width: width / 2, height: height / 2, to: planes.u, stride: planes.strideU)
                    Self.copyPlane(from: chroma + width * height / 4, width: width / 2, height: height / 2,
                                   to: planes.v, stride: planes.strideV)
                }, emit: { _ in })
                try tone.withUnsafeBytes { samples in
                    try audioEncoder.encode(interleaved: samples.baseAddress!, frameCount: 48_000 / fps, emit: { _ in })
                }
            }
        }
        try encoder.flush { _ in }
        try audioEncoder.flush { _ in }
        // The plane copies stand in for the conversion a real source would do;
        // they are cheap (a memcpy per row) and counted, to stay conservative.
        return (CPUUsage.ownSeconds() - cpu0) / Double(seconds)
    }

    /// The `statistics` object of a `record-display --stats-json` file
    /// (empty when it has none). Throws when the file cannot be read.
    static func recordDisplayStatistics(_ path: String) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        return json?["statistics"] as? [String: Any] ?? [:]
    }

    /// The last value ffmpeg's progress line gave `name` (`drop=`, `dup=`)
    /// in `standardError`; 0 when it never printed one (it prints them only
    /// once they are non-zero).
    static func ffmpegCounter(_ name: String, in standardError: String) -> Int {
        let pieces = standardError.components(separatedBy: name)
        guard pieces.count > 1, let tail = pieces.last else { return 0 }
        return Int(tail.trimmingCharacters(in: .whitespaces).prefix { $0.isNumber }) ?? 0
    }

    /// Runs a command to its end: its exit status, own CPU and peak memory
    /// (from `wait4`), and what it printed on stderr.
    static func run(_ arguments: [String]) throws -> (status: Int32, cpuSeconds: Double, peakRSSBytes: Int,
                                                   contextSwitches: Int, standardError: String) {
        let errors = NSTemporaryDirectory() + "capbench-pipeline-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).err"
        defer { unlink(errors) }
        let outcome = try ChildProcess(arguments, standardError: .file(errors)).wait()
        return (outcome.status, outcome.cpuSeconds, outcome.peakRSSBytes, outcome.contextSwitches,
                (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")
    }

    private static func copyPlane(from source: UnsafeRawPointer, width: Int, height: Int,
                                  to destination: UnsafeMutablePointer<UInt8>, stride: Int) {
        for row in 0..<height {
            (destination + row * stride).update(from: (source + row * width).assumingMemoryBound(to: UInt8.self), count: width)
        }
    }
}
