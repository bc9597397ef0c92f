/// The CPU a recording is expected to use, in cores (CPU-seconds per second),
/// from its pixel rate, frame rate and x264 preset.
///
/// Measured on this project's 2-core build machine with
/// `scripts/testbench -- .build/release/capbench costs --json docs/benchmarks/costs.json`
/// (one session at a time, in process, a moving `testsrc2` scene and a tone;
/// the session's own threads, the X server not included), and fitted per
/// preset as `base + perMegapixel × megapixels per second`. Figures and the
/// fit are in docs/BENCHMARKS.md ("recorderd cost table"). A preset that was
/// not measured costs as the next slower measured one times x264's own
/// relative cost between them (`slowerFactor`), a deliberate overestimate.
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
        "ultrafast": Line(base: 0.020, perMegapixel: 0.0077),
        "veryfast": Line(base: 0.020, perMegapixel: 0.0190),
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
