import Foundation

/// The parts the test bench (`scripts/testbench`) started for this test run.
///
/// Tests that need the bench call `TestBench.current()`: when the bench is not
/// running it throws an error that names the README's test command, so such a
/// test fails loudly instead of skipping.
public struct TestBench: Sendable {
    /// X display of the bench's Xvfb, e.g. ":37".
    public let display: String
    /// ALSA PCM that captures what is played into the bench's loopback.
    public let capturePCM: String
    /// ALSA PCM that plays into the bench's loopback.
    public let playbackPCM: String
    /// `rtmp://127.0.0.1:PORT/live`; append a stream name.
    public let rtmpURL: String
    /// Where nginx records the streams it receives.
    public let rtmpRecordDirectory: String
    /// The bench's private directory; tests may write scratch files here.
    public let directory: String

    /// The bench's parts as `scripts/testbench` exported them.
    public static func current() throws -> TestBench {
        let environment = ProcessInfo.processInfo.environment
        func value(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else { throw BenchMissing(variable: name) }
            return value
        }
        return TestBench(
            display: try value("BENCH_DISPLAY"),
            capturePCM: try value("BENCH_CAPTURE_PCM"),
            playbackPCM: try value("BENCH_PLAYBACK_PCM"),
            rtmpURL: try value("BENCH_RTMP_URL"),
            rtmpRecordDirectory: try value("BENCH_RTMP_RECORD_DIR"),
            directory: try value("BENCH_DIR"))
    }

    /// A fresh scratch directory inside the bench's private directory.
    public func scratchDirectory(_ name: String = "scratch") throws -> String {
        let path = "\(directory)/\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Thrown when a test needs the bench and it is not running.
public struct BenchMissing: Error, CustomStringConvertible {
    public let variable: String
    public var description: String {
        "the test bench is not running (\(variable) is not set): run the tests with `scripts/test`, "
            + "the README's test command, which starts Xvfb, PulseAudio and nginx-rtmp for them"
    }
}
