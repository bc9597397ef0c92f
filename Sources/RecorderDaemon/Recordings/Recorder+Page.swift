import Foundation
import Logging
import PageBrowser
import RecorderEngine

/// Page recordings: the checks before anything starts, the workspace made
/// for a page, and the browser's part of `record` (open, start gate, watch,
/// close), with what a crash of the daemon would leave noted in
/// `STATE/browsers/`.
extension Recorder {
    /// The page may be opened here: an http(s) URL the allow-list matches
    /// whole, or a Jitsi room this daemon has a recorder login for (its
    /// URL is the configuration's: no allow-list); and a browser allowed
    /// to run as this user. Returns the Jitsi meeting, if one was asked
    /// (`given` when the caller built it).
    func checkPage(_ page: PageRequest, meeting given: JitsiMeeting? = nil) throws(RecorderError) -> JitsiMeeting? {
        var meeting: JitsiMeeting?
        if let given {
            meeting = given
        } else if let jitsi = page.jitsi {
            do {
                meeting = try jitsi.meeting(configuration: configuration.jitsi)
            } catch let error as FieldError where error.field.hasPrefix("page.") {
                throw .invalid(error)
            } catch {
                // The password file: the daemon's fault, not the request's.
                throw .failed("the Jitsi recorder login cannot be used: \(error)")
            }
        } else if let refusal = PageAllowList(patterns: configuration.pageAllowList).refusal(page.url) {
            throw .invalid(FieldError(field: "page.url", reason: refusal))
        }
        if !configuration.workspacesEnabled {
            throw .invalid(FieldError(field: "page", reason: "page recordings need workspaces, which are not enabled here"))
        }
        if geteuid() == 0 && !configuration.browserNoSandbox {
            throw .failed("the daemon runs as root, where the browser cannot keep its sandbox: run recorderd as its own "
                          + "user (as its systemd unit does), or set browserNoSandbox: true to run it without one")
        }
        if let meeting { logger.info("page is a Jitsi room: \(meeting.description)") }
        return meeting
    }

    /// A private workspace at the page's size.
    func pageWorkspace(_ page: PageRequest) async throws(RecorderError) -> Workspace {
        let view: WorkspaceView
        do throws(WorkspaceManager.Failure) {
            view = try await workspaces.create(width: page.width, height: page.height)
        } catch {
            switch error {
            case let .limit(count): throw .workspaces(count)
            case .disabled:
                throw .invalid(FieldError(field: "page", reason: "page recordings need workspaces, which are not enabled here"))
            case let .failed(message): throw .failed(message)
            }
        }
        guard let workspace = await workspaces.workspace(view.id) else { throw .failed("workspace \(view.id) went away") }
        return workspace
    }

    /// Stops a page's workspace (nil: none).
    func dropWorkspace(_ id: String?) async {
        if let id { _ = await workspaces.delete(id) }
    }

    /// Runs a page recording's session between its page's gates: the browser
    /// opens the page, the start gate opens, then the session records while
    /// the page is watched; the page's ending stops the session with its
    /// reason. Afterwards the browser's group, its profile and the workspace
    /// are gone, whatever happened.
    func recordPage(_ recording: Recording, page: PageSession,
                    record: @Sendable () async -> Void) async {
        defer { unlink(browserNote(recording.id)) }
        do throws(PageSession.Failure) {
            guard let id = recording.workspace, let workspace = await workspaces.workspace(id) else {
                throw PageSession.Failure(message: "the page's workspace went away", ending: nil)
            }
            try await page.open(display: workspace.display, pulseServer: workspace.pulseServer, sink: Workspace.sinkName)
            noteBrowser(recording.id, page: page)
            try await page.waitForStart()
            logger.info("page start gate open: recording", metadata: ["recording": "\(recording.id)"])
            // A Jitsi room's metadata.json now (the participants so far), so
            // that a file a crash leaves has one; written again at the end.
            if page.meeting != nil { writeMeetingMetadata(recording, page: page) }
        } catch {
            // Browser and workspace gone before the answer says why.
            await closePage(recording, page: page)
            if recording.state == .stopping {
                // Stopped before the gate: the session ends at once, no file.
                await record()
            } else {
                logger.warning("page recording failed: \(error.message)", metadata: ["recording": "\(recording.id)"])
                metrics.pageEnded(error.ending?.rawValue ?? "failed")
                recording.pageFailed(error)
                // Stopped before it started: it records nothing, and ends
                // its event streams.
                _ = try? await recording.session.record()
            }
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                guard let ending = await page.watch() else { return }
                self.logger.notice("page ended the recording: \(ending.rawValue)", metadata: ["recording": "\(recording.id)"])
                self.metrics.pageEnded(ending.rawValue)
                recording.pageEnded(ending)
            }
            await record()
            group.cancelAll()
        }
        await closePage(recording, page: page)
    }

    /// A Jitsi room's `metadata.json`: when the call is joined, then again
    /// once the file is final and before the finalize script. Jibri counts a failure here against its health:
    /// it is logged and counted (`recorderd_jitsi_metadata_failures_total`).
    func writeMeetingMetadata(_ recording: Recording, page: PageSession) {
        do {
            try page.writeMeetingMetadata()
        } catch {
            logger.error("cannot write the Jitsi room's metadata.json: \(error)", metadata: ["recording": "\(recording.id)"])
            metrics.jitsiMetadataFailed()
        }
    }

    private func closePage(_ recording: Recording, page: PageSession) async {
        await page.close()
        metrics.browserClosed(recording.id)
        await dropWorkspace(recording.workspace)
    }

    // MARK: What a crash would leave

    private func browserNote(_ id: String) -> String {
        (configuration.browserProfileParent as NSString).appendingPathComponent("\(id).pgid")
    }

    private func noteBrowser(_ id: String, page: PageSession) {
        guard let group = page.processGroup else { return }
        _ = FileManager.default.createFile(atPath: browserNote(id), contents: Data("\(group)\n".utf8))
    }

    /// Ends the browsers a previous daemon left (their process groups, if
    /// still running a browser, and every process still holding one of their
    /// profiles) and removes their profiles and notes. Call at start,
    /// before any page recording.
    static func cleanBrowserLeftovers(configuration: DaemonConfiguration, logger: Logger) {
        let parent = configuration.browserProfileParent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        for name in names {
            let path = (parent as NSString).appendingPathComponent(name)
            if name.hasSuffix(".pgid"), let text = try? String(contentsOfFile: path, encoding: .utf8),
               let group = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), group > 1 {
                if Self.groupRunsBrowser(group, program: configuration.browserPath) {
                    kill(-group, SIGKILL)
                    logger.notice("ended a browser a previous run left", metadata: ["pgid": "\(group)"])
                }
            }
        }
        // Then every process still holding a profile (dying members of those
        // groups, processes that left their group as Chromium's crash handler
        // does, a group whose note was never written), before the profiles go.
        let holders = ProfileHolders.end(holding: (parent as NSString).appendingPathComponent(Browser.profileNamePrefix), timeout: .seconds(2))
        if !holders.ended.isEmpty {
            logger.notice("ended processes a previous run left holding browser profiles",
                          metadata: ["pids": "\(holders.ended)", "running": "\(holders.running)"])
        }
        for name in names {
            try? FileManager.default.removeItem(atPath: (parent as NSString).appendingPathComponent(name))
        }
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
    }
}

extension Recorder {
    /// True when a process of group `group` runs the browser (its leader
    /// may be gone while its children live on).
    static func groupRunsBrowser(_ group: pid_t, program: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let programName = (program as NSString).lastPathComponent
        for name in names {
            guard let pid = Int32(name),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (comm)": state ppid pgrp ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[2]) == group else { continue }
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            if command.contains("chromium") || command.contains(programName) { return true }
        }
        return false
    }
}
