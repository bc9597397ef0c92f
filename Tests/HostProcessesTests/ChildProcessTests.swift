import Foundation
import HostProcesses
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ChildProcessTests {
    /// Whether `pid` is gone (or a zombie: ended, waiting for its parent).
    private func gone(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        // "PID (COMM) STATE ...": the state follows the last ')'.
        return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true
    }

    private func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "hostprocesses-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func waitGivesTheExitCodeAndTheChildsOwnCPUAndMemory() throws {
        // 64 MiB touched and about 0.3 s of CPU, then exit 3.
        let child = try ChildProcess(["python3", "-c", """
            import time, sys
            b = bytearray(64 << 20)
            for i in range(0, len(b), 4096): b[i] = 1
            t = time.process_time()
            while time.process_time() - t < 0.3: pass
            sys.exit(3)
            """])
        let ended = child.wait()
        #expect(ended.exitCode == 3 && ended.signal == nil && ended.status == 3)
        #expect(ended.cpuSeconds >= 0.3 && ended.cpuSeconds < 5, "\(ended)")
        #expect(ended.peakRSSBytes >= 64 << 20 && ended.peakRSSBytes < 1 << 30, "\(ended)")
        #expect(ended.wallSeconds >= 0.3 && ended.contextSwitches > 0, "\(ended)")
        #expect(child.termination == ended && !child.isRunning)
    }

    @Test func theChildGetsAnEmptySignalMaskAndDefaultDispositions() throws {
        // This thread blocks SIGTERM and ignores SIGUSR1; the child must not inherit either.
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let out = Pipe()
        let child = try ChildProcess(["bash", "-c", "grep -E '^(SigBlk|SigIgn)' /proc/self/status; sleep 300"],
                                     standardOutput: .descriptor(out.fileHandleForWriting.fileDescriptor))
        try out.fileHandleForWriting.close()
        var text = ""
        while text.split(separator: "\n").count < 2 {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        #expect(text.contains("SigBlk:\t0000000000000000"), "\(text)")
        child.send(SIGTERM)
        let ended = try #require(child.wait(timeout: 10), "SIGTERM did not end the child")
        #expect(ended.signal == SIGTERM && ended.status == 128 + SIGTERM)
        #expect(getpgid(child.pid) == -1 || getpgid(child.pid) == child.pid)
    }

    @Test func theChildLeadsItsOwnProcessGroupAndGetsItsOwnStreams() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let child = try ChildProcess(["bash", "-c", "echo out; echo err >&2; ps -o pgid= -p $$ | tr -d ' '; pwd; echo $ONLY"],
                                     environment: ["PATH": "/usr/bin:/bin", "ONLY": "this"], workingDirectory: "/tmp",
                                     standardOutput: .file("\(directory)/log"), standardError: .standardOutput)
        #expect(child.wait().status == 0)
        let lines = try String(contentsOfFile: "\(directory)/log", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == ["out", "err", "\(child.pid)", "/tmp", "this"])
    }

    @Test func stopEndsTheWholeGroupGrandchildrenIncluded() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = "\(directory)/pids"
        let child = try ChildProcess(["bash", "-c", "sleep 300 & echo $! >> \(file); sleep 300 & echo $! >> \(file); wait"])
        let deadline = Date().addingTimeInterval(10)
        var pids: [pid_t] = []
        while pids.count < 2 && Date() < deadline && child.wait(timeout: 0.02) == nil {
            pids = ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { pid_t($0) }
        }
        try #require(pids.count == 2, "the shell did not start its two sleeps")
        let ended = child.stop(grace: 2)
        #expect(ended.signal == SIGTERM, "\(ended)")
        let gone = Date().addingTimeInterval(5)
        while !pids.allSatisfy(self.gone) && Date() < gone { usleep(20_000) }
        #expect(pids.allSatisfy(self.gone), "grandchildren \(pids) outlived the stop")
    }

    @Test func aChildThatIgnoresSIGTERMIsKilledAfterTheGrace() async throws {
        let child = try ChildProcess(["bash", "-c", "trap '' TERM; sleep 300"])
        try await Task.sleep(for: .milliseconds(200))  // let the shell set its trap
        let started = ContinuousClock.now
        let ended = await child.terminate(grace: .milliseconds(500))
        #expect(ended?.signal == SIGKILL, "\(String(describing: ended))")
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func aDeadlineEndsAWaitOnSleep300() async throws {
        let child = try ChildProcess(["sleep", "300"])
        let started = ContinuousClock.now
        let ended = try await child.terminated(within: .milliseconds(300))
        #expect(ended == nil && child.isRunning)
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(child.wait(timeout: 0.2) == nil)
    }

    @Test func cancellationEndsAWaitOnSleep300() async throws {
        let child = try ChildProcess(["sleep", "300"])
        let waiter = Task { try await child.terminated() }
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(ContinuousClock.now - started < .seconds(2))
        // Cancelled before it even waits: ends at once too.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await child.terminated()
        }
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(child.isRunning)
    }

    @Test func droppingTheOwnerKillsTheGroupAndReapsTheChild() throws {
        var child: ChildProcess? = try ChildProcess(["bash", "-c", "sleep 300 | cat"])
        let pid = child!.pid
        #expect(!gone(pid))
        child = nil
        let deadline = Date().addingTimeInterval(5)
        // Reaped too: not even a zombie is left.
        while FileManager.default.fileExists(atPath: "/proc/\(pid)") && Date() < deadline { usleep(20_000) }
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"))
        // The group's other members (sleep, cat) were killed with it; until
        // their new parent reaps them they still count as the group.
        while kill(-pid, 0) == 0 && Date() < deadline { usleep(20_000) }
        #expect(kill(-pid, 0) != 0, "the group outlived its owner")
    }

    @Test func aMissingProgramIsASpawnFailure() {
        #expect {
            _ = try ChildProcess(["/nonexistent/program"])
        } throws: { error in
            (error as? ChildProcess.SpawnFailure)?.errno == ENOENT
                && "\(error)" == "cannot start /nonexistent/program: No such file or directory"
        }
    }
}
