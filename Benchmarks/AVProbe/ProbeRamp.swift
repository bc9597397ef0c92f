/// One event's flash as the probe drew it: a grey ramp from black to white,
/// redrawn about every millisecond, each step stamped.
///
/// Why a ramp rather than a step: a picture taken at 30 fps shows a step
/// flash up to a frame after it happened (uniformly, sd 9.6 ms), so a step
/// measures the frame grid rather than the recorder's timestamps. A ramp
/// lasting several frames is seen part-way by each of them: a picture's grey
/// level says when it was taken, to a fraction of a frame, and every frame on
/// the ramp gives the onset again (`OnsetDetector.ramps`).
package struct ProbeRamp {
    /// The nominal ramp: black to white, linearly, over this long.
    package static let seconds = 0.15
    /// Time between redraws.
    package static let stepNanoseconds: Int64 = 1_000_000
    /// How long the region stays lit from the instant (ramp, then white).
    package static let litSeconds = 0.32

    /// One redraw.
    package struct Step {
        /// Grey level drawn (0-255), set from the clock at `requested`.
        package var level: UInt8
        /// When the fill was asked for, ns: not in the framebuffer before.
        package var requested: Int64
        /// When `XSync` returned, ns: in the framebuffer by then.
        package var drawn: Int64

        /// Best-known time the level reached the framebuffer, ns.
        package var shown: Double { Double(requested + drawn) / 2 }
    }

    package var event: Int
    /// The event's instant, ns: where the ramp starts from black.
    package var scheduled: Int64
    /// Every redraw, levels rising (each level drawn once).
    package var steps: [Step]

    /// The nominal time from the instant to `fraction` of white, seconds.
    package static func nominalSeconds(toReach fraction: Double) -> Double { fraction * seconds }

    /// Seconds from the instant to the moment the framebuffer showed
    /// `fraction` of white, on the ramp as drawn: each level held from its
    /// step to the next, so a picture showing it was most likely taken in the
    /// middle of that interval; between levels (a level that compression
    /// blurred) the middles are joined by straight lines.
    package func seconds(toReach fraction: Double) -> Double? {
        guard let first = steps.first else { return nil }
        let level = fraction * 255
        if level <= Double(first.level) { return (first.shown - Double(scheduled)) / 1e9 }
        func middle(_ index: Int) -> Double {
            index + 1 < steps.count ? (steps[index].shown + steps[index + 1].shown) / 2 : steps[index].shown
        }
        for index in 0..<(steps.count - 1) where Double(steps[index + 1].level) > level {
            let low = Double(steps[index].level), high = Double(steps[index + 1].level)
            let time = middle(index) + (level - low) / (high - low) * (middle(index + 1) - middle(index))
            return (time - Double(scheduled)) / 1e9
        }
        return (steps[steps.count - 1].shown - Double(scheduled)) / 1e9
    }

    /// The longest the probe may have taken to pass a picture's level
    /// (`passage`) for that picture to be timed: the nominal ramp passes
    /// six levels in 3.5 ms, plus a step either side.
    package static let timingLimit = 0.008

    /// Hard bounds on how long the region took to pass from `levels` below
    /// `fraction` of white to `levels` above it, seconds: from the request
    /// of the last step at or below the lower level to the `XSync` of the
    /// first step at or above the upper. About what compression blurs a
    /// level by; when the X server or the probe's thread stalled there, the
    /// ramp stood still and a picture showing that level cannot be timed.
    package func passage(around fraction: Double, levels: Double = 3) -> Double? {
        let low = fraction * 255 - levels, high = fraction * 255 + levels
        guard let last = steps.last, Double(last.level) >= high else { return nil }
        let from = steps.last { Double($0.level) <= low }?.requested ?? scheduled
        guard let to = steps.first(where: { Double($0.level) >= high })?.drawn else { return nil }
        return Double(to - from) / 1e9
    }

    /// `seconds(toReach:)` where the probe can time it (`passage` within
    /// `timingLimit`), nil elsewhere.
    package func timedSeconds(toReach fraction: Double) -> Double? {
        guard let passage = passage(around: fraction), passage <= Self.timingLimit else { return nil }
        return seconds(toReach: fraction)
    }

    /// Each step's departure from the nominal ramp, seconds: when it reached
    /// the framebuffer, less when the nominal ramp reaches its level.
    package var departures: [Double] {
        steps.map { ($0.shown - Double(scheduled)) / 1e9 - Self.nominalSeconds(toReach: Double($0.level) / 255) }
    }

    /// Hard bounds on when level `level` was in the framebuffer, ns: after its
    /// fill was asked for, before the next one was drawn. Nil for a level not
    /// drawn.
    package func interval(showing level: UInt8) -> (from: Int64, to: Int64)? {
        guard let index = steps.firstIndex(where: { $0.level == level }) else { return nil }
        return (steps[index].requested, index + 1 < steps.count ? steps[index + 1].drawn : .max)
    }
}
