/// The top-level boxes of one of our recordings as they are on disk now,
/// whatever state a crash or a kill during finishing left it in.
///
/// A recording is `ftyp`, the fragmented `moov` (with `mvex`), our marker
/// (`MP4RecordingMarker`), the reserve (a `free` box), then `moof`+`mdat`
/// fragments from the reserve's end on. Finishing writes a complete `moov`
/// into the reserve or after the last fragment, one `mdat` header that
/// covers every fragment (so readers walking the boxes no longer meet a
/// `moof`), and turns the fragmented `moov` into a `free` box by changing
/// its type only: a `free` box whose payload begins with `mvhd` is that
/// retired `moov`. The fragments are still there, inside the covering
/// `mdat`: the scan goes on at the reserve's end whatever the reserve holds.
struct MP4RecordingLayout {
    struct Box {
        let type: FourCC
        let offset: Int64
        let size: Int64
        let headerSize: Int
        var end: Int64 { offset + size }
        var payloadOffset: Int64 { offset + Int64(headerSize) }
    }

    struct Fragment {
        let moof: Box
        let mdat: Box
    }

    let fileSize: Int64
    /// The fragmented `moov` (nil when none was found).
    private(set) var fragmentMoov: Box?
    private(set) var fragmentMoovRetired = false
    private(set) var marker: MP4RecordingMarker?
    private(set) var markerBox: Box?
    /// `moov` boxes without `mvex`: complete indexes a finishing wrote.
    private(set) var completeMoovs: [Box] = []
    private(set) var fragments: [Fragment] = []
    /// End of the last complete fragment, or of the boxes before the first
    /// fragment when there is none: what the file keeps.
    private(set) var completeEnd: Int64 = 0
    /// The boxes after `completeEnd` that are not a finished index: a torn
    /// fragment, a half-written box (nil: none).
    private(set) var tornTailOffset: Int64?

    /// A finished recording: one complete `moov`, the fragmented `moov`
    /// retired (finishing's last step).
    var isFinished: Bool {
        completeMoovs.count == 1 && (fragmentMoov == nil || fragmentMoovRetired)
    }

    /// The layout as the sink wrote it (`MP4FragmentOutput` follows every
    /// box it writes), so finishing need not read the file again.
    init(fileSize: Int64, fragmentMoov: Box, marker: MP4RecordingMarker, fragments: [Fragment], completeEnd: Int64) {
        self.fileSize = fileSize
        self.fragmentMoov = fragmentMoov
        self.marker = marker
        self.fragments = fragments
        self.completeEnd = completeEnd
        tornTailOffset = completeEnd < fileSize ? completeEnd : nil
    }

    /// Reads the top-level boxes of `file`. Throws `MP4FormatError` when the
    /// file does not start with an `ftyp` box (not an MP4).
    init(reading file: FileHandleIO) throws {
        fileSize = try file.size()
        var offset: Int64 = 0
        var pendingMoof: Box?
        var first = true
        while offset < fileSize {
            // Inside the reserve, only a complete index counts; whatever else
            // is there (the rest of the reserve, the box a finishing made to
            // cover the fragments, half-written headers), the fragments start
            // where the reserve ends.
            if let marker, offset >= marker.reserveOffset, offset < marker.reserveOffset + marker.reserveSize {
                let reserveEnd = marker.reserveOffset + marker.reserveSize
                if let box = try Self.header(in: file, at: offset, fileSize: min(fileSize, reserveEnd)), box.type == .moov {
                    completeMoovs.append(box)
                    offset = box.end
                } else {
                    offset = reserveEnd
                }
                if fragments.isEmpty { completeEnd = min(offset, fileSize) }
                continue
            }
            guard let box = try Self.header(in: file, at: offset, fileSize: fileSize) else {
                if first { throw MP4FormatError("does not begin with an MP4 box") }
                tornTailOffset = offset
                break
            }
            if first {
                guard box.type == .ftyp else { throw MP4FormatError("does not begin with an ftyp box") }
                first = false
            }
            switch box.type {
            case .moov:
                let children = try Self.childTypes(in: file, box: box)
                if children.contains(.mvex) {
                    fragmentMoov = box
                } else {
                    completeMoovs.append(box)
                }
            case .free, .skip:
                let peek = try file.read(min(Int(box.size) - box.headerSize, 24), at: box.payloadOffset)
                let firstChild = peek.count >= 8 ? FourCC(UInt32(peek[4]) << 24 | UInt32(peek[5]) << 16
                                                          | UInt32(peek[6]) << 8 | UInt32(peek[7])) : nil
                if Array(peek.prefix(16)) == MP4RecordingMarker.magic, marker == nil {
                    let payload = try file.read(MP4RecordingMarker.boxSize - 8, at: box.payloadOffset)
                    marker = MP4RecordingMarker(payload: payload)
                    markerBox = box
                } else if firstChild == .mvhd, fragmentMoov == nil, fragments.isEmpty {
                    fragmentMoov = box
                    fragmentMoovRetired = true
                }
            case .moof:
                pendingMoof = box
            case .mdat:
                if let moof = pendingMoof {
                    fragments.append(Fragment(moof: moof, mdat: box))
                    completeEnd = box.end
                }
                pendingMoof = nil
            default:
                break
            }
            if box.type != .moof && box.type != .mdat { pendingMoof = nil }
            if fragments.isEmpty && pendingMoof == nil { completeEnd = box.end }
            offset = box.end
        }
        if first { throw MP4FormatError("is empty") }
        if tornTailOffset == nil && completeEnd < fileSize {
            // Boxes after the last fragment: a finished index at the end, or
            // a moof without its mdat.
            tornTailOffset = completeEnd
        }
    }

    /// The box header at `offset`, or nil when there is no whole box there
    /// (too short, a size that runs past the end of the file, or size 0).
    static func header(in file: FileHandleIO, at offset: Int64, fileSize: Int64) throws -> Box? {
        guard fileSize - offset >= 8 else { return nil }
        let bytes = try file.read(16, at: offset)
        var reader = MP4ByteReader(bytes)
        var size = UInt64(try reader.u32())
        let type = FourCC(try reader.u32())
        var headerSize = 8
        if size == 1 {
            guard bytes.count == 16 else { return nil }
            size = try reader.u64()
            headerSize = 16
        }
        guard size >= UInt64(headerSize), size <= UInt64(fileSize - offset) else { return nil }
        return Box(type: type, offset: offset, size: Int64(size), headerSize: headerSize)
    }

    /// The types of the boxes directly inside `box`.
    static func childTypes(in file: FileHandleIO, box: Box) throws -> [FourCC] {
        var types: [FourCC] = []
        var offset = box.payloadOffset
        while offset < box.end, let child = try header(in: file, at: offset, fileSize: box.end) {
            types.append(child.type)
            offset = child.end
        }
        return types
    }
}
