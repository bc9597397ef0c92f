import Foundation
import MediaCore
import Testing

/// `ConfinedDirectory` refuses every way out of its directory: `..`,
/// absolute paths, and a symbolic link anywhere on the way, whatever it
/// points at.
@Suite struct ConfinedDirectoryTests {
    /// A fresh directory and one beside it ("outside"), removed by `clean()`.
    private struct Scene {
        let root: String
        let outside: String
        let directory: ConfinedDirectory

        init() throws {
            let base = NSTemporaryDirectory() + "confined-\(UUID().uuidString.prefix(8))"
            root = base + "/root"
            outside = base + "/outside"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            directory = try ConfinedDirectory(path: root)
        }

        func clean() { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }

        var outsideIsEmpty: Bool { ((try? FileManager.default.contentsOfDirectory(atPath: outside)) ?? ["?"]).isEmpty }
    }

    @Test func refusesDotDotAndAbsolutePaths() throws {
        let scene = try Scene()
        defer { scene.clean() }
        for path in ["../outside/x.mp4", "a/../../outside/x.mp4", "a/..", "..", "/tmp/x.mp4", "", "a//b.mp4", "./a.mp4"] {
            #expect(throws: ConfinementError.self, "\(path)") { _ = try scene.directory.createFile(relative: path) }
            #expect(throws: ConfinementError.self, "\(path)") { _ = try scene.directory.createDirectories(relative: path) }
        }
        #expect(throws: ConfinementError.invalidPath("../outside/x.mp4", reason: "'..' would leave the directory")) {
            _ = try scene.directory.createFile(relative: "../outside/x.mp4")
        }
        #expect(scene.outsideIsEmpty)
    }

    @Test func refusesASymbolicLinkInTheMiddle() throws {
        let scene = try Scene()
        defer { scene.clean() }
        try FileManager.default.createDirectory(atPath: scene.root + "/a", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: scene.root + "/a/link", withDestinationPath: scene.outside)
        #expect(throws: ConfinementError.symbolicLink("a/link")) {
            _ = try scene.directory.createFile(relative: "a/link/x.mp4")
        }
        #expect(throws: ConfinementError.symbolicLink("a/link")) {
            _ = try scene.directory.createDirectories(relative: "a/link/deeper")
        }
        #expect(throws: ConfinementError.symbolicLink("a/link")) {
            _ = try scene.directory.openExisting(relative: "a/link/x.mp4", flags: O_RDONLY)
        }
        // A link to a folder inside is refused too: it could be swapped.
        try FileManager.default.createSymbolicLink(atPath: scene.root + "/inner", withDestinationPath: scene.root + "/a")
        #expect(throws: ConfinementError.symbolicLink("inner")) { _ = try scene.directory.createFile(relative: "inner/x.mp4") }
        #expect(scene.outsideIsEmpty)
    }

    @Test func refusesASymbolicLinkAsTheLastComponent() throws {
        let scene = try Scene()
        defer { scene.clean() }
        let target = scene.outside + "/target.mp4"
        #expect(FileManager.default.createFile(atPath: target, contents: Data("outside".utf8)))
        try FileManager.default.createSymbolicLink(atPath: scene.root + "/x.mp4", withDestinationPath: target)
        try FileManager.default.createSymbolicLink(atPath: scene.root + "/dangling.mp4", withDestinationPath: scene.outside + "/new.mp4")
        #expect(throws: ConfinementError.exists("x.mp4")) { _ = try scene.directory.createFile(relative: "x.mp4") }
        #expect(throws: ConfinementError.symbolicLink("x.mp4")) {
            _ = try scene.directory.createFile(relative: "x.mp4", overwrite: true)
        }
        #expect(throws: ConfinementError.symbolicLink("x.mp4")) {
            _ = try scene.directory.openExisting(relative: "x.mp4", flags: O_RDWR)
        }
        #expect(throws: ConfinementError.exists("dangling.mp4")) { _ = try scene.directory.createFile(relative: "dangling.mp4") }
        #expect(throws: ConfinementError.symbolicLink("dangling.mp4")) {
            _ = try scene.directory.createFile(relative: "dangling.mp4", overwrite: true)
        }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "outside")
        #expect(!FileManager.default.fileExists(atPath: scene.outside + "/new.mp4"))
    }

    @Test func anExistingFileIsEEXIST() throws {
        let scene = try Scene()
        defer { scene.clean() }
        let first = try scene.directory.createFile(relative: "x.mp4")
        close(first)
        #expect(throws: ConfinementError.exists("x.mp4")) { _ = try scene.directory.createFile(relative: "x.mp4") }
        let again = try scene.directory.createFile(relative: "x.mp4", overwrite: true)
        close(again)
        let existing = try scene.directory.openExisting(relative: "x.mp4", flags: O_RDONLY)
        close(existing)
        #expect(throws: ConfinementError.notDirectory("x.mp4")) { _ = try scene.directory.createFile(relative: "x.mp4/y.mp4") }
    }

    @Test func makesDeepNewFoldersAndWritesBeneathThem() throws {
        let scene = try Scene()
        defer { scene.clean() }
        try FileManager.default.createDirectory(atPath: scene.root + "/a", withIntermediateDirectories: true)
        let made = try scene.directory.createDirectories(relative: "a/b/c/d/e")
        #expect(made == ["a/b", "a/b/c", "a/b/c/d", "a/b/c/d/e"])
        #expect(try scene.directory.createDirectories(relative: "a/b/c/d/e").isEmpty)
        let descriptor = try scene.directory.createFile(relative: "a/b/c/d/e/x.mp4")
        #expect(write(descriptor, "hello", 5) == 5)
        close(descriptor)
        #expect(try String(contentsOfFile: scene.root + "/a/b/c/d/e/x.mp4", encoding: .utf8) == "hello")
        try scene.directory.rename("a/b/c/d/e/x.mp4", to: "a/x.mp4")
        try scene.directory.removeFile(relative: "a/x.mp4")
        for folder in made.reversed() { #expect(scene.directory.removeDirectory(relative: folder)) }
        #expect(!scene.directory.removeDirectory(relative: "a/b"))
        #expect(FileManager.default.fileExists(atPath: scene.root + "/a"))
    }

    /// The race the daemon met: a folder swapped for a link to outside, in a
    /// tight loop, while files are created in it. Every create either lands
    /// inside or fails as a symbolic link; nothing ever appears outside.
    @Test func aFolderSwappedForALinkInALoopNeverLeadsOut() throws {
        let scene = try Scene()
        defer { scene.clean() }
        let folder = scene.root + "/race"
        let parked = scene.root + "/race-parked"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let stop = ManagedAtomicFlag()
        let stopped = DispatchSemaphore(value: 0)
        let outside = scene.outside
        let swapper = Thread {
            var strays = 0
            while !stop.isSet { Self.swapOnce(folder: folder, parked: parked, outside: outside, strays: &strays) }
            stopped.signal()
        }
        swapper.start()
        var inside = 0, refused = 0
        for index in 0..<2000 {
            do {
                _ = try scene.directory.createDirectories(relative: "race/sub\(index % 7)")
                let descriptor = try scene.directory.createFile(relative: "race/sub\(index % 7)/f\(index).mp4")
                close(descriptor)
                inside += 1
            } catch {
                switch error {
                case .symbolicLink, .system(_, _, ENOENT): refused += 1
                default: Issue.record("unexpected refusal: \(error)")
                }
            }
        }
        stop.set()
        #expect(stopped.wait(timeout: .now() + 10) == .success)
        #expect(scene.outsideIsEmpty, "files appeared outside: \((try? FileManager.default.contentsOfDirectory(atPath: scene.outside)) ?? [])")
        #expect(inside + refused == 2000)
        // Once the swapping stops, the same create lands inside.
        let after = try scene.directory.createFile(relative: "race/after.mp4")
        close(after)
        #expect(FileManager.default.fileExists(atPath: folder + "/after.mp4"), "\(inside) were written during the race")
    }

    /// Folder out, link to `outside` in, link out, folder back. A folder
    /// made at `folder` while it was missing is moved aside (inside).
    static func swapOnce(folder: String, parked: String, outside: String, strays: inout Int) {
        rename(folder, parked)
        symlink(outside, folder)
        unlink(folder)
        if rename(parked, folder) != 0 {
            strays += 1
            rename(folder, folder + "-stray\(strays)")
            rename(parked, folder)
        }
    }
}

/// A flag two threads share.
private final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
