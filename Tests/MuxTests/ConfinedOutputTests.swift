import Foundation
import MediaCore
import MediaPackets
import Mux
import MediaTestSupport
import Testing

/// File outputs confined to a directory (`OutputFiles` over a
/// `ConfinedDirectory`, as recorderd runs them): while a folder inside is
/// swapped for a link to outside in a tight loop, recordings, segments and
/// HLS files are written inside or refused, never outside; repair refuses a
/// file reached through a link.
@Suite(.serialized, .tags(.bench)) struct ConfinedOutputTests {
    /// A recordings directory, a folder in it that a thread keeps swapping
    /// for a link to `outside`, and `outside`.
    private final class Race: @unchecked Sendable {
        let base: String
        let root: String
        let outside: String
        let folder: String
        let files: OutputFiles
        private let lock = NSLock()
        private var stopping = false
        private let stopped = DispatchSemaphore(value: 0)

        init(_ name: String) throws {
            base = try TestMedia.scratchDirectory(name)
            root = base + "/recordings"
            outside = base + "/outside"
            folder = root + "/race"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            files = OutputFiles(confinement: try ConfinedDirectory(path: root))
        }

        func start() {
            let thread = Thread { [self] in
                var strays = 0
                while !lock.withLock({ stopping }) {
                    rename(folder, root + "/parked")
                    symlink(outside, folder)
                    unlink(folder)
                    if rename(root + "/parked", folder) != 0 {
                        strays += 1
                        rename(folder, root + "/stray\(strays)")
                        rename(root + "/parked", folder)
                    }
                    // The folder stays in place a moment (the attacker's
                    // pace), so that opens pass the early check and meet
                    // the swap between the check and the open.
                    usleep(300)
                }
                stopped.signal()
            }
            thread.start()
        }

        /// Stops the swapping; true once the thread ended (10 s deadline).
        func stop() -> Bool {
            lock.withLock { stopping = true }
            return stopped.wait(timeout: .now() + 10) == .success
        }

        var outsideContents: [String] { (try? FileManager.default.subpathsOfDirectory(atPath: outside)) ?? ["?"] }

        /// A refusal the race may cause: the folder was a link (ELOOP) or
        /// missing (ENOENT) at the open, or the early check saw one.
        static func isRaceRefusal(_ error: any Error) -> Bool {
            if let error = error as? AVError { return error.code == -ELOOP || error.code == -ENOENT }
            if error is InvalidSetting { return true }
            return false
        }
    }

    @Test func sixtyRecordingsWhileAFolderIsSwappedForALinkWriteNothingOutside() throws {
        let replay = try MP4FinishInPlaceTests.replay.get()
        let race = try Race("confined-race")
        defer { TestMedia.removeDirectory(race.base) }
        race.start()
        var written: [String] = []
        var refused: [String] = []
        var refusedAtOpen = 0
        for index in 0..<60 {
            let path = "\(race.folder)/r\(index).mp4"
            do {
                let sink = try MP4FileSink(path: path, streams: [replay.videoParameters, replay.audioParameters],
                                           files: race.files)
                try replay.replay(seconds: 1, into: sink)
                let report = sink.finish()
                #expect(report.outcome == .finishedInPlace, "\(report)")
                written.append(path)
            } catch {
                #expect(Race.isRaceRefusal(error), "r\(index): \(error)")
                refused.append("\(error)")
                if error is AVError { refusedAtOpen += 1 }
            }
        }
        #expect(race.stop())
        #expect(race.outsideContents.isEmpty, "written outside: \(race.outsideContents)")
        // Whatever was written is inside, under its name or a stray folder's.
        let inside = (try FileManager.default.subpathsOfDirectory(atPath: race.root)).filter { $0.hasSuffix(".mp4") }
        #expect(inside.count == written.count, "\(inside) against \(written.count) written")
        #expect(written.count + refused.count == 60)
        print("confined race: \(written.count) written inside, \(refused.count) refused (\(refusedAtOpen) at the open, after the check passed); e.g. \(refused.last ?? "-")")
    }

    @Test func hlsAndSegmentsWhileAFolderIsSwappedWriteNothingOutside() throws {
        let replay = try MP4FinishInPlaceTests.replay.get()
        let race = try Race("confined-race-hls")
        defer { TestMedia.removeDirectory(race.base) }
        race.start()
        for index in 0..<20 {
            do {
                let hls = try HLSSink(playlist: "\(race.folder)/h\(index).m3u8",
                                      streams: [replay.videoParameters, replay.audioParameters],
                                      segmentDuration: 0.5, maximumSegmentDuration: 2, files: race.files)
                try replay.replay(seconds: 2) { try hls.write($0) }
                try hls.finish()
            } catch {
                #expect(Race.isRaceRefusal(error), "h\(index): \(error)")
            }
            do {
                let segments = try SegmentedMP4Sink(
                    names: SegmentNames(path: "\(race.folder)/s\(index).mp4"),
                    streams: [replay.videoParameters, replay.audioParameters],
                    policy: .init(duration: 1, maxBytes: nil), files: race.files)
                try replay.replay(seconds: 3) { try segments.write($0) }
                _ = segments.finish()
            } catch {
                #expect(Race.isRaceRefusal(error), "s\(index): \(error)")
            }
        }
        #expect(race.stop())
        #expect(race.outsideContents.isEmpty, "written outside: \(race.outsideContents)")
    }

    @Test func repairOpensTheFileBeneathTheDirectoryOnly() throws {
        let replay = try MP4FinishInPlaceTests.replay.get()
        let race = try Race("confined-repair")
        defer { TestMedia.removeDirectory(race.base) }
        let path = "\(race.folder)/crashed.mp4"
        try withExtendedLifetime(try MP4FileSink(path: path, streams: [replay.videoParameters, replay.audioParameters],
                                                 files: race.files)) {
            try replay.replay(seconds: 3, into: $0)
        }
        // The folder moved out, a link to it in its place: refused, untouched.
        let moved = race.outside + "/race"
        #expect(rename(race.folder, moved) == 0)
        #expect(symlink(moved, race.folder) == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: moved + "/crashed.mp4"))
        #expect { try MP4Repair.repair(path: path, files: race.files) } throws: { error in
            "\(error)".contains("symbolic link")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: moved + "/crashed.mp4")) == before)
        // Back in place: repaired.
        #expect(unlink(race.folder) == 0)
        #expect(rename(moved, race.folder) == 0)
        let report = try MP4Repair.repair(path: path, files: race.files)
        #expect(!report.wasFinished && report.fragments > 0, "\(report)")
    }
}
