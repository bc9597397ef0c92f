import Foundation
import HostProcesses
public import Logging
import Synchronization
#if canImport(Glibc)
public import Glibc
#endif

/// One Chromium, headful on an X display, in its own process group with a
/// fresh profile, driven over its DevTools pipe; the only owner of the
/// process group, the pipe's reader thread and the profile directory.
public final class Browser: Sendable {
    private let child: ChildProcess
    private let connection: DevToolsConnection
    private let router: TargetRouter
    /// The page target (attached, flat session, Page/Runtime/Network enabled).
    public let page: Page
    /// The fresh profile (`--user-data-dir`), removed by `close`.
    public let profileDirectory: String
    private let logger: Logger
    private let closed = Atomic<Bool>(false)

    /// The browser's process group (the browser's own pid).
    public var processGroup: pid_t { child.pid }

    private init(child: ChildProcess, connection: DevToolsConnection, router: TargetRouter, page: Page,
                 profileDirectory: String, logger: Logger) {
        self.child = child
        self.connection = connection
        self.router = router
        self.page = page
        self.profileDirectory = profileDirectory
        self.logger = logger
    }

    /// How every profile directory's name starts (`mkdtemp` adds six characters).
    public static let profileNamePrefix = "chromium-profile-"

    /// The deadline on the pipe's first answer (Chromium's start on a loaded host).
    static let startTimeout = Duration.seconds(30)

    /// Starts the browser in its own process group with a fresh profile and waits until the
    /// DevTools pipe answers (Browser.getVersion) and a page target is attached.
    /// - Throws: `.launchFailed` (program missing, run as root with the sandbox on, exited or silent
    ///   before the pipe answered, no page), `.protocolError`.
    public static func launch(_ launch: BrowserLaunch, logger: Logger) async throws(BrowserError) -> Browser {
        var template = Array("\(launch.profileParent)/\(profileNamePrefix)XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else {
            throw .launchFailed("cannot make a profile directory under \(launch.profileParent): \(String(cString: strerror(errno)))")
        }
        let profile = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            try? FileManager.default.removeItem(atPath: profile)
            throw .launchFailed("socketpair: \(String(cString: strerror(errno)))")
        }
        let stderrPath = "\(profile)/browser.stderr"
        let child: ChildProcess
        func discardProfile() {
            ProfileHolders.end(holding: profile, timeout: .seconds(2))
            try? FileManager.default.removeItem(atPath: profile)
        }
        do {
            child = try ChildProcess(
                [launch.program, "--remote-debugging-pipe", "--user-data-dir=\(profile)"] + launch.browserArguments + ["about:blank"],
                environment: ChildProcess.environment(updating: launch.browserEnvironment(profile: profile)),
                standardError: .file(stderrPath),
                passing: [(pair[1], 3), (pair[1], 4)], niceness: Int32(clamping: launch.niceness))
        } catch {
            Glibc.close(pair[0]); Glibc.close(pair[1])
            try? FileManager.default.removeItem(atPath: profile)
            throw .launchFailed(error.description)
        }
        Glibc.close(pair[1])
        let connection = DevToolsConnection(socket: pair[0]) { [child] in
            guard let ended = child.wait(timeout: 1) else { return "pipe closed" }
            return ended.signal.map { "signal \($0)" } ?? "exit \(ended.exitCode ?? -1)"
        }
        let router = TargetRouter()
        connection.setHandlers(onEvent: router.handle, onEnd: router.ended)

        func abandon(_ error: BrowserError) async -> BrowserError {
            await child.terminate(grace: .seconds(2))
            connection.close()
            let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            discardProfile()
            let lastLine = stderr.split(separator: "\n").last.map { ": \($0)" } ?? ""
            // Chromium's own check (crbug.com/638180), made in the browser
            // rather than here: a wrapper program may drop privileges first.
            if stderr.contains("Running as root without --no-sandbox is not supported") {
                return .launchFailed("Chromium refuses to run as root with its sandbox on: run it as another user, or turn the sandbox off in the configuration")
            }
            switch error {
            case .browserExited(let how): return .launchFailed("exited before the DevTools pipe answered (\(how))\(lastLine)")
            case .timedOut(let what): return .launchFailed("\(what) not answered within \(startTimeout)\(lastLine)")
            default: return error
            }
        }
        do throws(BrowserError) {
            let version = try await connection.command("Browser.getVersion", timeout: startTimeout).get()
            _ = try await connection.command("Target.setDiscoverTargets", ["discover": .bool(true)], timeout: Page.commandTimeout).get()
            let target = try await router.firstPage.wait(timeout: Page.commandTimeout, what: "a page target").get()
            let attached = try await connection.command(
                "Target.attachToTarget", ["targetId": .string(target), "flatten": .bool(true)], timeout: Page.commandTimeout).get()
            guard let session = attached["sessionId"]?.string else { throw .protocolError("Target.attachToTarget: no sessionId") }
            let page = Page(connection: connection, sessionId: session, targetId: target)
            router.attach(page)
            try await page.enable()
            if let rate = launch.animationFrameRate {
                _ = try await page.command("Page.addScriptToEvaluateOnNewDocument", ["source": .string(AnimationFrameLimit.script(rate: rate))])
            }
            if launch.replacementFlags == nil {
                await fitWindow(launch, group: child.pid, page: page, logger: logger)
            }
            logger.info("browser started", metadata: [
                "pid": "\(child.pid)", "display": "\(launch.display)", "product": "\(version["product"]?.string ?? "?")",
                "size": "\(launch.width)x\(launch.height)", "sandbox": "\(launch.sandbox)", "nice": "+\(launch.niceness)",
            ])
            return Browser(child: child, connection: connection, router: router, page: page, profileDirectory: profile, logger: logger)
        } catch {
            throw await abandon(error)
        }
    }

    /// Sets the window to the workspace's size (`BrowserWindow`) and waits
    /// up to 5 s for the page's viewport to follow; a window that cannot be
    /// fitted is a warning, not a failure (the page records with a black edge).
    private static func fitWindow(_ launch: BrowserLaunch, group: pid_t, page: Page, logger: Logger) async {
        let wanted = "\(launch.width)x\(launch.height)"
        guard let fitted = await BrowserWindow.fit(display: launch.display, group: group, width: launch.width,
                                                   height: launch.height, timeout: .seconds(5)) else {
            logger.warning("the browser's window was not found on its display: the page may not fill it", metadata: ["size": "\(wanted)"])
            return
        }
        guard fitted.changed else { return }
        let deadline = ContinuousClock.now + .seconds(5)
        var viewport = "?"
        while ContinuousClock.now < deadline {
            viewport = (try? await page.evaluate("innerWidth + 'x' + innerHeight", timeout: .seconds(2)).string) ?? "?"
            if viewport == wanted {
                logger.debug("browser window fitted", metadata: ["before": "\(fitted.before)", "size": "\(wanted)"])
                return
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        logger.warning("the page's viewport did not follow its window", metadata: [
            "before": "\(fitted.before)", "size": "\(wanted)", "viewport": "\(viewport)",
        ])
    }

    /// CPU seconds (user+system, the whole process group from /proc, reaped children included)
    /// and resident bytes (sum of RSS).
    public func usage() -> BrowserUsage { ProcessGroup.usage(of: child.pid) }

    /// Closes over the protocol (`Browser.close`), then SIGTERM to the group, SIGKILL after
    /// `grace`, reaps, removes the profile. Idempotent; also done (at once, SIGKILL) by deinit.
    public func close(grace: Duration) async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        connection.post("Browser.close")
        let ended = (try? await child.terminated(within: grace)) ?? nil
        let termination = if let ended { ended } else { await child.terminate(grace: grace) }
        endStragglers()
        connection.close()
        removeProfile()
        logger.info("browser closed", metadata: [
            "pid": "\(child.pid)", "how": "\(termination.map { $0.signal.map { "signal \($0)" } ?? "exit \($0.exitCode ?? -1)" } ?? "not reaped")",
            "cpuSeconds": "\(termination.map { String(format: "%.2f", $0.cpuSeconds) } ?? "?")",
        ])
    }

    /// Ends the processes still holding the profile (outside the group: the
    /// crash handler), then removes it: removed first, a live crash handler
    /// would make its crash database in it again. Command lines and
    /// environments only (every process the browser starts has the profile
    /// in its environment, `XDG_CONFIG_HOME`): reading every process's open
    /// files here kept the daemon's shared threads busy.
    private func removeProfile() {
        let (ended, running) = ProfileHolders.end(holding: profileDirectory, openFiles: false, timeout: .seconds(2))
        if !ended.isEmpty {
            logger.debug("ended processes outside the browser's group holding its profile", metadata: ["pids": "\(ended)", "running": "\(running)"])
        }
        try? FileManager.default.removeItem(atPath: profileDirectory)
    }

    /// Kills what is left of the group once the browser is reaped (renderers and zygotes
    /// left by a killed browser end on their own, but not at once), and waits for them.
    private func endStragglers() {
        // The group exists only while it has members: no signal to a reused id.
        guard !ProcessGroup.members(of: child.pid).isEmpty else { return }
        child.send(SIGKILL)
        let running = ProcessGroup.waitUntilExited(child.pid, timeout: .seconds(2))
        if running > 0 { logger.warning("browser processes still running after SIGKILL", metadata: ["group": "\(child.pid)", "running": "\(running)"]) }
    }

    deinit {
        guard !closed.load(ordering: .acquiring) else { return }
        child.send(SIGKILL)
        child.wait()
        endStragglers()
        connection.close()
        removeProfile()
    }
}
