/// The CPU a recording is expected to use, in cores (CPU-seconds per second),
/// from its pixel rate, frame rate and x264 preset: `base + perMegapixel ×
/// megapixels per second`, a least-squares line per preset through points
/// measured on this project's 2-core machine (docs/BENCHMARKS.md, "recorderd
/// cost table"; the figures in docs/benchmarks/costs.txt and
/// pipeline-1080p-recording.txt):
///
/// - 640x360 and 1280x720 at 30 fps, ultrafast and veryfast:
///   `scripts/testbench -- .build/release/capbench costs` (one session at a
///   time in process, a moving `testsrc2` scene and a tone; the session's own
///   threads, x264's included, the X server not, as recorderd measures a
///   running recording): ultrafast 0.083-0.090 and 0.167, veryfast 0.127-0.130
///   and 0.364-0.367 CPU-s/s over two runs.
/// - 1920x1080 at 30 fps ultrafast: 0.379 CPU-s/s, the recorder's CPU in
///   `capbench pipeline --size 1920x1080 --preset ultrafast --crf 25` (3
///   rounds, no frame dropped); `capbench costs` could not hold 1080p in real
///   time on the shared machine (its scene alone takes most of a core).
///
/// veryfast at 1080p is the line through its two measured points (0.76). A
/// preset that was not measured costs as veryfast times x264's relative cost
/// (`slowerFactor`), a deliberate overestimate.
struct CostTable: Sendable {
    struct Line: Sendable {
        /// Cores used whatever the size (audio, threads, muxing).
        var base: Double
        /// Cores per million pixels per second.
        var perMegapixel: Double
    }

    var lines: [String: Line]

    /// The measured table (see the type's description).
    static let measured = CostTable(lines: [
        "ultrafast": Line(base: 0.037, perMegapixel: 0.0054),
        "veryfast": Line(base: 0.050, perMegapixel: 0.0114),
    ])

    /// x264 presets from fastest to slowest.
    static let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                          "veryslow", "placebo"]
    /// Relative encode cost of each preset against veryfast, from x264's
    /// preset documentation and our encoder-only floor; only used for presets
    /// the table lacks.
    static let slowerFactor: [String: Double] = [
        "superfast": 1.0, "faster": 1.4, "fast": 2.0, "medium": 2.6, "slow": 4.5, "slower": 9, "veryslow": 20, "placebo": 60,
    ]

    /// Estimated cores for a recording of `width`x`height` at `fps`.
    func estimate(width: Int, height: Int, fps: Int, preset: String) -> Double {
        let megapixels = Double(width * height * fps) / 1e6
        if let line = lines[preset] { return line.base + line.perMegapixel * megapixels }
        // superfast is between ultrafast and veryfast: cost it as veryfast.
        let fallback = lines["veryfast"] ?? lines.values.max { $0.perMegapixel < $1.perMegapixel }!
        let factor = Self.slowerFactor[preset] ?? 60
        return fallback.base + fallback.perMegapixel * megapixels * factor
    }
}
