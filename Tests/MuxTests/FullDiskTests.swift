import Foundation
import MediaCore
import MediaPackets
import Mux
import MediaTestSupport
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A disk that fills up under the real MP4 file sink (a small tmpfs, real
/// ENOSPC), and a file removed while it is written: everything before the
/// failed write stays whole, and what is on disk is reported as it is.
@Suite(.serialized, .tags(.bench)) struct FullDiskTests {
    @Test func aDiskFullWhileRecordingKeepsEveryWholeFragmentAndFinishesInPlace() throws {
        let disk = try SmallDisk(bytes: 6 << 20)
        defer { disk.unmount() }
        // Noise at crf 1, like issue 11's input: megabits a second, so 6 MiB
        // fill in seconds of media.
        let replay = try PacketReplay(width: 256, height: 144, frames: 60, gop: 30, crf: 1, noise: true)
        let path = "\(disk.path)/full.mp4"
        let sink = try MP4FileSink(path: path, streams: [replay.videoParameters, replay.audioParameters])
        #expect(sink.reservedIndexBytes <= 128 << 10, "the reserve takes a small part of a small disk")
        var failure: (any Error)?
        do {
            try replay.replay(seconds: 3600, into: sink)
        } catch {
            failure = error
        }
        let error = try #require(failure, "6 MiB cannot hold an hour")
        #expect((error as? AVError)?.code == -ENOSPC, "\(error)")

        // As written: it ends at the last whole fragment and plays.
        let size = Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1)
        #expect(sink.bytesOnDisk == size)
        let boxes = try MP4Inspection.boxes(path)
        #expect(boxes.last?.type == "mdat" && boxes.last?.end == size, "\(boxes.suffix(3))")
        #expect(boxes.filter { $0.type == "mdat" }.count == sink.fragmentCount)
        #expect(sink.fragmentCount > 3)
        #expect(try MP4Inspection.decodeErrors(path).isEmpty)
        let asWritten = try MP4Inspection.packetCounts(path)

        // Finishing needs no space: the index goes into the reserve.
        let report = sink.finish()
        #expect(report.outcome == .finishedInPlace && report.moovAtFront, "\(report)")
        #expect(report.error?.contains("No space left on device") == true, "\(report)")
        #expect(report.bytes == size)
        #expect(report.fragments == sink.fragmentCount)
        let counts = try MP4Inspection.packetCounts(path)
        #expect(counts.video == asWritten.video && counts.audio == asWritten.audio, "nothing lost: \(counts), \(asWritten)")
        #expect(try MP4Inspection.decodeErrors(path).isEmpty)
        #expect(!(try MP4Inspection.boxes(path).map(\.type).contains("moof")))
    }

    /// Room for the media but not for an index that has to go after it:
    /// the file is kept as written, whole, and can be finished later.
    @Test func aDiskFullWhileFinishingKeepsTheRecordingAsWritten() throws {
        let disk = try SmallDisk(bytes: 16 << 20)
        defer { disk.unmount() }
        let replay = try MP4FinishInPlaceTests.replay.get()
        let path = "\(disk.path)/finishing.mp4"
        let sink = try MP4FileSink(path: path, streams: [replay.videoParameters, replay.audioParameters],
                                   reservedIndexBytes: 4096)
        try replay.replay(seconds: 300, into: sink)
        // The last fragment (under a second of media) still fits; the index
        // of 300 s (about 100 kB) does not.
        let filler = try disk.fill(leaving: 48 << 10)
        let report = sink.finish()
        #expect(report.outcome == .keptAsWritten, "\(report)")
        #expect(report.error?.contains("No space left on device") == true, "\(report)")
        let size = Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1)
        #expect(report.bytes == size)
        let boxes = try MP4Inspection.boxes(path)
        #expect(boxes.last?.type == "mdat" && boxes.last?.end == size, "no torn index left: \(boxes.suffix(3).map(\.type))")
        #expect(try MP4Inspection.decodeErrors(path).isEmpty)
        let expected = replay.packetCounts(seconds: 300)
        let counts = try MP4Inspection.packetCounts(path)
        #expect(counts.video == expected.video && counts.audio == expected.audio, "every packet kept: \(counts)")

        // With room again, the repair finishes it.
        try FileManager.default.removeItem(atPath: filler)
        let repaired = try MP4Repair.repair(path: path)
        #expect(!repaired.wasFinished && repaired.moovAtFront == false && repaired.droppedBytes == 0, "\(repaired)")
        #expect(try MP4Inspection.packetCounts(path).video == expected.video)
        #expect(try MP4Inspection.decodeErrors(path).isEmpty)
        #expect(abs(try MP4Inspection.duration(path) - 300) < 0.05)
    }

    /// Writing on into a file nobody can reach any more would lose the rest
    /// of the recording without a word: it fails at the next fragment.
    @Test func aFileRemovedWhileRecordingEndsTheRecordingWithAnError() throws {
        let directory = try TestMedia.scratchDirectory("removed")
        defer { TestMedia.removeDirectory(directory) }
        let replay = try MP4FinishInPlaceTests.replay.get()
        let path = "\(directory)/removed.mp4"
        let sink = try MP4FileSink(path: path, streams: [replay.videoParameters, replay.audioParameters])
        var failure: (any Error)?
        var videoPackets = 0
        do {
            try replay.replay(seconds: 15) { packet in
                if packet.kind == .video {
                    videoPackets += 1
                    // Removed 5 s in.
                    if videoPackets == 150 { try FileManager.default.removeItem(atPath: path) }
                }
                try sink.write(packet)
            }
        } catch {
            failure = error
        }
        #expect((failure as? AVError)?.code == -ENOENT, "\(String(describing: failure))")
        #expect("\(failure.map { "\($0)" } ?? "")".contains("removed"))
        let report = sink.finish()
        #expect(report.outcome == .keptAsWritten && report.bytes == 0, "\(report)")
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
