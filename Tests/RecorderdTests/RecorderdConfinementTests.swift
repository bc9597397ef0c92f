import Foundation
import Testing
import TestSupport

/// Issue 21, item 2: the check of a request's `file` and the open are
/// separate steps, so a folder inside the recordings directory swapped for a
/// link to outside, in a loop, once led 12 of 60 recordings outside. Now
/// every open goes beneath the directory's descriptor without following a
/// link: each recording is written inside, or refused (400 naming `file`),
/// or fails with an error; nothing appears outside.
@Suite(.serialized, .tags(.bench)) struct RecorderdConfinementTests {
    @Test func sixtyRecordingsWhileAFolderIsSwappedForALinkWriteNothingOutside() throws {
        let bench = try TestBench.current()
        let daemon = try Daemon(bench)
        let outside = try bench.scratchDirectory("outside")
        let folder = daemon.recordings + "/race", parked = daemon.recordings + "/parked"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let swapper = Swapper(folder: folder, parked: parked, outside: outside, strays: daemon.recordings + "/stray")
        swapper.start()
        var outcomes: [String: Int] = [:]
        var failures: [String] = []
        for index in 0..<60 {
            let answer = try daemon.request("POST", "/v1/recordings", body: """
                {"display": "\(bench.display)", "region": "64x64+0+0", "fps": 10, "duration": 1,
                 "file": "race/r\(index).mp4", "video": {"preset": "ultrafast"}}
                """)
            switch answer.status {
            case 201:
                let id = try #require(answer.json["id"] as? String)
                let ended = try daemon.waitFor(id, seconds: 60) { ["finished", "failed"].contains($0["state"] as? String) }
                let state = ended["state"] as? String ?? "?"
                if state == "failed" {
                    let error = ended["error"] as? String ?? ""
                    #expect(!error.isEmpty, "a failure says why: \(ended)")
                    failures.append(error)
                }
                outcomes[state, default: 0] += 1
            case 400:
                #expect(answer.body.contains("file"), "a refusal names the field: \(answer.body)")
                outcomes["refused", default: 0] += 1
            default:
                Issue.record("r\(index): \(answer.status) \(answer.body)")
            }
        }
        #expect(swapper.stop())
        let escaped = (try? FileManager.default.subpathsOfDirectory(atPath: outside)) ?? ["?"]
        #expect(escaped.isEmpty, "written outside the recordings directory: \(escaped)")
        let inside = try FileManager.default.subpathsOfDirectory(atPath: daemon.recordings).filter { $0.hasSuffix(".mp4") }
        #expect(inside.count >= outcomes["finished", default: 0], "\(inside)")
        print("confinement race through recorderd: \(outcomes), \(inside.count) files inside, 0 outside; "
              + "failures: \(Set(failures).sorted())")
    }
}

/// Swaps `folder` for a link to `outside` and back, in a loop, on its own
/// thread; a folder the daemon made while `folder` was missing is moved to
/// `strays` + a number (inside).
private final class Swapper: @unchecked Sendable {
    let folder: String, parked: String, outside: String, strays: String
    private let lock = NSLock()
    private var stopping = false
    private let stopped = DispatchSemaphore(value: 0)

    init(folder: String, parked: String, outside: String, strays: String) {
        self.folder = folder
        self.parked = parked
        self.outside = outside
        self.strays = strays
    }

    func start() {
        Thread { [self] in
            var count = 0
            while !lock.withLock({ stopping }) {
                rename(folder, parked)
                symlink(outside, folder)
                unlink(folder)
                if rename(parked, folder) != 0 {
                    count += 1
                    rename(folder, strays + "\(count)")
                    rename(parked, folder)
                }
                // The folder stays in place a moment (the attacker's pace),
                // so that requests pass the check and meet the swap later.
                usleep(300)
            }
            stopped.signal()
        }.start()
    }

    /// Stops the loop; true once the thread ended (10 s deadline).
    func stop() -> Bool {
        lock.withLock { stopping = true }
        return stopped.wait(timeout: .now() + 10) == .success
    }
}
