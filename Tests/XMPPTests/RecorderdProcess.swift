import Foundation
import TestSupport

/// recorderd as a process (the build's `recorderd`, or `RECORDERD_BINARY`)
/// with Jibri environments behind `server`, spoken to over real HTTP (curl):
/// what a signal or a measurement of the whole process needs.
final class RecorderdProcess: @unchecked Sendable {
    /// One `xmpp.environments[]` entry: its name (also the brewery
    /// nickname's stem) and the control password written to its file.
    struct Environment {
        var name: String
        var password = ProsodyServer.jibriPassword
    }

    static var binary: String {
        ProcessInfo.processInfo.environment["RECORDERD_BINARY"] ?? Repository.product("recorderd")
    }

    let directory: String
    let recordings: String
    let process: ChildProcess
    let address: String
    var logPath: String { "\(directory)/recorderd.log" }
    /// Where the finalize script appends each directory it is given.
    var finalized: String { "\(directory)/finalized" }

    /// Starts recorderd in `SERVER/NAME` on a free loopback port, `slots`
    /// slots (`width` x `height`) per environment, returning once it listens. With
    /// `pages` (the meetings' base URL, `JibriDaemonTests.withMeetingPages`)
    /// the environments join meetings there with the recorder's call login.
    init(_ server: ProsodyServer, name: String, environments: [Environment], slots: Int,
         shutdownTimeoutSeconds: Double = 20, cores: Double = 8, pages: String? = nil, width: Int = 640, height: Int = 360) throws {
        directory = "\(server.directory)/\(name)"
        recordings = "\(directory)/recordings"
        try FileManager.default.createDirectory(atPath: recordings, withIntermediateDirectories: true)
        let script = "\(directory)/finalize.sh"
        try "#!/bin/sh\necho \"$1\" >> \(directory)/finalized\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        var yaml = """
            recordingsDir: \(recordings)
            finalizeScript: \(script)
            shutdownTimeoutSeconds: \(shutdownTimeoutSeconds)
            cores: \(cores)
            browserNoSandbox: \(geteuid() == 0)

            """
        var meetings = ""
        if let pages {
            let recorderPasswordFile = "\(directory)/recorder.pass"
            try ProsodyServer.recorderPassword.write(toFile: recorderPasswordFile, atomically: true, encoding: .utf8)
            meetings = """
                      base-url: \(pages)
                      call-login: {domain: recorder.\(ProsodyServer.domain), username: recorder, password-file: \(recorderPasswordFile)}

                """
        }
        if !environments.isEmpty {
            yaml += "xmpp:\n  slots: \(slots)\n  width: \(width)\n  height: \(height)\n  environments:\n"
            for environment in environments {
                let passwordFile = "\(directory)/\(environment.name).pass"
                try environment.password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
                yaml += """
                        - name: \(environment.name)
                          xmpp-server-hosts: ["127.0.0.1:\(server.port)"]
                          xmpp-domain: \(ProsodyServer.domain)
                          control-muc: {domain: internal.auth.\(ProsodyServer.domain), room-name: JibriBrewery, nickname: \(environment.name)}
                          control-login: {domain: auth.\(ProsodyServer.domain), username: jibri, password-file: \(passwordFile)}
                          strip-from-room-domain: "conference."
                          ca-file: \(server.caFile)

                    """ + meetings
            }
        }
        let config = "\(directory)/recorderd.yaml"
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        let ready = "\(directory)/ready"
        let logPath = "\(directory)/recorderd.log"
        let tail = { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(2000)) }
        process = try ChildProcess([Self.binary, "--config", config, "--listen", "127.0.0.1:0", "--ready-file", ready,
                                    "--log-format", "json"],
                                   standardError: .file("\(directory)/recorderd.log"))
        let deadline = Date().addingTimeInterval(60)
        var address: String?
        while Date() < deadline {
            if let text = try? String(contentsOfFile: ready, encoding: .utf8), !text.isEmpty { address = text; break }
            if let termination = process.wait(timeout: 0.05) {
                throw FixtureError.failed("recorderd exited with \(termination.status): \(tail())")
            }
        }
        guard let address else { throw FixtureError.failed("recorderd did not listen within 60 s: \(tail())") }
        self.address = address
    }

    deinit {
        if process.isRunning {
            process.send(SIGKILL)
            process.wait()
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// `GET path`'s body (curl; empty when no answer came).
    func get(_ path: String) throws -> String {
        try Subprocess.run(["curl", "-s", "--max-time", "30", "http://\(address)\(path)"]).standardOutput
    }

    /// `GET /health`'s `xmpp.environments`, by name.
    func xmppHealth() throws -> [String: [String: Any]] {
        let health = try JSONSerialization.jsonObject(with: Data(get("/health").utf8)) as? [String: Any]
        let environments = (health?["xmpp"] as? [String: Any])?["environments"] as? [[String: Any]] ?? []
        var byName: [String: [String: Any]] = [:]
        for environment in environments { byName[environment["name"] as? String ?? ""] = environment }
        return byName
    }

    /// The `/metrics` sample lines starting with `prefix`, as `name{labels}` -> value.
    func metrics(_ prefix: String) throws -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in try get("/metrics").split(separator: "\n") where line.hasPrefix(prefix) {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }
}
