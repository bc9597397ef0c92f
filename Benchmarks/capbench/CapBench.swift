import ArgumentParser

@main
struct CapBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capbench",
        abstract: "Measures each stage of the capture engine against a peer doing the same work in the same run.",
        subcommands: [RingBenchmark.self, CaptureBenchmark.self, ConvertBenchmark.self, EncodeBenchmark.self,
                      PipelineBenchmark.self, AVSyncBenchmark.self, ConcurrencyBenchmark.self,
                      ResolutionSweepBenchmark.self, LifecycleBenchmark.self, FinalizeBenchmark.self,
                      ScenesBenchmark.self, SceneCommand.self, CostTableBenchmark.self, NoMediaBenchmark.self,
                      CursorBenchmark.self, SoakBenchmark.self, RenditionsBenchmark.self, MeetingsBenchmark.self])
}

/// Options every subcommand takes.
struct CommonOptions: ParsableArguments {
    @Option(help: "Write the results as JSON to this file.")
    var json: String?
}
