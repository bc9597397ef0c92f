// swift-tools-version:6.0
import PackageDescription

/// Applied to every Swift target: Swift 6 language mode, and release builds that
/// keep bounds checks but let the optimizer drop exclusivity checks on hot paths.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "swift-display-capture",
    platforms: [.macOS(.v15)],
    products: [
        // The one library a recorder daemon depends on; the modules behind it
        // are internal to the package (a daemon sees the session API and its
        // value types, not rings, pools or libav pointers).
        .library(name: "RecorderEngine", targets: ["RecorderEngine"]),
        .executable(name: "record-display", targets: ["record-display"]),
        .executable(name: "jibri-ffmpeg", targets: ["jibri-ffmpeg"]),
        .executable(name: "capbench", targets: ["capbench"]),
        .executable(name: "recorderd", targets: ["recorderd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // recorderd only: HTTP, the Prometheus backend, the YAML configuration file.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already built for Hummingbird; named for its `IOError` (a port in use).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Thin C modules: a module map and a shim header each, no logic.
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        // Xlib, MIT-SHM (Xext), DAMAGE and the XFixes regions DAMAGE reports in.
        .systemLibrary(
            name: "CX11", pkgConfig: "x11 xcb xext xdamage xfixes",
            providers: [.apt(["libx11-dev", "libxext-dev", "libxdamage-dev", "libxfixes-dev"])]
        ),
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavcodec libavformat libavutil libswscale libswresample",
            providers: [.apt(["libavcodec-dev", "libavformat-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        // libyuv ships no pkg-config file; its module map links it by name.
        .systemLibrary(name: "CYUV", providers: [.apt(["libyuv-dev"])]),
        // libx264 driven directly (the library libavcodec's wrapper drives),
        // for its per-macroblock hints (`mb_info`), which FFmpeg 5.1 cannot pass.
        // No pkgConfig: x264.pc adds -DX264_API_IMPORTS (a Windows DLL flag),
        // which SwiftPM refuses with a warning on every build.
        .systemLibrary(name: "CX264", providers: [.apt(["libx264-dev"])]),
        // Haivision's SRT, for `srt://` streams: the library libavformat links
        // (its log lines routed, a listener's rejection reason read).
        .systemLibrary(name: "CSRT", pkgConfig: "srt", providers: [.apt(["libsrt-gnutls-dev"])]),
        // Linux system calls behind glibc's variadic syscall() (futex, gettid),
        // and glibc calls declared only under _GNU_SOURCE (spawn actions, eventfd).
        .systemLibrary(name: "CLinux"),
        // libstrophe, the XMPP client library (Jibri's protocol): TLS through OpenSSL.
        // No pkgConfig: libstrophe.pc's only cflags are -D version macros,
        // which SwiftPM refuses with a warning on every build.
        .systemLibrary(name: "CStrophe", providers: [.apt(["libstrophe-dev"])]),

        // Clock, rings, pools, threads and their wake-ups, counters, log
        // routing: what every stage shares. No libav here: the capture
        // modules do not link it.
        .target(
            name: "MediaCore",
            dependencies: ["CLinux", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // What encoders hand to muxers: packets, their pool, stream
        // parameters, libav's error codes.
        .target(
            name: "MediaPackets",
            dependencies: ["MediaCore", "CFFmpeg", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Child processes (clean signal state, own process group, rusage,
        // waits with deadlines) and private X and sound servers: no media.
        .target(name: "HostProcesses", dependencies: ["CLinux"], swiftSettings: swiftSettings),
        // One XMPP connection per client, on a thread it owns running libstrophe's
        // loop; Swift element trees in and out, no C types in its API.
        .target(
            name: "XMPPClient",
            dependencies: ["CStrophe", "MediaCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(name: "CaptureX11", dependencies: ["MediaCore", "CX11", "HostProcesses"], swiftSettings: swiftSettings),
        // A Chromium per page, headful on a display, driven over its DevTools
        // pipe: launch, navigation, scripts, crashes, its process tree's cost.
        .target(
            name: "PageBrowser",
            dependencies: ["HostProcesses", "CLinux", "CX11", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CaptureALSA",
            dependencies: ["MediaCore", "CALSA", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(name: "Encoder", dependencies: ["MediaCore", "MediaPackets", "CFFmpeg", "CYUV", "CX264"], swiftSettings: swiftSettings),
        .target(name: "Mux", dependencies: ["MediaCore", "MediaPackets", "CFFmpeg", "CSRT"], swiftSettings: swiftSettings),
        .target(
            name: "RecorderEngine",
            dependencies: [
                "MediaCore", "MediaPackets", "CaptureX11", "CaptureALSA", "Encoder", "Mux", "CFFmpeg", "CALSA", "HostProcesses",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "record-display",
            dependencies: [
                "RecorderEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Jibri's ffmpeg command line read into a session configuration, and the
        // lines Jibri reads back; no engine calls (those are in jibri-ffmpeg).
        .target(name: "JibriDropIn", dependencies: ["RecorderEngine"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "jibri-ffmpeg",
            dependencies: ["JibriDropIn", "RecorderEngine", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The recorder service: many recordings per host over an HTTP API,
        // built on the engine's public API like record-display. The library
        // holds the application (so tests build the same router in process);
        // the executable parses the command line and runs it.
        .target(
            name: "RecorderDaemon",
            dependencies: [
                "RecorderEngine", "HostProcesses", "PageBrowser", "XMPPClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The A/V sync probe: a window that flashes and a PCM that beeps at
        // known instants, a plain capture that stamps the beeps, and the
        // analysis that finds both in a recording. Shared by capbench (`avsync`,
        // `soak`) and the tests; not part of the RecorderEngine product.
        .target(name: "AVProbe", dependencies: ["MediaCore", "CX11", "CALSA"], path: "Benchmarks/AVProbe", swiftSettings: swiftSettings),
        .executableTarget(
            name: "recorderd",
            dependencies: [
                "RecorderDaemon", "RecorderEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "capbench",
            dependencies: [
                "AVProbe", "RecorderEngine", "MediaCore", "MediaPackets", "CaptureX11", "CaptureALSA", "Encoder", "Mux", "HostProcesses",
                // `meetings`: the Jibri way's browsers.
                "PageBrowser",
                // The peers: libswscale against libyuv; X and ALSA for the
                // scenes, the tone and the private benches.
                "CFFmpeg", "CYUV", "CX11", "CALSA",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/capbench",
            swiftSettings: swiftSettings
        ),

        // Finds the test bench and runs the bench's tools; shared by the test targets.
        .target(name: "TestSupport", dependencies: ["CX11", "CALSA", "MediaCore", "HostProcesses"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
        // Spawns, waits, group stops; a private X server and sound server on their own.
        .testTarget(name: "HostProcessesTests", dependencies: ["HostProcesses", "TestSupport"], swiftSettings: swiftSettings),
        // libstrophe against a real prosody (TLS, auth, MUC, reconnect) and
        // Jibri's protocol against a Jicofo player (slixmpp); capbench for
        // `meetings`' process table, file reading and "held" rule (JicofoMeetings).
        .testTarget(
            name: "XMPPTests",
            dependencies: ["XMPPClient", "RecorderDaemon", "TestSupport", "capbench", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "Prometheus", package: "swift-prometheus")],
            exclude: ["jicofo_player.py"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "MediaCoreTests", dependencies: ["MediaCore", "HostProcesses", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BenchTests",
            dependencies: ["MediaCore", "MediaPackets", "CALSA", "CX11", "CFFmpeg", "CYUV", "Encoder", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CaptureTests",
            dependencies: ["MediaCore", "CaptureX11", "CaptureALSA", "CX11", "CALSA", "HostProcesses", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RecorderEngineTests",
            dependencies: ["RecorderEngine", "MediaCore", "MediaPackets", "Encoder", "Mux", "TestSupport", "AVProbe",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RecordDisplayTests",
            // record-display itself for its option names (OptionNameTests) and its text (StatisticsTextTests).
            dependencies: ["TestSupport", "AVProbe", "record-display", "RecorderEngine"],
            swiftSettings: swiftSettings
        ),
        // jibri-ffmpeg: its argument mapping and lines alone, then the built binary
        // on the bench under Jibri's line rules, and the Debian package.
        .testTarget(name: "JibriFFmpegTests", dependencies: ["JibriDropIn", "RecorderEngine", "TestSupport"], swiftSettings: swiftSettings),
        // recorderd as a process on the bench, over real HTTP: signals, kill -9
        // and recovery, workspaces, real recordings.
        .testTarget(name: "RecorderdTests", dependencies: ["TestSupport"], swiftSettings: swiftSettings),
        // recorderd's router in process (HummingbirdTesting): every bad request,
        // the token, the refusals, and the routes and answers against
        // docs/openapi.yaml (checked by openapi_answers.py).
        .testTarget(
            name: "RecorderDaemonTests",
            dependencies: [
                "RecorderDaemon", "RecorderEngine", "TestSupport", "PageBrowser",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["openapi_answers.py"],
            swiftSettings: swiftSettings
        ),
        // Debian's Chromium on the bench's display over its DevTools pipe, pages
        // served over HTTP by the test: pixels, sound, failures, what close leaves.
        .testTarget(
            name: "PageBrowserTests",
            dependencies: ["PageBrowser", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Runs every capbench subcommand briefly through the built binary.
        .testTarget(name: "CapbenchTests", dependencies: ["TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StreamingTests",
            dependencies: ["MediaCore", "MediaPackets", "Encoder", "Mux", "CFFmpeg", "CX11", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        // Synthetic pictures and tone encoded for real, and what ffprobe reads
        // back: shared by the encoder and muxer suites.
        .target(
            name: "MediaTestSupport",
            dependencies: ["MediaCore", "MediaPackets", "Encoder", "Mux", "CFFmpeg", "TestSupport"],
            path: "Tests/MediaTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EncoderTests",
            dependencies: ["MediaCore", "MediaPackets", "Encoder", "Mux", "CFFmpeg", "CX264", "TestSupport", "MediaTestSupport"],
            swiftSettings: swiftSettings
        ),
        // The file outputs: MP4 recording, finishing in place, repair,
        // segments, HLS paths, a full disk.
        .testTarget(
            name: "MuxTests",
            dependencies: ["MediaCore", "MediaPackets", "Encoder", "Mux", "CFFmpeg", "TestSupport", "MediaTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)

// scripts/test's ThreadSanitizer build runs the rings, pools and sessions
// only (MediaCoreTests, RecorderEngineTests): that build sets this variable
// and leaves every other test target out, so that it instruments only what
// those two link (with the in-process HTTP tests it instrumented Hummingbird
// and NIO too: 20 minutes on two loaded cores).
if Context.environment["SANITIZED_TESTS_ONLY"] != nil {
    package.targets.removeAll { $0.type == .test && !["MediaCoreTests", "RecorderEngineTests"].contains($0.name) }
}
