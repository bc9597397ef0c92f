import ArgumentParser
import Foundation
import RecorderEngine

/// `capbench nomedia`: what the engine's no-media detection costs on the
/// encode threads: the frozen-picture check per frame (a sixteenth of the
/// rows hashed) and the silence check per audio period. No peer (ffmpeg has
/// no such check; its `freezedetect` and `silencedetect` filters are
/// quoted in docs/BENCHMARKS.md for scale).
struct NoMediaBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nomedia", abstract: "Cost of the engine's silence and frozen-picture checks.")

    @Option(help: "Frame sizes, comma-separated.") var sizes = "1280x720,1920x1080"
    @Option(help: "Frames checked per size.") var frames = 3000
    @Option(help: "Audio periods checked (1024 frames, stereo s16).") var periods = 100_000
    @OptionGroup var common: CommonOptions

    func run() throws {
        var report = BenchReport(benchmark: "nomedia", settings: [
            "frames": "\(frames)", "periods": "\(periods) x 1024 frames s16 stereo",
            "frozen check": "luma rows y = n mod \(FrozenPictureDetector.stripes) of frame n, hashed (every frame damaged)",
        ])
        for text in sizes.split(separator: ",") {
            let size = try FrameSize(parsing: String(text))
            // The encoder's luma plane: a byte per pixel.
            let bytesPerRow = size.width
            let count = bytesPerRow * size.height
            let pixels = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
            defer { pixels.deallocate() }
            var generator = SystemRandomNumberGenerator()
            for offset in stride(from: 0, to: count, by: 8) { pixels.storeBytes(of: generator.next() as UInt64, toByteOffset: offset, as: UInt64.self) }
            var detector = FrozenPictureDetector()
            var sink = 0
            let start = ContinuousClock.now
            for sequence in 0..<frames {
                // A pixel changes now and then, as on a real screen.
                // (a full-motion scene: every frame damaged, every frame hashed).
                if sequence % 7 == 0 { pixels.storeBytes(of: UInt32(sequence), toByteOffset: (sequence * 4096) % count & ~3, as: UInt32.self) }
                sink &+= detector.observe(luma: pixels.assumingMemoryBound(to: UInt8.self), stride: bytesPerRow,
                                          width: size.width, height: size.height, sequence: sequence, damaged: true)
            }
            let perFrame = (ContinuousClock.now - start).seconds / Double(frames)
            report.add(Figure("frozen-picture check, \(size), per frame", unit: "µs", ours: perFrame * 1e6))
            report.add(Figure("frozen-picture check, \(size)@30, share of one core", unit: "%", ours: perFrame * 30 * 100))
            if sink == -1 { print(sink) }
        }
        let samples = UnsafeMutablePointer<Int16>.allocate(capacity: 2048)
        defer { samples.deallocate() }
        for index in 0..<2048 { samples[index] = Int16(index % 7) - 3 }
        var silence = SilenceDetector(format: AudioFormat(sampleFormat: .s16, sampleRate: 48_000, channels: 2), silenceLevel: -60)
        var sink = 0
        let start = ContinuousClock.now
        for _ in 0..<periods { sink &+= silence.observe(UnsafeRawPointer(samples), frameCount: 1024) }
        let perPeriod = (ContinuousClock.now - start).seconds / Double(periods)
        if sink == -1 { print(sink) }
        report.add(Figure("silence check, per 1024-frame period", unit: "µs", ours: perPeriod * 1e6))
        report.add(Figure("silence check at 48 kHz, share of one core", unit: "%", ours: perPeriod * 48_000 / 1024 * 100))
        report.printTable()
        try report.write(json: common.json)
    }
}
