import ArgumentParser
import Foundation
import Logging
import RecorderEngine

/// `capbench costs`: what one recording costs in CPU, by size and x264
/// preset, for recorderd's admission control (its `CostTable`). Each point
/// is one session recording a moving `testsrc2` scene and a tone in this
/// process; the cost is the session's own threads' CPU (x264's included,
/// the X server's not, as recorderd measures a running recording) per
/// second of media. A least-squares line per preset, `base + perMegapixel
/// × megapixels per second`, is what recorderd's table holds. No peer: this
/// is a table, not a comparison. A point is the session's CPU per frame it
/// encoded from a grab, times the frame rate, so that a point a busy
/// machine made drop frames still says what real time costs.
struct CostTableBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "costs", abstract: "CPU per recording by size and preset, for recorderd's admission table.")

    @Option(help: "Sizes, comma-separated.") var sizes = "640x360,1280x720,1920x1080"
    @Option(help: "x264 presets, comma-separated.") var presets = "ultrafast,veryfast"
    @Option(help: "Frames per second.") var fps = 30
    @Option(help: "Seconds recorded per point.") var seconds = 12
    @Option(help: "X display (default $DISPLAY).") var display: String?
    @Option(help: "ALSA PCM to record (default $BENCH_CAPTURE_PCM).") var audioDevice: String?
    @OptionGroup var common: CommonOptions

    func run() async throws {
        BenchLogs.quiet()
        let environment = ProcessInfo.processInfo.environment
        guard let display = display ?? environment["DISPLAY"] else { throw ValidationError("no display: pass --display") }
        let audio = audioDevice ?? environment["BENCH_CAPTURE_PCM"]
        let frameSizes = try sizes.split(separator: ",").map { try FrameSize(parsing: String($0)) }
        let presetNames = presets.split(separator: ",").map(String.init)
        let scratch = try ScratchDirectory("costs")
        var report = BenchReport(benchmark: "costs", settings: [
            "fps": "\(fps)", "seconds per point": "\(seconds)", "audio": audio ?? "none",
            "measured": "the session's threads (x264's included), not the X server",
        ])
        var logger = Logger(label: "capbench")
        logger.logLevel = .error
        for preset in presetNames {
            var points: [(megapixels: Double, cores: Double)] = []
            for size in frameSizes {
                let scene = try TestScene(display: display, width: size.width, height: size.height,
                                          playbackPCM: environment["BENCH_PLAYBACK_PCM"], seconds: Double(seconds + 10))
                defer { scene.stop() }
                var configuration = RecordingConfiguration(
                    capture: DisplayCaptureConfiguration(display: display,
                                                         region: CaptureRegion(width: size.width, height: size.height),
                                                         framesPerSecond: fps),
                    audio: audio.map { PCMCaptureConfiguration(device: $0) }, audioEncoding: try AudioEncoderSettings(),
                    video: VideoEncodingOptions(), output: FileOutput(path: scratch.file("\(preset)-\(size).mp4")))
                configuration.video.preset = VideoEncoderSettings.Preset(rawValue: preset) ?? .ultrafast
                configuration.duration = .seconds(seconds)
                configuration.logger = logger
                let result = try await RecordingSession(configuration: configuration).record()
                // Per frame actually grabbed and encoded, times the rate: a
                // loaded machine that drops frames does less work, and the
                // cost of a recording that holds real time is wanted.
                let statistics = result.statistics
                let encoded = max(1, statistics.framesEncoded - statistics.framesDuplicated)
                let cores = statistics.cpuTime.seconds / Double(encoded) * Double(fps)
                let megapixels = Double(size.width * size.height * fps) / 1e6
                points.append((megapixels, cores))
                report.add(Figure("\(preset) \(size)@\(fps): CPU per second at full rate", unit: "CPU-s/s", ours: cores))
                report.add(Figure("\(preset) \(size)@\(fps): frames dropped or duplicated", unit: "frames",
                                  ours: Double(result.statistics.framesDropped + result.statistics.framesDuplicated)))
            }
            let fit = Self.fit(points)
            report.add(Figure("\(preset) fit: base", unit: "cores", ours: fit.base))
            report.add(Figure("\(preset) fit: per megapixel per second", unit: "cores", ours: fit.slope))
        }
        report.printTable()
        try report.write(json: common.json)
    }

    /// Least squares `cores = base + slope × megapixels`; the base is kept
    /// at zero or above.
    static func fit(_ points: [(megapixels: Double, cores: Double)]) -> (base: Double, slope: Double) {
        let n = Double(points.count)
        let sx = points.reduce(0) { $0 + $1.megapixels }, sy = points.reduce(0) { $0 + $1.cores }
        let sxx = points.reduce(0) { $0 + $1.megapixels * $1.megapixels }
        let sxy = points.reduce(0) { $0 + $1.megapixels * $1.cores }
        guard n >= 2, n * sxx - sx * sx != 0 else { return (0, sy / max(sx, 1)) }
        let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
        let base = (sy - slope * sx) / n
        return base >= 0 ? (base, slope) : (0, sxy / sxx)
    }
}
