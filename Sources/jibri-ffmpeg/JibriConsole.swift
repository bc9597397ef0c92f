import Dispatch
import JibriDropIn
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Everything jibri-ffmpeg prints, in one place, so that Jibri (which reads
/// stdout and stderr merged, line by line) sees exactly the lines it should.
///
/// ffmpeg prints on stderr; so does this, on the stderr it was started with.
/// The engine's log, with the libav* and alsa-lib lines it routes, comes here
/// through `JibriLogHandler`. What still writes to descriptor 2 on its own
/// (x264's and Xlib's own messages) meets a pipe that replaces descriptor 2:
/// its lines are passed through `JibriLine.neutralized` before they reach
/// the real stderr, so that none of them can look like progress, a finish,
/// a bad URL or a broken pipe to Jibri. The pipe is read by one thread that
/// blocks in `read`; such output is rare, so nothing here is on a media path.
final class JibriConsole: Sendable {
    /// The stderr the program was started with.
    private let output: Int32
    /// The read end of the pipe that stands in for descriptor 2.
    private let libraryLines: Int32
    private let writing = Mutex(())
    private let readerDone = DispatchSemaphore(value: 0)
    private let finished = Atomic<Bool>(false)

    /// Takes over descriptor 2. Nothing may be printed on it before.
    init() {
        output = dup(STDERR_FILENO)
        var ends: [Int32] = [0, 0]
        guard output >= 0, pipe(&ends) == 0, dup2(ends[1], STDERR_FILENO) >= 0 else {
            fatalError("jibri-ffmpeg: cannot set up its output: errno \(errno)")
        }
        close(ends[1])
        libraryLines = ends[0]
        _ = fcntl(output, F_SETFD, FD_CLOEXEC)
        _ = fcntl(libraryLines, F_SETFD, FD_CLOEXEC)
        DispatchQueue.global().async { [self] in
            forwardLibraryLines()
            readerDone.signal()
        }
    }

    /// Prints `line` as it is: the progress line and Jibri's two final lines.
    func print(_ line: String) {
        writing.withLock { _ in Self.writeAll(output, line + "\n") }
    }

    /// Prints one of jibri-ffmpeg's own lines, named and made unknown to Jibri.
    func note(_ message: String) {
        print(JibriLine.neutralized("jibri-ffmpeg: \(message)"))
    }

    /// Gives descriptor 2 back and prints every library line still in the
    /// pipe, so that what is printed next is the last line Jibri reads.
    func finish() {
        guard !finished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // Closes the pipe's write end: the reader gets end-of-file after the last line.
        dup2(output, STDERR_FILENO)
        readerDone.wait()
    }

    private func forwardLibraryLines() {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(libraryLines, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(where: { $0 == 10 || $0 == 13 }) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if !line.isEmpty { print(JibriLine.neutralized(line)) }
            }
        }
        if !pending.isEmpty { print(JibriLine.neutralized(String(decoding: pending, as: UTF8.self))) }
        close(libraryLines)
    }

    private static func writeAll(_ descriptor: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return  // Jibri went away; there is no one left to tell.
            }
            bytes = bytes.dropFirst(written)
        }
    }
}
