/// A column of per-sample values kept as runs of equal values, the form
/// `stts` and `ctts` store them in (ISO/IEC 14496-12 §8.6.1): a recording's
/// durations and composition offsets are nearly constant, so this holds an
/// hour of 30 fps video in a few entries instead of 108,000 values.
struct MP4SampleRuns {
    private(set) var runs: [(count: UInt32, value: UInt32)] = []

    /// Appends one sample's value.
    mutating func append(_ value: UInt32) {
        if let last = runs.indices.last, runs[last].value == value, runs[last].count < UInt32.max {
            runs[last].count += 1
        } else {
            runs.append((1, value))
        }
    }

    /// The last sample's value.
    var last: UInt32? { runs.last?.value }

    /// Changes the last sample's value (a duration stretched over a gap).
    mutating func replaceLast(with value: UInt32) {
        guard let index = runs.indices.last else { return }
        if runs[index].count == 1 {
            runs.removeLast()
        } else {
            runs[index].count -= 1
        }
        append(value)
    }

    /// True when some sample's value is not `value`.
    func contains(anyBut value: UInt32) -> Bool { runs.contains { $0.value != value } }

    func contains(where predicate: (UInt32) -> Bool) -> Bool { runs.contains { predicate($0.value) } }
}
