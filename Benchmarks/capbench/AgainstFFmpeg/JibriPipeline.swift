import Foundation

/// `pipeline --jibri LIST`: jibri-ffmpeg and ffmpeg, each given Jibri's exact
/// argument list, on the same display and PCM, alternating.
extension PipelineBenchmark {
    /// The x264 settings of Jibri's list, for the floor and the report: the
    /// recording list leaves the keyframe interval at x264's 250.
    mutating func adoptSettings(of list: JibriFFmpeg.List) {
        crf = 25
        noCrf = false
        switch list {
        case .recording:
            (preset, tune, gop, maxrate, bufsize) = ("ultrafast", nil, 250, nil, nil)
        case .streaming:
            (preset, tune, gop, maxrate, bufsize) = ("veryfast", "zerolatency", 60, "2976k", "5952k")
        }
    }

    /// Jibri's list for `program`: an MP4 file, or FLV to `rtmpURL/NAME`.
    func jibriArguments(_ list: JibriFFmpeg.List, program: String, display: String, audio: String, width: Int, height: Int,
                        output: String, rtmpURL: String?) throws -> [String] {
        let arguments: [String]
        switch list {
        case .recording:
            arguments = JibriFFmpeg.recording(display: display, width: width, height: height, audioDevice: audio,
                                              seconds: Double(seconds), output: output, fps: fps)
        case .streaming:
            guard let rtmpURL else { throw BenchFailure("--jibri streaming needs an RTMP server: --rtmp-url or $BENCH_RTMP_URL") }
            let name = (output as NSString).lastPathComponent.replacingOccurrences(of: ".", with: "-")
            arguments = JibriFFmpeg.streaming(display: display, width: width, height: height, audioDevice: audio,
                                              seconds: Double(seconds), url: "\(rtmpURL)/\(name)", fps: fps)
        }
        return [program] + arguments.dropFirst()
    }

    /// One recording by a program that prints ffmpeg's progress lines
    /// (jibri-ffmpeg or ffmpeg): its CPU and peak memory from `wait4`, the
    /// X server's added CPU, and from its last progress line the media time
    /// and the frames it duplicated and dropped.
    func runProgressPrinter(_ arguments: [String], server: Int32?) throws -> Run {
        let server0 = CPUUsage.processSeconds(server) ?? 0
        let child = try Self.run(arguments)
        let serverCPU = (CPUUsage.processSeconds(server) ?? 0) - server0
        let name = (arguments[0] as NSString).lastPathComponent
        guard child.status == 0 else { throw BenchFailure("\(name) failed: \(child.standardError.suffix(400))") }
        let log = child.standardError
        let threads = Self.number(after: "x264 on ", in: log).map(Int.init)
        return Run(cpu: child.cpuSeconds, serverCPU: serverCPU, peakRSS: child.peakRSSBytes,
                   mediaSeconds: Self.mediaSeconds(in: log) ?? Double(seconds),
                   dropped: Int(Self.number(after: "drop=", in: log) ?? 0),
                   duplicated: Int(Self.number(after: "dup=", in: log) ?? 0), avOffset: nil, encoderThreads: threads,
                   contextSwitches: child.contextSwitches)
    }

    /// The number after the last `label` in `text` (ffmpeg prints `dup=` and
    /// `drop=` only once they are non-zero).
    static func number(after label: String, in text: String) -> Double? {
        guard let range = text.range(of: label, options: .backwards) else { return nil }
        let tail = text[range.upperBound...].drop { $0 == " " }
        return Double(tail.prefix { $0.isNumber || $0 == "." })
    }

    /// The last progress line's `time=HH:MM:SS.cc`, in seconds.
    static func mediaSeconds(in text: String) -> Double? {
        guard let range = text.range(of: "time=", options: .backwards) else { return nil }
        let parts = text[range.upperBound...].prefix { $0.isNumber || $0 == ":" || $0 == "." }.split(separator: ":")
        guard parts.count == 3, let h = Double(parts[0]), let m = Double(parts[1]), let s = Double(parts[2]) else { return nil }
        return h * 3600 + m * 60 + s
    }
}
