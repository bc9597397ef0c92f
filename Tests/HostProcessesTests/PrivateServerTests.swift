import Foundation
import HostProcesses
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The private servers alone: they need Xvfb, PulseAudio, ALSA's pulse
/// plugin, xdpyinfo, sox and arecord (`scripts/setup`), not the bench's parts.
@Suite(.tags(.bench)) struct PrivateServerTests {
    private func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "hostprocesses-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func aPrivateXServerAnswersAtItsSizeWithSharedMemory() throws {
        let server = try PrivateXServer(width: 320, height: 240)
        let info = try Subprocess.run(["xdpyinfo", "-display", server.display])
        #expect(info.status == 0, "\(info.standardError)")
        #expect(info.standardOutput.contains("dimensions:    320x240 pixels"), "\(info.standardOutput)")
        #expect(info.standardOutput.contains("MIT-SHM"))
        server.stop()
        #expect(!server.process.isRunning)
        #expect(try Subprocess.run(["xdpyinfo", "-display", server.display]).status != 0)
    }

    @Test func aPrivateXServerStartedFromATaskAndEnded() async throws {
        let server = try await PrivateXServer.start(width: 640, height: 480, depth: 16)
        let info = try Subprocess.run(["xdpyinfo", "-display", server.display])
        #expect(info.standardOutput.contains("depth of root window:    16 planes"), "\(info.standardOutput)")
        await server.terminate()
        #expect(server.process.termination?.signal == SIGTERM || server.process.termination?.exitCode == 0)
    }

    @Test func anXServerThatCannotStartIsNamed() {
        #expect {
            _ = try PrivateXServer(arguments: ["-no-such-option"], readyWithin: 10)
        } throws: { error in
            "\(error)".hasPrefix("Xvfb did not report a display")
        }
    }

    @Test func aPrivateSoundServersPCMsCarryATone() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try PrivateSoundServer(directory: directory, sink: "test", log: "\(directory)/pulse.log")
        let configuration = "\(directory)/asound.conf"
        try server.alsaDefinitions(playbackPCM: "hp_playback", capturePCM: "hp_capture")
            .write(toFile: configuration, atomically: true, encoding: .utf8)
        let environment = ChildProcess.environment(updating: [
            "ALSA_CONFIG_PATH": ALSAPulsePCMs.configPath(adding: [configuration], to: ""), "PULSE_SERVER": nil])
        let tone = try ChildProcess.tone(pcm: "hp_playback", seconds: 10, frequency: 660, environment: environment)
        defer { tone.stop(grace: 1) }
        let recorded = "\(directory)/recorded.raw"
        let record = try Subprocess.run(["arecord", "-q", "-D", "hp_capture", "-t", "raw", "-f", "S16_LE", "-r", "48000",
                                         "-c", "2", "-d", "3", recorded], environment: environment)
        #expect(record.status == 0, "\(record.standardError)")
        let data = try Data(contentsOf: URL(fileURLWithPath: recorded))
        let samples = data.withUnsafeBytes { bytes in
            stride(from: 0, to: bytes.count / 4, by: 1).map { Double(Int16(littleEndian: bytes.load(fromByteOffset: $0 * 4, as: Int16.self))) }
        }
        // Three seconds in real time, the tone's frequency, not silence.
        #expect(abs(Double(samples.count) - 3 * 48000) < 4800, "\(samples.count) frames")
        let frequency = ToneAnalysis.medianFrequency(of: samples, sampleRate: 48000)
        #expect(frequency.map { abs($0 - 660) < 2 } == true, "\(String(describing: frequency))")
        #expect(ToneAnalysis.rms(samples) > 1000)
    }

    @Test func aSoundServerStartedFromATaskOpensItsSocketAndEnds() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await PrivateSoundServer.start(directory: directory, socket: "\(directory)/native")
        #expect(server.address == "unix:\(directory)/native" && server.monitor == "sink.monitor")
        let info = try Subprocess.run(["pactl", "--server", server.address, "list", "short", "sinks"])
        #expect(info.standardOutput.contains("sink"), "\(info.standardOutput) \(info.standardError)")
        await server.terminate()
        #expect(!server.process.isRunning)
    }

    @Test func theParametricDefinitionsNameEachServersSocket() {
        let text = ALSAPulsePCMs.definitions(playback: "p", capture: "c", socketDirectory: "/run/x", socketName: "native",
                                             sink: "workspace")
        #expect(text.contains(#"server { @func concat strings [ "unix:/run/x/" $WS "/native" ] }"#))
        #expect(text.contains(#"device "workspace.monitor""#))
        #expect(ALSAPulsePCMs.configPath(adding: ["/b.conf"], to: "/usr/share/alsa/alsa.conf:/a.conf")
                == "/usr/share/alsa/alsa.conf:/a.conf:/b.conf")
    }
}
