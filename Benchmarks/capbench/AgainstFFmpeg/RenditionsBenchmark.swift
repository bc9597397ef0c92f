import ArgumentParser
import CFFmpeg
import CYUV
import Foundation
import HostProcesses

/// Two renditions from one capture (issue 14): record-display writing a file
/// at the capture size (ultrafast, CRF 25) and streaming a smaller rendition
/// (veryfast, zerolatency, maxrate 2976k, bufsize 5952k) from one grab and
/// one BGRA -> I420 conversion per frame, against one ffmpeg process doing
/// the same with `-filter_complex split` (one x11grab, the picture split,
/// one branch scaled, two libx264 encoders, and one AAC encoder per output,
/// as ffmpeg encodes sound for each output), alternating in the same run.
///
/// Beside it, the cost of the scaling itself per capture-size frame: libyuv
/// `I420Scale` (box filter) from the converted picture, as
/// `RenditionPictures` scales, against libswscale bicubic (ffmpeg's `scale`
/// default) on the same I420 picture, and against what ffmpeg's scaled
/// branch really runs (BGRA at the capture size to yuv420p at the smaller
/// size in one `sws_scale`). Thread CPU time, alternating batches.
struct RenditionsBenchmark: ParsableCommand, RunCommand {
    static let configuration = CommandConfiguration(
        commandName: "renditions",
        abstract: "A file and a scaled stream from one capture against ffmpeg -filter_complex split; the scaling per frame.")

    @OptionGroup var recording: RunOptions<Defaults>
    enum Defaults: RunDefaults { static let seconds = 20, rounds = 1 }
    @Option(help: "ALSA PCM to record (default $BENCH_CAPTURE_PCM).") var audioDevice: String?
    @Option(help: "ALSA PCM the test tone plays into (default $BENCH_PLAYBACK_PCM).") var playbackDevice: String?
    @Option(help: "RTMP application URL the stream goes to (default $BENCH_RTMP_URL).") var rtmpUrl: String?
    @Option(help: "Stream rendition size WxH.") var streamSize = "1280x720"
    @Option(help: "Scalings per timed batch.") var scaleFrames = 60
    @Option(help: "Timed batches per scaler.") var scaleRounds = 7
    @Option(help: "X server PID, to count its CPU (default $BENCH_XVFB_PID).") var serverPid: Int32?
    @OptionGroup var common: CommonOptions

    /// The file's settings (Jibri's recording defaults) and the stream's (a
    /// typical live ingest's).
    static let fileSettings = (preset: "ultrafast", crf: 25, gop: 60)
    static let streamSettings = (preset: "veryfast", tune: "zerolatency", maxrate: "2976k", bufsize: "5952k", gop: 60)

    struct Run {
        var cpu: Double, serverCPU: Double, peakRSS: Int, mediaSeconds: Double
        var dropped: Int, duplicated: Int
        /// Frames the stream's copy on the RTMP server holds.
        var streamFrames: Int
        var cpuPerSecond: Double { (cpu + serverCPU) / mediaSeconds }
        var recordingCPU: BenchReport.RecordingCPU {
            BenchReport.RecordingCPU(cpu: cpu, serverCPU: serverCPU, mediaSeconds: mediaSeconds)
        }
    }

    mutating func run() throws {
        BenchLogs.quiet()
        let full = try FrameSize(parsing: size), small = try FrameSize(parsing: streamSize)
        guard seconds >= 1, rounds >= 1, scaleFrames >= 1, scaleRounds >= 1 else {
            throw ValidationError("--seconds, --rounds, --scale-frames and --scale-rounds must be positive")
        }
        let environment = ProcessInfo.processInfo.environment
        guard let display = display ?? environment["DISPLAY"] else { throw ValidationError("no display: pass --display") }
        guard let rtmp = rtmpUrl ?? environment["BENCH_RTMP_URL"] else {
            throw ValidationError("no RTMP server: pass --rtmp-url (scripts/testbench --parts x11,audio,rtmp sets it)")
        }
        let audio = audioDevice ?? environment["BENCH_CAPTURE_PCM"] ?? "default"
        let server = CPUUsage.serverPID(serverPid)
        let scratch = try ScratchDirectory("renditions")

        var report = BenchReport(benchmark: "renditions", settings: [
            "size": "\(full)", "stream size": "\(small)", "fps": "\(fps)", "seconds": "\(seconds)", "rounds": "\(rounds)",
            "file": "\(full) libx264 \(Self.fileSettings.preset) crf \(Self.fileSettings.crf) gop \(Self.fileSettings.gop)",
            "stream": "\(small) libx264 \(Self.streamSettings.preset) tune \(Self.streamSettings.tune) maxrate "
                + "\(Self.streamSettings.maxrate) bufsize \(Self.streamSettings.bufsize) gop \(Self.streamSettings.gop), RTMP",
            "audio": "AAC 128k 44.1 kHz from \(audio) (ours: one encode for both outputs; ffmpeg: one per output)",
            "ours": "record-display --rendition live:... --stream URL@live (one grab, one conversion, one I420Scale)",
            "peer": "one ffmpeg: x11grab, -filter_complex split=2 + scale (bicubic), two libx264, two AAC",
            "server CPU counted": server == nil ? "no" : "yes",
            "scaling timing": "thread CPU time, best and median of \(scaleRounds) batches of \(scaleFrames)",
        ])
        try measureScaling(full: full, small: small, into: &report)

        let scene = try TestScene(display: display, width: full.width, height: full.height, playbackPCM:
                                  playbackDevice ?? environment["BENCH_PLAYBACK_PCM"], seconds: Double(seconds * rounds * 2 + 10))
        defer { scene.stop() }
        var ours: [Run] = [], peer: [Run] = []
        for round in 0..<rounds {
            let key = "renditions\(getpid())r\(round)"
            ours.append(try runOurs(display: display, audio: audio, full: full, small: small, output: scratch.file("ours-\(round).mp4"),
                                    stream: "\(rtmp)/\(key)o", server: server))
            peer.append(try runFFmpeg(display: display, audio: audio, full: full, small: small,
                                      output: scratch.file("ffmpeg-\(round).mp4"), stream: "\(rtmp)/\(key)f", server: server))
        }
        scene.stop()
        let best = ours.min { $0.cpuPerSecond < $1.cpuPerSecond }!
        let bestPeer = peer.min { $0.cpuPerSecond < $1.cpuPerSecond }!
        let peerName = "ffmpeg -filter_complex split"
        report.addCPUFigures(ours: best.recordingCPU, peer: bestPeer.recordingCPU, peerName: peerName)
        report.add(Figure("peak RSS", unit: "MB", ours: Double(best.peakRSS) / 1e6, peer: Double(bestPeer.peakRSS) / 1e6,
                          peerName: peerName))
        report.add(Figure("frames dropped", unit: "frames", ours: Double(best.dropped), peer: Double(bestPeer.dropped),
                          peerName: peerName, comparable: false))
        report.add(Figure("frames duplicated", unit: "frames", ours: Double(best.duplicated), peer: Double(bestPeer.duplicated),
                          peerName: peerName, comparable: false))
        report.add(Figure("frames the RTMP server received", unit: "frames", ours: Double(best.streamFrames),
                          peer: Double(bestPeer.streamFrames), peerName: peerName, comparable: false))
        report.settings["runs, ours (CPU-s/s)"] = ours.map { String(format: "%.3f", $0.cpuPerSecond) }.joined(separator: ", ")
        report.settings["runs, ffmpeg (CPU-s/s)"] = peer.map { String(format: "%.3f", $0.cpuPerSecond) }.joined(separator: ", ")
        report.printTable()
        try report.write(json: common.json)
    }

    // MARK: The recordings

    private func runOurs(display: String, audio: String, full: FrameSize, small: FrameSize, output: String, stream: String,
                         server: Int32?) throws -> Run {
        let stats = output + ".json"
        let file = Self.fileSettings, live = Self.streamSettings
        let server0 = CPUUsage.processSeconds(server) ?? 0
        let child = try PipelineBenchmark.run([
            ChildProcess.siblingExecutable("record-display"), "--display", display, "--region", "\(full.width)x\(full.height)+0+0",
            "--fps", "\(fps)", "--audio-device", audio, "--audio-rate", "44100", "--audio-bitrate", "128k",
            "--duration", "\(seconds)", "--preset", file.preset, "--crf", "\(file.crf)", "--gop", "\(file.gop)",
            "--output", output, "--stats-json", stats,
            "--rendition", "live:\(small.width)x\(small.height),preset=\(live.preset),tune=\(live.tune),maxrate=\(live.maxrate),"
                + "bufsize=\(live.bufsize),gop=\(live.gop)",
            "--stream", "\(stream)@live",
        ])
        let serverCPU = (CPUUsage.processSeconds(server) ?? 0) - server0
        guard child.status == 0 else { throw BenchFailure("record-display failed: \(child.standardError.suffix(400))") }
        let figures = try PipelineBenchmark.recordDisplayStatistics(stats)
        return Run(cpu: child.cpuSeconds, serverCPU: serverCPU, peakRSS: child.peakRSSBytes,
                   mediaSeconds: figures["mediaSeconds"] as? Double ?? Double(seconds),
                   dropped: figures["framesDropped"] as? Int ?? -1, duplicated: figures["framesDuplicated"] as? Int ?? -1,
                   streamFrames: Self.receivedFrames(stream))
    }

    private func runFFmpeg(display: String, audio: String, full: FrameSize, small: FrameSize, output: String, stream: String,
                           server: Int32?) throws -> Run {
        let file = Self.fileSettings, live = Self.streamSettings
        let sound = ["-c:a", "aac", "-ar", "44100", "-b:a", "128k", "-af", "aresample=async=1"]
        let arguments = ["ffmpeg", "-nostdin", "-y", "-v", "info", "-f", "x11grab", "-draw_mouse", "0", "-r", "\(fps)",
                         "-s", "\(full.width)x\(full.height)", "-thread_queue_size", "4096", "-i", "\(display)+0,0",
                         "-f", "alsa", "-thread_queue_size", "4096", "-i", audio,
                         "-filter_complex", "[0:v]split=2[file][live];[live]scale=\(small.width):\(small.height)[small]",
                         "-map", "[file]", "-map", "1:a", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", file.preset,
                         "-crf", "\(file.crf)", "-profile:v", "main", "-g", "\(file.gop)"] + sound
            + ["-t", "\(seconds)", "-f", "mp4", output,
               "-map", "[small]", "-map", "1:a", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", live.preset,
               "-tune", live.tune, "-maxrate", live.maxrate, "-bufsize", live.bufsize, "-profile:v", "main",
               "-g", "\(live.gop)"] + sound + ["-t", "\(seconds)", "-f", "flv", stream]
        let server0 = CPUUsage.processSeconds(server) ?? 0
        let child = try PipelineBenchmark.run(arguments)
        let serverCPU = (CPUUsage.processSeconds(server) ?? 0) - server0
        guard child.status == 0 else { throw BenchFailure("ffmpeg failed: \(child.standardError.suffix(400))") }
        func counter(_ name: String) -> Int { PipelineBenchmark.ffmpegCounter(name, in: child.standardError) }
        return Run(cpu: child.cpuSeconds, serverCPU: serverCPU, peakRSS: child.peakRSSBytes, mediaSeconds: Double(seconds),
                   dropped: counter("drop="), duplicated: counter("dup="), streamFrames: Self.receivedFrames(stream))
    }

    /// Video frames in the RTMP server's recording of `stream` (nginx-rtmp
    /// `record all` into $BENCH_RTMP_RECORD_DIR as KEY.flv), 0 when unknown.
    private static func receivedFrames(_ stream: String) -> Int {
        guard let directory = ProcessInfo.processInfo.environment["BENCH_RTMP_RECORD_DIR"],
              let key = stream.split(separator: "/").last else { return 0 }
        let path = "\(directory)/\(key).flv"
        // nginx closes the recording a moment after the publisher leaves.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, !FileManager.default.fileExists(atPath: path) { usleep(100_000) }
        defer { unlink(path) }
        let pipe = Pipe()
        guard let child = try? ChildProcess(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
                                           "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path],
                                          standardOutput: .descriptor(pipe.fileHandleForWriting.fileDescriptor)) else { return 0 }
        try? pipe.fileHandleForWriting.close()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard child.wait().status == 0 else { return 0 }
        return Int(output.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ",")))) ?? 0
    }

    // MARK: The scaling

    /// I420 pictures for the scalers: a few capture-size sources of
    /// screen-like content (larger together than the caches, as a stream of
    /// grabs is) and BGRA copies of them for ffmpeg's real branch.
    private func measureScaling(full: FrameSize, small: FrameSize, into report: inout BenchReport) throws {
        let scaling = try ScalingPictures(full: full, small: small)
        // One untimed pass each: page faults and swscale's lazy set-up.
        scaling.libyuv(0)
        scaling.swscaleI420(0)
        scaling.swscaleBGRA(0)
        scaling.libyuv(0, filter: RenditionPicturesFilter.other)
        var ours: [Double] = [], other: [Double] = [], sameInput: [Double] = [], branch: [Double] = []
        for _ in 0..<scaleRounds {
            ours.append(ConvertBenchmark.timePerFrame(scaleFrames) { scaling.libyuv($0) })
            other.append(ConvertBenchmark.timePerFrame(scaleFrames) { scaling.libyuv($0, filter: RenditionPicturesFilter.other) })
            sameInput.append(ConvertBenchmark.timePerFrame(scaleFrames) { scaling.swscaleI420($0) })
            branch.append(ConvertBenchmark.timePerFrame(scaleFrames) { scaling.swscaleBGRA($0) })
        }
        let label = "\(full)->\(small)"
        report.add(Figure("\(label) I420 scale, best batch", unit: "ms/frame", ours: ours.min()! * 1000,
                          peer: sameInput.min()! * 1000, peerName: "libswscale bicubic, I420 -> I420"))
        report.add(Figure("\(label) I420 scale, median batch", unit: "ms/frame", ours: ConvertBenchmark.median(ours) * 1000,
                          peer: ConvertBenchmark.median(sameInput) * 1000, peerName: "libswscale bicubic, I420 -> I420"))
        report.add(Figure("\(label) ffmpeg's scaled branch (BGRA -> yuv420p), best batch", unit: "ms/frame",
                          ours: ours.min()! * 1000, peer: branch.min()! * 1000,
                          peerName: "libswscale bicubic, BGRA -> yuv420p"))
        report.add(Figure("\(label) I420 scale, libyuv \(RenditionPicturesFilter.otherName) (not the engine's), best batch",
                          unit: "ms/frame", ours: other.min()! * 1000, peer: sameInput.min()! * 1000,
                          peerName: "libswscale bicubic, I420 -> I420"))
        report.settings["scaler (ours)"] = "libyuv I420Scale, \(RenditionPicturesFilter.engineName)"
        report.settings["\(label) mean |Y libyuv - Y swscale bicubic|"] = String(format: "%.2f levels", scaling.lumaDifference())
    }
}

/// The scalers' buffers: `count` capture-size I420 sources and their BGRA
/// originals, one smaller I420 picture per scaler, rows padded to 64 bytes
/// as the encoder's pictures are.
private final class ScalingPictures {
    let full: FrameSize, small: FrameSize
    private let count = 4
    private let sourceY: Int, sourceUV: Int, targetY: Int, targetUV: Int
    private let sources: UnsafeMutablePointer<UInt8>
    private let originals: UnsafeMutablePointer<UInt8>
    private let ours: UnsafeMutablePointer<UInt8>
    private let peer: UnsafeMutablePointer<UInt8>
    private let i420Scaler: OpaquePointer
    private let bgraScaler: OpaquePointer

    init(full: FrameSize, small: FrameSize) throws {
        (self.full, self.small) = (full, small)
        sourceY = (full.width + 63) & ~63
        sourceUV = (full.width / 2 + 63) & ~63
        targetY = (small.width + 63) & ~63
        targetUV = (small.width / 2 + 63) & ~63
        let sourceBytes = sourceY * full.height + sourceUV * full.height
        let targetBytes = targetY * small.height + targetUV * small.height
        sources = .allocate(capacity: sourceBytes * count)
        originals = .allocate(capacity: full.width * 4 * full.height * count)
        ours = .allocate(capacity: targetBytes)
        peer = .allocate(capacity: targetBytes)
        ours.initialize(repeating: 0, count: targetBytes)
        peer.initialize(repeating: 0, count: targetBytes)
        // ffmpeg's scale filter default (SWS_BICUBIC), single thread.
        guard let i420 = sws_getContext(Int32(full.width), Int32(full.height), AV_PIX_FMT_YUV420P, Int32(small.width),
                                        Int32(small.height), AV_PIX_FMT_YUV420P, SWS_BICUBIC, nil, nil, nil),
              let bgra = sws_getContext(Int32(full.width), Int32(full.height), AV_PIX_FMT_BGRA, Int32(small.width),
                                        Int32(small.height), AV_PIX_FMT_YUV420P, SWS_BICUBIC, nil, nil, nil) else {
            throw BenchFailure("sws_getContext refused \(full) -> \(small)")
        }
        (i420Scaler, bgraScaler) = (i420, bgra)
        // Screen-like content: flat bars, gradients and sharp edges that move.
        let stride = full.width * 4
        for frame in 0..<count {
            let original = originals + frame * stride * full.height
            for y in 0..<full.height {
                for x in 0..<full.width {
                    let moved = x + frame * 24
                    let bar = (moved / 160) % 4
                    let pixel = original + y * stride + 4 * x
                    pixel[0] = UInt8(truncatingIfNeeded: bar == 0 ? 255 : (x ^ y) & 0xff)
                    pixel[1] = UInt8(truncatingIfNeeded: bar == 1 ? 255 : (y * 255) / full.height)
                    pixel[2] = UInt8(truncatingIfNeeded: bar == 2 ? 255 : (moved * 255) / full.width)
                    pixel[3] = 255
                }
            }
            let source = planes(sources + frame * sourceBytes, full, sourceY, sourceUV)
            let status = ARGBToI420(original, Int32(stride), source.y, Int32(sourceY), source.u, Int32(sourceUV),
                                    source.v, Int32(sourceUV), Int32(full.width), Int32(full.height))
            precondition(status == 0, "ARGBToI420 failed")
        }
    }

    deinit {
        sws_freeContext(i420Scaler)
        sws_freeContext(bgraScaler)
        sources.deallocate()
        originals.deallocate()
        ours.deallocate()
        peer.deallocate()
    }

    private func planes(_ base: UnsafeMutablePointer<UInt8>, _ size: FrameSize, _ strideY: Int, _ strideUV: Int)
        -> (y: UnsafeMutablePointer<UInt8>, u: UnsafeMutablePointer<UInt8>, v: UnsafeMutablePointer<UInt8>) {
        let u = base + strideY * size.height
        return (base, u, u + strideUV * size.height / 2)
    }

    private func source(_ frame: Int) -> (y: UnsafeMutablePointer<UInt8>, u: UnsafeMutablePointer<UInt8>,
                                          v: UnsafeMutablePointer<UInt8>) {
        planes(sources + (frame % count) * (sourceY * full.height + sourceUV * full.height), full, sourceY, sourceUV)
    }

    /// libyuv, as `RenditionPictures.refreshScaled()` scales (`filter`:
    /// the engine's, or another to compare).
    @inline(never)
    func libyuv(_ frame: Int, filter: FilterMode = RenditionPicturesFilter.engine) {
        let from = source(frame), to = planes(ours, small, targetY, targetUV)
        let status = I420Scale(from.y, Int32(sourceY), from.u, Int32(sourceUV), from.v, Int32(sourceUV),
                               Int32(full.width), Int32(full.height), to.y, Int32(targetY), to.u, Int32(targetUV),
                               to.v, Int32(targetUV), Int32(small.width), Int32(small.height), filter)
        precondition(status == 0, "I420Scale failed")
    }

    /// libswscale on the same I420 picture.
    @inline(never)
    func swscaleI420(_ frame: Int) {
        let from = source(frame), to = planes(peer, small, targetY, targetUV)
        let input: [UnsafePointer<UInt8>?] = [UnsafePointer(from.y), UnsafePointer(from.u), UnsafePointer(from.v), nil]
        let inputStrides: [Int32] = [Int32(sourceY), Int32(sourceUV), Int32(sourceUV), 0]
        let output: [UnsafeMutablePointer<UInt8>?] = [to.y, to.u, to.v, nil]
        let outputStrides: [Int32] = [Int32(targetY), Int32(targetUV), Int32(targetUV), 0]
        let rows = sws_scale(i420Scaler, input, inputStrides, 0, Int32(full.height), output, outputStrides)
        precondition(rows == Int32(small.height), "sws_scale returned \(rows)")
    }

    /// libswscale as ffmpeg's scaled branch runs it: the grab's BGRA to the
    /// smaller yuv420p in one pass.
    @inline(never)
    func swscaleBGRA(_ frame: Int) {
        let to = planes(peer, small, targetY, targetUV)
        let original = originals + (frame % count) * full.width * 4 * full.height
        let input: [UnsafePointer<UInt8>?] = [UnsafePointer(original), nil, nil, nil]
        let inputStrides: [Int32] = [Int32(full.width * 4), 0, 0, 0]
        let output: [UnsafeMutablePointer<UInt8>?] = [to.y, to.u, to.v, nil]
        let outputStrides: [Int32] = [Int32(targetY), Int32(targetUV), Int32(targetUV), 0]
        let rows = sws_scale(bgraScaler, input, inputStrides, 0, Int32(full.height), output, outputStrides)
        precondition(rows == Int32(small.height), "sws_scale returned \(rows)")
    }

    /// Mean absolute difference of the box-filtered and the bicubic luma of
    /// frame 0 at the smaller size, in 8-bit levels: the same picture, up to
    /// the filters' softness on sharp edges.
    func lumaDifference() -> Double {
        libyuv(0)
        swscaleI420(0)
        var total = 0
        for y in 0..<small.height {
            for x in 0..<small.width {
                total += abs(Int(ours[y * targetY + x]) - Int(peer[y * targetY + x]))
            }
        }
        return Double(total) / Double(small.width * small.height)
    }
}

/// The libyuv filter the engine scales with (`RenditionPictures`) and the
/// other one measured beside it.
enum RenditionPicturesFilter {
    static let engine = kFilterBox
    static let engineName = "box filter"
    static let other = kFilterBilinear
    static let otherName = "bilinear"
}
