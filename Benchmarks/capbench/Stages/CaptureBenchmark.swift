import ArgumentParser
import CaptureX11
import Foundation
import MediaCore

/// Grabs per second and CPU per grab (ours plus the X server's) through the
/// MIT-SHM pool, against ffmpeg's x11grab on the same display, alternating.
struct CaptureBenchmark: ParsableCommand, RunCommand {
    static let configuration = CommandConfiguration(commandName: "capture", abstract: "Display grabs against ffmpeg x11grab.")

    @OptionGroup var recording: RunOptions<Defaults>
    enum Defaults: RunDefaults { static let seconds = 4.0, rounds = 2 }
    @Option(help: "X server PID, to count its CPU (default $BENCH_XVFB_PID).") var serverPid: Int32?
    @OptionGroup var common: CommonOptions

    struct Trial { var grabs: Double; var seconds: Double; var cpu: Double; var serverCPU: Double }

    func run() throws {
        let region = try CaptureRegion(parsing: size + "+0+0")
        guard let displayName = display ?? ProcessInfo.processInfo.environment["DISPLAY"] else {
            throw ValidationError("no display: pass --display or set DISPLAY")
        }
        let server = CPUUsage.serverPID(serverPid)
        var oursFast: [Trial] = [], peerFast: [Trial] = [], oursPaced: [Trial] = [], peerPaced: [Trial] = []
        for _ in 0..<rounds {
            oursFast.append(try ours(display: displayName, region: region, paced: nil, server: server))
            peerFast.append(try ffmpeg(display: displayName, region: region, rate: 1000, server: server))
            oursPaced.append(try ours(display: displayName, region: region, paced: fps, server: server))
            peerPaced.append(try ffmpeg(display: displayName, region: region, rate: fps, server: server))
        }
        func best(_ trials: [Trial]) -> Trial { trials.max { $0.grabs / $0.seconds < $1.grabs / $1.seconds }! }
        func leanest(_ trials: [Trial]) -> Trial { trials.min { ($0.cpu + $0.serverCPU) / $0.grabs < ($1.cpu + $1.serverCPU) / $1.grabs }! }
        let fastOurs = best(oursFast), fastPeer = best(peerFast)
        let pacedOurs = leanest(oursPaced), pacedPeer = leanest(peerPaced)
        var report = BenchReport(benchmark: "capture", settings: [
            "size": size, "seconds": "\(seconds)", "rounds": "\(rounds)", "fps": "\(fps)",
            "server CPU counted": server == nil ? "no (pass --server-pid)" : "yes"])
        let peerName = "ffmpeg x11grab (-c copy -f null)"
        report.add(Figure("unpaced grabs per second", unit: "1/s", ours: fastOurs.grabs / fastOurs.seconds,
                          peer: fastPeer.grabs / fastPeer.seconds, peerName: peerName))
        report.add(Figure("unpaced CPU per grab, incl. X server", unit: "ms", ours: 1000 * (fastOurs.cpu + fastOurs.serverCPU) / fastOurs.grabs,
                          peer: 1000 * (fastPeer.cpu + fastPeer.serverCPU) / fastPeer.grabs, peerName: peerName))
        report.add(Figure("\(fps) fps CPU per grab, incl. X server", unit: "ms", ours: 1000 * (pacedOurs.cpu + pacedOurs.serverCPU) / pacedOurs.grabs,
                          peer: 1000 * (pacedPeer.cpu + pacedPeer.serverCPU) / pacedPeer.grabs, peerName: peerName))
        report.add(Figure("\(fps) fps CPU per second, incl. X server", unit: "CPU-s/s", ours: (pacedOurs.cpu + pacedOurs.serverCPU) / pacedOurs.seconds,
                          peer: (pacedPeer.cpu + pacedPeer.serverCPU) / pacedPeer.seconds, peerName: peerName))
        report.add(Figure("\(fps) fps X server share of CPU", unit: "CPU-s/s", ours: pacedOurs.serverCPU / pacedOurs.seconds,
                          peer: pacedPeer.serverCPU / pacedPeer.seconds, peerName: peerName))
        report.printTable()
        try report.write(json: common.json)
    }

    private func ours(display: String, region: CaptureRegion, paced: Int?, server: Int32?) throws -> Trial {
        let counters = MediaCounters()
        let clock = MonotonicClock()
        let capture = try DisplayCapture(
            // Whole grabs, as x11grab makes them: the bench's screen is still,
            // and DAMAGE would grab nothing (`scenes` measures that).
            configuration: DisplayCaptureConfiguration(display: display, region: region, framesPerSecond: paced ?? 30,
                                                       method: .sharedMemory, tracksDamage: false),
            clock: clock, counters: counters)
        let cpu0 = CPUUsage.ownSeconds(), server0 = CPUUsage.processSeconds(server) ?? 0
        let start = clock.now()
        let end = start + Int64(seconds * 1e9)
        var grabs = 0
        if paced != nil {
            capture.start { event in print("capture failed: \(event)") }
            // The consumer just returns buffers, as an encoder would after converting.
            while clock.now() < end {
                while let frame = capture.frames.pop() { _ = consume frame; grabs += 1 }
                clock.sleep(until: clock.now() + 5_000_000)
            }
            capture.stop()
            while let frame = capture.frames.pop() { _ = consume frame; grabs += 1 }
        } else {
            while clock.now() < end {
                let frame = try capture.grabFrame(sequence: grabs)
                _ = consume frame
                grabs += 1
            }
        }
        let elapsed = Double(clock.now() - start) / 1e9
        return Trial(grabs: Double(grabs), seconds: elapsed, cpu: CPUUsage.ownSeconds() - cpu0,
                     serverCPU: (CPUUsage.processSeconds(server) ?? 0) - server0)
    }

    private func ffmpeg(display: String, region: CaptureRegion, rate: Int, server: Int32?) throws -> Trial {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "info", "-f", "x11grab", "-draw_mouse", "0",
                             "-framerate", "\(rate)", "-video_size", "\(region.width)x\(region.height)", "-i", "\(display)+0,0",
                             "-t", "\(seconds)", "-c:v", "copy", "-f", "null", "-"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let cpu0 = CPUUsage.childrenSeconds(), server0 = CPUUsage.processSeconds(server) ?? 0
        let start = Date()
        try process.run()
        let output = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let elapsed = Date().timeIntervalSince(start)
        // The last "frame=  N" of the progress lines is the number of frames grabbed.
        let frames = output.components(separatedBy: "frame=").last.flatMap {
            Double($0.trimmingCharacters(in: .whitespaces).prefix { $0.isNumber })
        } ?? 0
        guard process.terminationStatus == 0, frames > 0 else {
            throw ValidationError("ffmpeg x11grab failed: \(output.suffix(300))")
        }
        // ffmpeg's start-up is part of its cost per run but not of grabbing: use the
        // media duration it reports as the elapsed time for rates.
        return Trial(grabs: frames, seconds: min(elapsed, seconds), cpu: CPUUsage.childrenSeconds() - cpu0,
                     serverCPU: (CPUUsage.processSeconds(server) ?? 0) - server0)
    }
}
