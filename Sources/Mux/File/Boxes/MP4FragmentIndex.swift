/// Everything a complete `moov` needs, read from a fragmented recording: the
/// fragmented `moov` (track descriptions, time scales, `trex` defaults) and
/// every fragment's `moof` (sample sizes, durations, flags, composition
/// offsets, where the data lies), per ISO/IEC 14496-12 §8.8.
///
/// Only the headers are read, never the media. The sink builds it while
/// recording, from the bytes on their way to the file (a few microseconds a
/// fragment), so finishing reads nothing; `MP4Repair` reads it from the file
/// (one `pread` per `moof`: about one a second of media).
struct MP4FragmentIndex {
    /// The fragmented `moov`'s payload (its children), as on disk.
    let moovPayload: [UInt8]
    /// Ticks per second of the movie (`mvhd`).
    let movieTimescale: UInt32
    private(set) var tracks: [MP4TrackSamples]

    /// Reads the fragmented `moov` and every fragment of `layout` from `file`.
    init(file: FileHandleIO, layout: MP4RecordingLayout) throws {
        guard let moov = layout.fragmentMoov else { throw MP4FormatError("has no fragmented moov box") }
        try self.init(moovPayload: try file.read(Int(moov.size) - moov.headerSize, at: moov.payloadOffset))
        for fragment in layout.fragments {
            let moof = try file.read(Int(fragment.moof.size) - fragment.moof.headerSize, at: fragment.moof.payloadOffset)
            try add(moof: moof, at: fragment.moof.offset, dataRange: fragment.mdat.payloadOffset..<fragment.mdat.end)
        }
    }

    /// An index of no fragment yet, from the fragmented `moov`'s payload;
    /// `add(moof:at:dataRange:)` adds each fragment (as `MP4FragmentOutput`
    /// does while the bytes go to the file).
    init(moovPayload: [UInt8]) throws {
        self.moovPayload = moovPayload
        let reader = MP4ByteReader(moovPayload)
        var timescale: UInt32?
        var defaults: [UInt32: (duration: UInt32, size: UInt32, flags: UInt32)] = [:]
        var described: [(id: UInt32, timescale: UInt32)] = []
        for child in try reader.children() {
            switch child.type {
            case .mvhd:
                var fields = MP4ByteReader(moovPayload, from: child.payload.lowerBound, to: child.payload.upperBound)
                let (version, _) = try fields.versionAndFlags()
                try fields.skip(version == 1 ? 16 : 8)
                timescale = try fields.u32()
            case .trak:
                described.append(try Self.describeTrack(moovPayload, child.payload))
            case .mvex:
                for entry in try MP4ByteReader(moovPayload, from: child.payload.lowerBound, to: child.payload.upperBound)
                    .children() where entry.type == .trex {
                    var fields = MP4ByteReader(moovPayload, from: entry.payload.lowerBound, to: entry.payload.upperBound)
                    _ = try fields.versionAndFlags()
                    let id = try fields.u32()
                    _ = try fields.u32()  // default_sample_description_index
                    defaults[id] = (try fields.u32(), try fields.u32(), try fields.u32())
                }
            default:
                break
            }
        }
        guard let timescale, timescale > 0 else { throw MP4FormatError("has no movie time scale (mvhd)") }
        movieTimescale = timescale
        tracks = described.map { track in
            let trex = defaults[track.id] ?? (0, 0, 0)
            return MP4TrackSamples(trackID: track.id, timescale: track.timescale, defaultDuration: trex.duration,
                                   defaultSize: trex.size, defaultFlags: trex.flags)
        }
    }

    /// A track's id (`tkhd`) and media time scale (`mdhd`).
    private static func describeTrack(_ bytes: [UInt8], _ range: Range<Int>) throws -> (id: UInt32, timescale: UInt32) {
        let header = try MP4TrackHeader(bytes, trak: range)
        guard let id = header.id, let timescale = header.timescale, timescale > 0 else {
            throw MP4FormatError("a track has no id or time scale")
        }
        return (id, timescale)
    }

    /// Adds the samples of one `moof` (payload `bytes`, box at `moofOffset`)
    /// whose data must lie in `dataRange` (its `mdat`).
    mutating func add(moof bytes: [UInt8], at moofOffset: Int64, dataRange: Range<Int64>) throws {
        var previousDataEnd = moofOffset
        for traf in try MP4ByteReader(bytes).children() where traf.type == .traf {
            var trackIndex: Int?
            var base = moofOffset
            var sampleDuration: UInt32 = 0, sampleSize: UInt32 = 0, sampleFlags: UInt32 = 0
            var nextData: Int64?
            for box in try MP4ByteReader(bytes, from: traf.payload.lowerBound, to: traf.payload.upperBound).children() {
                var fields = MP4ByteReader(bytes, from: box.payload.lowerBound, to: box.payload.upperBound)
                switch box.type {
                case .tfhd:
                    let (_, flags) = try fields.versionAndFlags()
                    let id = try fields.u32()
                    guard let index = tracks.firstIndex(where: { $0.trackID == id }) else {
                        throw MP4FormatError("a fragment names track \(id), which the moov does not declare")
                    }
                    trackIndex = index
                    let track = tracks[index]
                    sampleDuration = track.defaultDuration
                    sampleSize = track.defaultSize
                    sampleFlags = track.defaultFlags
                    if flags & 0x01 != 0 {
                        base = Int64(bitPattern: try fields.u64())
                    } else if flags & 0x02_0000 == 0 {
                        base = previousDataEnd  // neither: after the previous track's data
                    }
                    if flags & 0x02 != 0 { _ = try fields.u32() }
                    if flags & 0x08 != 0 { sampleDuration = try fields.u32() }
                    if flags & 0x10 != 0 { sampleSize = try fields.u32() }
                    if flags & 0x20 != 0 { sampleFlags = try fields.u32() }
                case .tfdt:
                    guard let trackIndex else { throw MP4FormatError("tfdt before tfhd") }
                    let (version, _) = try fields.versionAndFlags()
                    let time = version == 1 ? Int64(bitPattern: try fields.u64()) : Int64(try fields.u32())
                    tracks[trackIndex].startRun(atDecodeTime: time)
                case .trun:
                    guard let trackIndex else { throw MP4FormatError("trun before tfhd") }
                    if tracks[trackIndex].firstDecodeTime == nil { tracks[trackIndex].startRun(atDecodeTime: 0) }
                    let (version, flags) = try fields.versionAndFlags()
                    let count = try fields.u32()
                    var data = nextData ?? base
                    if flags & 0x01 != 0 { data = base + Int64(Int32(bitPattern: try fields.u32())) }
                    let firstFlags: UInt32? = flags & 0x04 != 0 ? try fields.u32() : nil
                    tracks[trackIndex].startChunk(at: data)
                    for sample in 0..<count {
                        let duration = flags & 0x100 != 0 ? try fields.u32() : sampleDuration
                        let size = flags & 0x200 != 0 ? try fields.u32() : sampleSize
                        var sampleFlagsHere = flags & 0x400 != 0 ? try fields.u32() : sampleFlags
                        if sample == 0, let firstFlags { sampleFlagsHere = firstFlags }
                        var offset: Int32 = 0
                        if flags & 0x800 != 0 {
                            let raw = try fields.u32()
                            offset = version == 0 ? Int32(clamping: raw) : Int32(bitPattern: raw)
                        }
                        guard data >= dataRange.lowerBound, data + Int64(size) <= dataRange.upperBound else {
                            throw MP4FormatError("a fragment's samples lie outside its mdat")
                        }
                        tracks[trackIndex].add(size: size, duration: duration, flags: sampleFlagsHere,
                                               compositionOffset: offset)
                        data += Int64(size)
                    }
                    nextData = data
                    previousDataEnd = data
                default:
                    break
                }
            }
        }
    }
}
