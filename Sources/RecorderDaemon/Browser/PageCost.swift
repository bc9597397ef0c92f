/// The CPU a page's browser is expected to use, in cores: `baseCores +
/// coresPerMegapixel × the page's megapixels` (its size, not its frame
/// rate: Chromium draws at the display's refresh rate whatever is recorded).
///
/// From the figures in docs/DESIGN.md's table (issue 22, measured on this
/// project's 2-core machine, Chromium 156 on Xvfb at 1080p, the browser
/// alone): a still page 0.00, one 320x240 animated tile 0.08, a 2x2 grid of
/// moving 640x360 tiles 0.60 CPU-s/s. The estimate takes the grid, the
/// busiest meeting page measured, as the cost of a 1080p page: 0.05 +
/// 0.265 × 2.07 = 0.60. Admission counts the larger of this and the
/// browser's measured use (`Recording.committedCores`).
struct PageCost: Sendable {
    var baseCores: Double
    var coresPerMegapixel: Double

    static let measured = PageCost(baseCores: 0.05, coresPerMegapixel: 0.265)

    func estimate(width: Int, height: Int) -> Double {
        baseCores + coresPerMegapixel * Double(width * height) / 1e6
    }
}
