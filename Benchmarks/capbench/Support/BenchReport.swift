import Foundation

/// One measured figure: ours, the peer's in the same run, and their ratio.
struct Figure: Codable {
    var name: String
    var unit: String
    var ours: Double
    var peer: Double?
    /// ours / peer.
    var ratio: Double?
    /// What "peer" was (mutex queue, ffmpeg x11grab, ...).
    var peerName: String?

    /// `comparable: false` leaves the ratio out, for signed figures (an
    /// offset of -5 ms against +10 ms is not "half").
    init(_ name: String, unit: String, ours: Double, peer: Double? = nil, peerName: String? = nil, comparable: Bool = true) {
        self.name = name
        self.unit = unit
        self.ours = ours
        self.peer = peer
        self.peerName = peerName
        ratio = comparable ? peer.flatMap { $0 == 0 ? nil : ours / $0 } : nil
    }
}

/// The figures of one subcommand, printed as a table and optionally written as JSON.
struct BenchReport: Codable {
    var benchmark: String
    var date: String
    var machine: String
    var settings: [String: String]
    var figures: [Figure] = []

    init(benchmark: String, settings: [String: String]) {
        self.benchmark = benchmark
        self.settings = settings
        date = ISO8601DateFormatter().string(from: Date())
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memory = Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30)
        let model = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces)
        machine = (model.map { "\($0), " } ?? "") + "\(cores) cores, \(String(format: "%.0f", memory)) GiB"
    }

    mutating func add(_ figure: Figure) { figures.append(figure) }

    /// A recording's CPU, as `pipeline` and `renditions` measure it: the
    /// recorder's own and the X server's above its idle rate, seconds, over
    /// `mediaSeconds` recorded.
    struct RecordingCPU {
        var cpu: Double, serverCPU: Double, mediaSeconds: Double
    }

    /// The three CPU figures of a recording against its peer's (CPU-s/s):
    /// recorder + X server, recorder alone, X server.
    mutating func addCPUFigures(ours: RecordingCPU, peer: RecordingCPU, peerName: String) {
        add(Figure("CPU per recorded second (recorder + X server)", unit: "CPU-s/s",
                   ours: (ours.cpu + ours.serverCPU) / ours.mediaSeconds,
                   peer: (peer.cpu + peer.serverCPU) / peer.mediaSeconds, peerName: peerName))
        add(Figure("recorder CPU alone", unit: "CPU-s/s", ours: ours.cpu / ours.mediaSeconds,
                   peer: peer.cpu / peer.mediaSeconds, peerName: peerName))
        add(Figure("X server CPU", unit: "CPU-s/s", ours: ours.serverCPU / ours.mediaSeconds,
                   peer: peer.serverCPU / peer.mediaSeconds, peerName: peerName))
    }

    func printTable() {
        print("capbench \(benchmark) — \(machine), \(date)")
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) { print("  \(key): \(value)") }
        let header = ["figure", "unit", "ours", "peer", "ours/peer", "peer is"]
        var rows = [header]
        for figure in figures {
            rows.append([figure.name, figure.unit, Self.format(figure.ours), figure.peer.map(Self.format) ?? "-",
                         figure.ratio.map { String(format: "%.2f", $0) } ?? "-", figure.peerName ?? "-"])
        }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (index, row) in rows.enumerated() {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
            if index == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
    }

    func write(json path: String?) throws {
        guard let path else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }

    static func format(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 1e6 { return String(format: "%.3g", value) }
        if abs(value) >= 100 { return String(format: "%.0f", value) }
        if abs(value) >= 1 { return String(format: "%.2f", value) }
        return String(format: "%.4f", value)
    }
}
