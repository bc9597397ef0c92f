/// One track's samples gathered from the fragments, in decoding order: what
/// its sample table (`stbl`) in a complete `moov` must say.
struct MP4TrackSamples {
    let trackID: UInt32
    /// Ticks per second of the track's media (its `mdhd`).
    let timescale: UInt32
    /// The `trex` defaults for fields a fragment leaves out.
    let defaultDuration: UInt32
    let defaultSize: UInt32
    let defaultFlags: UInt32

    /// 4 bytes a sample: the one column that is different for every sample.
    private(set) var sizes: [UInt32] = []
    private(set) var durations = MP4SampleRuns()
    /// Signed offsets, kept as their bit patterns.
    private(set) var compositionOffsets = MP4SampleRuns()
    /// 1-based numbers of the sync samples (keyframes).
    private(set) var syncSamples: [UInt32] = []
    /// One chunk per run of samples stored together (a `trun`).
    private(set) var chunkOffsets: [Int64] = []
    private(set) var chunkSampleCounts: [UInt32] = []
    private(set) var firstDecodeTime: Int64?
    /// Decoding time of the next sample.
    private(set) var decodeEnd: Int64 = 0
    /// Earliest presentation time and latest presentation end, in media ticks.
    private(set) var earliestPresentation = Int64.max
    private(set) var latestPresentationEnd = Int64.min

    init(trackID: UInt32, timescale: UInt32, defaultDuration: UInt32, defaultSize: UInt32, defaultFlags: UInt32) {
        self.trackID = trackID
        self.timescale = timescale
        self.defaultDuration = defaultDuration
        self.defaultSize = defaultSize
        self.defaultFlags = defaultFlags
    }

    var sampleCount: Int { sizes.count }
    var hasCompositionOffsets: Bool { compositionOffsets.contains(anyBut: 0) }
    var hasNegativeCompositionOffsets: Bool { compositionOffsets.contains { Int32(bitPattern: $0) < 0 } }
    var allSync: Bool { syncSamples.count == sizes.count }
    /// Sum of the sample durations: the media duration.
    var mediaDuration: Int64 { decodeEnd - (firstDecodeTime ?? 0) }

    /// A fragment's run of samples starts at decoding time `time` (its
    /// `tfdt`); a gap or an overlap with the samples before is absorbed by the
    /// previous sample's duration, as a continuous sample table must.
    mutating func startRun(atDecodeTime time: Int64) {
        guard firstDecodeTime != nil else {
            firstDecodeTime = time
            decodeEnd = time
            return
        }
        guard time != decodeEnd, let last = durations.last else { return }
        let lastStart = decodeEnd - Int64(last)
        if time > lastStart, time - lastStart <= Int64(UInt32.max) {
            durations.replaceLast(with: UInt32(time - lastStart))
            decodeEnd = time
        }
    }

    mutating func startChunk(at offset: Int64) {
        chunkOffsets.append(offset)
        chunkSampleCounts.append(0)
    }

    /// Adds one sample of the current chunk.
    mutating func add(size: UInt32, duration: UInt32, flags: UInt32, compositionOffset: Int32) {
        sizes.append(size)
        durations.append(duration)
        compositionOffsets.append(UInt32(bitPattern: compositionOffset))
        // sample_is_non_sync_sample (ISO/IEC 14496-12 §8.8.3.1) clear: a sync sample.
        if flags & 0x0001_0000 == 0 { syncSamples.append(UInt32(sizes.count)) }
        chunkSampleCounts[chunkSampleCounts.count - 1] += 1
        let presentation = decodeEnd + Int64(compositionOffset)
        earliestPresentation = min(earliestPresentation, presentation)
        latestPresentationEnd = max(latestPresentationEnd, presentation + Int64(duration))
        decodeEnd += Int64(duration)
    }
}
