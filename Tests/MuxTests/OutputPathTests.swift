import Encoder
import Foundation
import MediaCore
import Mux
import MediaTestSupport
import Testing

/// Bad output paths are refused before anything is created. The tests run as
/// root, which may write to any directory, so "not writable" uses /proc and
/// a directory path that is really a regular file.
@Suite struct OutputPathTests {
    func expectRefusal(_ path: String, overwrite: Bool = false, mentioning mention: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try MP4FileSink.validateOutputPath(path, overwrite: overwrite)
            Issue.record("\(path) was accepted", sourceLocation: sourceLocation)
        } catch let error as InvalidSetting {
            #expect(error.value == path, sourceLocation: sourceLocation)
            #expect(error.description.contains(path), "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains(mention), "\(error) should say \(mention)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    func contents(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    @Test func missingDirectoryIsRefused() throws {
        let directory = try TestMedia.scratchDirectory("paths")
        defer { TestMedia.removeDirectory(directory) }
        expectRefusal("\(directory)/missing/out.mp4", mentioning: "does not exist")
        #expect(contents(directory).isEmpty)
    }

    @Test func unwritableDirectoriesAreRefused() throws {
        expectRefusal("/proc/recording.mp4", mentioning: "not writable")
        expectRefusal("/sys/recording.mp4", mentioning: "not writable")
        #expect(!FileManager.default.fileExists(atPath: "/proc/recording.mp4"))

        let directory = try TestMedia.scratchDirectory("paths")
        defer { TestMedia.removeDirectory(directory) }
        let file = "\(directory)/plain-file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        expectRefusal("\(file)/out.mp4", mentioning: "not a directory")
        expectRefusal(directory, overwrite: true, mentioning: "is a directory")
        #expect(contents(directory) == ["plain-file"])
    }

    @Test func existingFileNeedsOverwrite() throws {
        let directory = try TestMedia.scratchDirectory("paths")
        defer { TestMedia.removeDirectory(directory) }
        let path = "\(directory)/taken.mp4"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
        expectRefusal(path, mentioning: "already exists")
        try MP4FileSink.validateOutputPath(path, overwrite: true)
        try MP4FileSink.validateOutputPath("\(directory)/fresh.mp4", overwrite: false)

        // The sink itself refuses the same way and touches nothing.
        let encoder = try AudioEncoder(settings: try AudioEncoderSettings(),
                                       inputFormat: AudioFormat(sampleFormat: .s16, sampleRate: 48_000, channels: 2))
        #expect(throws: InvalidSetting.self) {
            _ = try MP4FileSink(path: path, streams: [encoder.parameters])
        }
        #expect(throws: InvalidSetting.self) {
            _ = try MP4FileSink(path: "\(directory)/nowhere/out.mp4", streams: [encoder.parameters])
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
        #expect(contents(directory) == ["taken.mp4"])
    }
}
