import ArgumentParser

/// The options of a benchmark that records: where, how large, how fast, how
/// long and how often. One group for every subcommand that takes all five;
/// each keeps its own defaults for `--seconds` and `--rounds` (`RunDefaults`).
struct RunOptions<Defaults: RunDefaults>: ParsableArguments {
    @Option(help: "X display (default $DISPLAY).") var display: String?
    @Option(help: "Picture size WxH, from the top-left corner (the display must be at least this large).")
    var size = "1920x1080"
    @Option(help: "Frames per second.") var fps = 30
    @Option(help: "Seconds recorded per run (per trial for capture).") var seconds: Defaults.Seconds = Defaults.seconds
    @Option(help: "Rounds; each runs ours, then the peer's runs.") var rounds: Int = Defaults.rounds
}

/// A subcommand's defaults for `RunOptions`.
protocol RunDefaults {
    /// `Double` or `Int`, as the subcommand always took it.
    associatedtype Seconds: ExpressibleByArgument & CustomStringConvertible
    static var seconds: Seconds { get }
    static var rounds: Int { get }
}

/// A subcommand with `RunOptions`, whose body reads them by their names.
protocol RunCommand {
    associatedtype Defaults: RunDefaults
    var recording: RunOptions<Defaults> { get }
}

extension RunCommand {
    var display: String? { recording.display }
    var size: String { recording.size }
    var fps: Int { recording.fps }
    var seconds: Defaults.Seconds { recording.seconds }
    var rounds: Int { recording.rounds }
}
