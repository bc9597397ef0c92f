#if canImport(Glibc)
import Glibc
#endif
import MediaCore
import MediaPackets

/// An HLS media playlist (RFC 8216) of fMP4 segments, rewritten whole after
/// each segment: `EVENT` while recording (segments are only added), with
/// `#EXT-X-ENDLIST` once the recording ended. Each version is written to a
/// temporary file beside it and renamed over it (`rename(2)` replaces the
/// name atomically), so a player or uploader reading it at any moment gets
/// a whole playlist, old or new, never half of one.
struct HLSPlaylist {
    let path: String
    /// Where the playlist is created and renamed (confined or by name).
    let files: OutputFiles
    /// `#EXT-X-TARGETDURATION`: whole seconds no segment's duration exceeds
    /// once rounded (RFC 8216 4.3.3.1); it must not change while the
    /// playlist is live, so it is the bound known at the start.
    let targetDuration: Int
    /// The initialization segment's name, relative to the playlist.
    let initName: String
    /// `#EXTINF` and URI lines of the segments so far.
    private var entries = ""
    private(set) var segmentCount = 0

    init(path: String, targetDuration: Int, initName: String, files: OutputFiles = OutputFiles()) {
        self.path = path
        self.files = files
        self.targetDuration = targetDuration
        self.initName = initName
        entries.reserveCapacity(4096)
    }

    /// Adds a segment of `duration` seconds named `name` (relative to the playlist).
    mutating func append(name: String, duration: Double) {
        entries += "#EXTINF:\(Self.decimal(duration)),\n\(name)\n"
        segmentCount += 1
    }

    /// The playlist's text; `ended` adds `#EXT-X-ENDLIST`.
    func text(ended: Bool) -> String {
        var text = """
            #EXTM3U
            #EXT-X-VERSION:7
            #EXT-X-TARGETDURATION:\(targetDuration)
            #EXT-X-MEDIA-SEQUENCE:0
            #EXT-X-PLAYLIST-TYPE:EVENT
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-MAP:URI="\(initName)"

            """
        text += entries
        if ended { text += "#EXT-X-ENDLIST\n" }
        return text
    }

    /// Writes the playlist to `path.tmp` and renames it over `path`.
    func write(ended: Bool) throws {
        let temporary = path + ".tmp"
        let bytes = Array(text(ended: ended).utf8)
        do {
            let file = try files.create(temporary, access: O_WRONLY, overwrite: true)
            try file.write(bytes, at: 0)
        } catch let partial as PartialWrite {
            files.remove(temporary)
            throw partial.error
        } catch {
            files.remove(temporary)
            throw error
        }
        do {
            try files.rename(temporary, to: path)
        } catch {
            files.remove(temporary)
            throw error
        }
    }

    /// Seconds with three decimals (players read `#EXTINF` as a decimal).
    private static func decimal(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
