import Foundation
import TestSupport

/// Test pages served over HTTP on a free loopback port (python3's
/// http.server in a scratch directory), and what the tests read about a
/// daemon's browsers.
final class PageServer: @unchecked Sendable {
    let port: Int
    let directory: String
    private let process: ChildProcess

    /// `page.html?c=RRGGBB&c2=RRGGBB&f=HZ&start=S&end=S&ready=S&hang=S`: the
    /// whole page in colour `c` (then `c2` from the START_RECORDING print),
    /// a sine of `f` Hz through WebAudio, `START_RECORDING` printed after
    /// `start` s, `END_RECORDING` after `end` s, `window.ready` true after
    /// `ready` s, and a script that loops forever from `hang` s.
    static let page = """
        <!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;width:100%;height:100%;overflow:hidden;cursor:none}</style></head>
        <body><script>
        const p = new URLSearchParams(location.search);
        const n = (k) => p.has(k) ? Number(p.get(k)) : -1;
        document.body.style.background = '#' + (p.get('c') || 'ff4000');
        if (n('f') > 0) {
          const ctx = new AudioContext(); const o = ctx.createOscillator(); const g = ctx.createGain();
          o.frequency.value = n('f'); g.gain.value = 0.5; o.connect(g).connect(ctx.destination); o.start();
        }
        if (n('start') >= 0) setTimeout(() => {
          if (p.get('c2')) document.body.style.background = '#' + p.get('c2');
          requestAnimationFrame(() => requestAnimationFrame(() => console.log('START_RECORDING')));
        }, n('start') * 1000);
        if (n('end') >= 0) setTimeout(() => console.log('END_RECORDING'), n('end') * 1000);
        if (n('ready') >= 0) setTimeout(() => { window.ready = true; }, n('ready') * 1000);
        if (n('hang') >= 0) setTimeout(() => { for (;;) {} }, n('hang') * 1000);
        </script></body></html>
        """

    init(_ bench: TestBench) throws {
        directory = try bench.scratchDirectory("pages")
        try Self.page.write(toFile: "\(directory)/page.html", atomically: true, encoding: .utf8)
        port = try freeLoopbackPort()
        process = try ChildProcess(["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory, "\(port)"],
                                   standardError: .null)
        guard waitForListener(port: port, seconds: 10) else { throw DaemonError.notReady }
    }

    deinit {
        process.send(SIGKILL)
        process.wait()
    }

    func url(_ query: String) -> String { "http://127.0.0.1:\(port)/page.html?\(query)" }

    /// A daemon configuration allowing this server's pages, short checks.
    func configuration(_ bench: TestBench, extra: String = "") throws -> String {
        let path = "\(try bench.scratchDirectory("config"))/recorderd.yaml"
        try """
            pageAllowList: ['http://127\\.0\\.0\\.1:\(port)/.*']
            browserNoSandbox: \(geteuid() == 0)
            statisticsIntervalSeconds: 0.5
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

extension Daemon {
    /// The process group of recording `id`'s browser, as the daemon noted it.
    func browserGroup(_ id: String, seconds: Double = 30) throws -> pid_t {
        let note = "\(recordings)/.recorderd/browsers/\(id).pgid"
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: note, encoding: .utf8),
               let group = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) { return group }
            usleep(50_000)
        }
        throw DaemonError.timedOut("no browser noted for \(id)")
    }

    /// Processes whose parent is the daemon, or whose group is one of the
    /// daemon's children's (browsers, Xvfb, PulseAudio, their helpers).
    var descendants: [(pid: pid_t, command: String)] {
        var parents: [pid_t: pid_t] = [:]
        var commands: [pid_t: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let parent = Int32(fields[1]) else { continue }
            parents[pid] = parent
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            commands[pid] = command.replacingOccurrences(of: "\0", with: " ")
        }
        return parents.keys.sorted().compactMap { pid in
            var ancestor = parents[pid]
            while let current = ancestor, current > 1 {
                if current == process.pid { return (pid, commands[pid] ?? "") }
                ancestor = parents[current]
            }
            return nil
        }
    }

    /// Open descriptors and threads of the daemon.
    var descriptorsAndThreads: (fds: Int, threads: Int) {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.pid)/fd").count) ?? -1
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.pid)/task").count) ?? -1
        return (fds, threads)
    }

    /// Processes holding the daemon's browsers directory (their command line
    /// or environment names it, or a file or their cwd is in it), wherever
    /// their group, session or parent: Chromium's crash handler leaves all three.
    var browserHolders: [(pid: Int32, command: String)] {
        processesHolding("\(recordings)/.recorderd/browsers/")
    }

    /// Profiles and notes under the daemon's browsers directory.
    var browserLeftovers: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: "\(recordings)/.recorderd/browsers")) ?? []
    }
}
