/// What a browser's whole process tree costs, read from /proc.
public struct BrowserUsage: Sendable, Equatable {
    /// CPU seconds, user plus system, of every process of the browser's
    /// process group, with the children they reaped.
    public var cpuSeconds: Double
    /// The sum of their resident set sizes (bytes; shared pages counted in each).
    public var residentBytes: Int
    /// How many processes the group has.
    public var processes: Int

    public init(cpuSeconds: Double, residentBytes: Int, processes: Int) {
        self.cpuSeconds = cpuSeconds
        self.residentBytes = residentBytes
        self.processes = processes
    }
}
