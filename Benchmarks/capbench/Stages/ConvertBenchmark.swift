import ArgumentParser
import CFFmpeg
import CYUV
import Foundation

/// One BGRA -> I420 conversion: libyuv's `ARGBToI420`, as our `VideoEncoder`
/// calls it, against libswscale's `sws_scale` BGRA -> yuv420p with default
/// flags (bicubic), as ffmpeg converts x11grab's frames for libx264.
/// Alternating batches on one thread; time is that thread's CPU time, so a
/// busy machine slows both sides alike instead of charging one of them.
struct ConvertBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert", abstract: "BGRA->I420: libyuv (ours) against libswscale bicubic (ffmpeg).")

    @Option(help: "Frame sizes WxH, comma-separated.") var sizes = "1920x1080,1280x720"
    @Option(help: "Conversions per batch.") var frames = 30
    @Option(help: "Rounds; each converts a batch with libyuv, then one with libswscale.") var rounds = 7
    @OptionGroup var common: CommonOptions

    func run() throws {
        let parsed = try sizes.split(separator: ",").map { try FrameSize(parsing: String($0)) }
        guard frames > 0, rounds > 0 else { throw ValidationError("--frames and --rounds must be positive") }
        var report = BenchReport(benchmark: "convert", settings: [
            "frames per batch": "\(frames)", "rounds": "\(rounds)",
            "timing": "thread CPU time; best and median batch",
            "peer": "sws_scale BGRA->YUV420P, SWS_BICUBIC (ffmpeg's default), single thread"])
        for size in parsed {
            let bench = try Converters(size: size)
            var ours: [Double] = [], peer: [Double] = []
            // One untimed conversion each: page faults of fresh buffers and
            // swscale's lazy set-up are not per-frame costs.
            bench.convertLibyuv(frame: 0)
            bench.convertSwscale(frame: 0)
            for _ in 0..<rounds {
                ours.append(Self.timePerFrame(frames) { bench.convertLibyuv(frame: $0) })
                peer.append(Self.timePerFrame(frames) { bench.convertSwscale(frame: $0) })
            }
            let peerName = "libswscale bicubic"
            report.add(Figure("\(size) BGRA->I420, best batch", unit: "ms/frame", ours: ours.min()! * 1000,
                              peer: peer.min()! * 1000, peerName: peerName))
            report.add(Figure("\(size) BGRA->I420, median batch", unit: "ms/frame", ours: Self.median(ours) * 1000,
                              peer: Self.median(peer) * 1000, peerName: peerName))
            // Same work: both outputs must be the same picture (BT.601 limited range).
            report.settings["\(size) mean |Y libyuv - Y swscale|"] = String(format: "%.2f levels", bench.lumaDifference())
        }
        report.printTable()
        try report.write(json: common.json)
    }

    /// Seconds of this thread's CPU per call of `body` over `count` calls.
    static func timePerFrame(_ count: Int, _ body: (Int) -> Void) -> Double {
        let start = threadCPUSeconds()
        for index in 0..<count { body(index) }
        return (threadCPUSeconds() - start) / Double(count)
    }

    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
