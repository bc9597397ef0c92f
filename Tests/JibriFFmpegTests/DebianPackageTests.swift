import Foundation
import Testing
import TestSupport

/// `scripts/package` end to end: the .deb it builds installs with dpkg, its
/// programs run with no Swift toolchain on PATH or LD_LIBRARY_PATH and link
/// no Swift library, and removing it removes every file it installed.
///
/// Needs root (dpkg) and builds the release programs (`.build-package`,
/// minutes on two cores the first time, seconds after), unless `PACKAGE_DEB`
/// names a package `scripts/package` made already (as `scripts/test` does). It installs the
/// package on this machine for the length of the test.
@Suite(.serialized, .tags(.bench)) struct DebianPackageTests {
    static let name = "swift-display-capture"

    /// The environment of a host without the toolchain: no /opt/swift, no
    /// LD_LIBRARY_PATH, the bench's display and sound kept.
    private static func hostEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["LD_LIBRARY_PATH"] = nil
        environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        return environment
    }

    /// dpkg, waiting its turn while another dpkg or apt holds the lock.
    private func dpkg(_ arguments: [String]) throws -> CommandResult {
        let deadline = Date().addingTimeInterval(120)
        while true {
            let result = try Subprocess.run(["dpkg"] + arguments)
            let locked = result.standardError.contains("lock")
            if result.status == 0 || !locked || Date() > deadline { return result }
            usleep(500_000)
        }
    }

    @Test func thePackageInstallsRunsWithoutTheToolchainAndRemovesEveryFile() throws {
        let bench = try TestBench.current()
        try #require(geteuid() == 0, "the package test installs with dpkg and needs root; run scripts/test as root")
        // One test run at a time installs the package on this machine: another
        // checkout's run would remove it under this one.
        let lock = open("/tmp/swift-display-capture-package-test.lock", O_CREAT | O_RDWR, 0o644)
        try #require(lock >= 0 && flock(lock, LOCK_EX) == 0, "cannot take the package test's lock: errno \(errno)")
        defer { close(lock) }
        let directory = try bench.scratchDirectory("package")
        let deb: String
        if let built = ProcessInfo.processInfo.environment["PACKAGE_DEB"] {
            // scripts/test built it beside the other tests, at low priority.
            deb = built
            try #require(FileManager.default.fileExists(atPath: deb), "PACKAGE_DEB names no file: \(deb)")
        } else {
            let build = try Subprocess.run([Repository.script("package"), "--output", directory])
            try #require(build.status == 0, "scripts/package failed: \(build.standardError.suffix(2000))")
            deb = try #require(build.standardOutput.split(separator: "\n").last.map(String.init))
        }

        // Depends: Debian's libraries, each at least at the version built against.
        let depends = try Subprocess.run(["dpkg-deb", "-f", deb, "Depends"]).standardOutput
        for library in ["libavcodec", "libavformat", "libavutil", "libswresample", "libasound2", "libx11-6", "libxext6", "libyuv0"] {
            #expect(depends.contains("\(library)"), "Depends lacks \(library): \(depends)")
        }
        #expect(!depends.lowercased().contains("swift"), "\(depends)")
        for entry in depends.split(separator: ",") {
            #expect(entry.contains("(>= "), "unversioned dependency: \(entry)")
        }

        let install = try dpkg(["-i", deb])
        try #require(install.status == 0, "dpkg -i: \(install.standardError)")
        var installed = true
        defer { if installed { _ = try? dpkg(["-r", Self.name]) } }
        let listed = try Subprocess.run(["dpkg", "-L", Self.name]).standardOutput.split(separator: "\n").map(String.init)
        var isDirectory: ObjCBool = false
        let files = listed.filter { FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && !isDirectory.boolValue }
        #expect(files.sorted() == ["/usr/bin/jibri-ffmpeg", "/usr/bin/record-display"], "\(files)")

        for program in files {
            let linked = try Subprocess.run(["ldd", program]).standardOutput
            for swift in ["libswift", "libFoundation", "libdispatch", "libBlocksRuntime", "lib_Foundation", "/opt/swift"] {
                #expect(!linked.contains(swift), "\(program) links \(swift):\n\(linked)")
            }
        }

        // The installed jibri-ffmpeg does Jibri's recording on the bench.
        let output = "\(directory)/installed.mp4"
        let recorder = try JibriProcess(JibriArguments.recording(display: bench.display, pcm: bench.capturePCM, size: "640x480",
                                                                 output: output),
                                        binary: "/usr/bin/jibri-ffmpeg", environment: Self.hostEnvironment())
        #expect(recorder.waitUntil(seconds: 3) { $0.state == .running }, "\(recorder.log)")
        #expect(recorder.waitUntil(seconds: 10) { $0.mediaSeconds >= 2 }, "\(recorder.log)")
        recorder.interrupt()
        #expect(recorder.waitForExit(seconds: 10) == 0, "\(recorder.log)")
        #expect(recorder.state == .finished)
        let probe = try MediaProbe(path: output)
        #expect(probe.video?.codec == "h264" && probe.video?.width == 640 && probe.audio?.codec == "aac")
        #expect(abs((probe.video?.frames ?? 0) - (recorder.frames ?? -9)) <= 1)

        // And the installed record-display, which carries Foundation inside it.
        let direct = "\(directory)/record-display.mp4"
        let recordDisplay = try Subprocess.run(["/usr/bin/record-display", "--display", bench.display, "--audio-device",
                                                bench.capturePCM, "--region", "320x240+0+0", "--duration", "2",
                                                "--output", direct], environment: Self.hostEnvironment())
        #expect(recordDisplay.status == 0, "\(recordDisplay.standardError)")
        #expect(try MediaProbe(path: direct, countFrames: false).video?.codec == "h264")

        let remove = try dpkg(["-r", Self.name])
        #expect(remove.status == 0, "dpkg -r: \(remove.standardError)")
        installed = remove.status != 0
        for file in files { #expect(!FileManager.default.fileExists(atPath: file), "\(file) is left after dpkg -r") }
        let status = try Subprocess.run(["dpkg-query", "-W", "-f=${Status}", Self.name]).standardOutput
        #expect(!status.contains("installed") || status.contains("not-installed") || status.contains("config-files"),
                "still installed: \(status)")
    }
}
