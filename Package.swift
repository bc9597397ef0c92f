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
        .library(name: "RecorderEngine", targets: ["RecorderEngine"]),
        .library(name: "MediaCore", targets: ["MediaCore"]),
        .library(name: "CaptureX11", targets: ["CaptureX11"]),
        .library(name: "CaptureALSA", targets: ["CaptureALSA"]),
        .library(name: "Encoder", targets: ["Encoder"]),
        .library(name: "Mux", targets: ["Mux"]),
        .executable(name: "record-display", targets: ["record-display"]),
        .executable(name: "capbench", targets: ["capbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Thin C modules: a module map and a shim header each, no logic.
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        // Xlib, MIT-SHM (Xext), DAMAGE and the XFixes regions DAMAGE reports in.
        .systemLibrary(
            name: "CX11", pkgConfig: "x11 xext xdamage xfixes",
            providers: [.apt(["libx11-dev", "libxext-dev", "libxdamage-dev", "libxfixes-dev"])]
        ),
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavcodec libavformat libavutil libswscale libswresample",
            providers: [.apt(["libavcodec-dev", "libavformat-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        // libyuv ships no pkg-config file; its module map links it by name.
        .systemLibrary(name: "CYUV", providers: [.apt(["libyuv-dev"])]),

        .target(name: "MediaCore", dependencies: ["CFFmpeg"], swiftSettings: swiftSettings),
        .target(name: "CaptureX11", dependencies: ["MediaCore", "CX11"], swiftSettings: swiftSettings),
        .target(name: "CaptureALSA", dependencies: ["MediaCore", "CALSA"], swiftSettings: swiftSettings),
        .target(name: "Encoder", dependencies: ["MediaCore", "CFFmpeg", "CYUV"], swiftSettings: swiftSettings),
        .target(name: "Mux", dependencies: ["MediaCore", "CFFmpeg"], swiftSettings: swiftSettings),
        .target(
            name: "RecorderEngine",
            dependencies: [
                "MediaCore", "CaptureX11", "CaptureALSA", "Encoder", "Mux", "CFFmpeg", "CALSA",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "record-display",
            dependencies: [
                "RecorderEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "capbench",
            dependencies: [
                "RecorderEngine", "MediaCore", "CaptureX11", "CaptureALSA", "Encoder", "Mux",
                // The peers and probes: libswscale against libyuv, an X window
                // that flashes and an ALSA PCM that beeps for the sync probe.
                "CFFmpeg", "CYUV", "CX11", "CALSA",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/capbench",
            swiftSettings: swiftSettings
        ),

        // Finds the test bench and runs the bench's tools; shared by the test targets.
        .target(name: "TestSupport", dependencies: ["CX11", "MediaCore"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "MediaCoreTests", dependencies: ["MediaCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BenchTests",
            dependencies: ["MediaCore", "CALSA", "CX11", "CFFmpeg", "CYUV", "Encoder", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CaptureTests",
            dependencies: ["MediaCore", "CaptureX11", "CaptureALSA", "CX11", "CALSA", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RecorderEngineTests",
            dependencies: ["RecorderEngine", "MediaCore", "Encoder", "Mux", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RecordDisplayTests",
            dependencies: ["TestSupport"],
            swiftSettings: swiftSettings
        ),
        // Runs every capbench subcommand briefly through the built binary.
        .testTarget(name: "CapbenchTests", dependencies: ["TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StreamingTests",
            dependencies: ["MediaCore", "Encoder", "Mux", "CFFmpeg", "CX11", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EncoderTests",
            dependencies: ["MediaCore", "Encoder", "Mux", "CFFmpeg", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
