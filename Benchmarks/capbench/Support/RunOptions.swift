import ArgumentParser

/// The options of a benchmark that records: where, how large, how fast, how
/// long and how often. One group for every such subcommand; each keeps its own
/// defaults and help (`RunDefaults`), so every flag reads as before.
struct RunOptions<Defaults: RunDefaults>: ParsableArguments {
    @Option(help: "X display (default $DISPLAY).") var display: String?
    @Option(help: ArgumentHelp(Defaults.sizeHelp)) var size: String = Defaults.size
    @Option(help: ArgumentHelp(Defaults.fpsHelp)) var fps: Int = Defaults.fps
    @Option(help: ArgumentHelp(Defaults.secondsHelp)) var seconds: Defaults.Seconds = Defaults.seconds
    @Option(help: ArgumentHelp(Defaults.roundsHelp)) var rounds: Int = Defaults.rounds
}

/// A subcommand's defaults and help for `RunOptions`.
protocol RunDefaults {
    /// `Double` or `Int`, as the subcommand always took it.
    associatedtype Seconds: ExpressibleByArgument & CustomStringConvertible
    static var size: String { get }
    static var fps: Int { get }
    static var seconds: Seconds { get }
    static var rounds: Int { get }
    static var sizeHelp: String { get }
    static var fpsHelp: String { get }
    static var secondsHelp: String { get }
    static var roundsHelp: String { get }
}

extension RunDefaults {
    static var size: String { "1920x1080" }
    static var fps: Int { 30 }
    static var fpsHelp: String { "Frames per second." }
    static var secondsHelp: String { "Seconds recorded per run." }
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
