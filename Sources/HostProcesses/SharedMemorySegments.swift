#if canImport(Glibc)
import Glibc
#endif

/// The System V shared memory segments the kernel lists in
/// `/proc/sysvipc/shm`, read through stdio to its end: the table comes a
/// page per read, and Foundation's `String(contentsOfFile:)` stops after
/// the first (measured: 4,084 of 13,612 bytes with 80 segments listed), so
/// a segment further down was not seen.
public enum SharedMemorySegments {
    /// The segments `pid` created: their ids and sizes in bytes.
    public static func created(by pid: Int32) -> [(shmid: Int32, size: Int)] {
        guard let file = fopen("/proc/sysvipc/shm", "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        var result: [(shmid: Int32, size: Int)] = []
        var header = true
        while getline(&line, &capacity, file) > 0, let text = line {
            if header { header = false; continue }
            // key shmid perms size cpid ...
            let fields = String(cString: text).split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 4, let shmid = Int32(fields[1]), let size = Int(fields[3]),
                  let creator = Int32(fields[4]), creator == pid else { continue }
            result.append((shmid, size))
        }
        return result
    }
}
