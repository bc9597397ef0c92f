import Logging
import ServiceLifecycle
import XMPPClient

/// Runs the brewery (`JibriBrewery`) for the daemon's lifetime: connects
/// every slot, feeds it their states and stanzas, refreshes the presence
/// every `refreshInterval`, and on graceful shutdown makes every slot say
/// `busy` first, waits (at most `drainTimeout`) for the running recordings
/// to end and report `off`, then closes the connections and joins their
/// threads.
final class JibriService: Service, Sendable {
    let brewery: JibriBrewery
    private let configuration: JibriXMPPConfiguration
    private let logger: Logger
    private let refreshInterval: Duration
    private let drainTimeout: Duration

    init(configuration: JibriXMPPConfiguration, host: any JibriRecordingHost, logger: Logger,
         refreshInterval: Duration = .seconds(5), drainTimeout: Duration = .seconds(90)) {
        self.configuration = configuration
        self.logger = logger
        self.refreshInterval = refreshInterval
        self.drainTimeout = drainTimeout
        brewery = JibriBrewery(configuration: configuration, host: host, logger: logger)
    }

    func run() async throws {
        let made = try JibriBrewery.makeSlots(configuration, logger: logger)
        await brewery.adopt(made)
        let brewery = brewery
        let drainTimeout = drainTimeout
        await withTaskGroup(of: Void.self) { group in
            for (slot, entry) in made.enumerated() {
                for (connection, client) in entry.clients.enumerated() {
                    group.addTask {
                        for await state in client.states {
                            await brewery.stateChanged(slot: slot, connection: connection, state)
                        }
                    }
                    group.addTask {
                        for await stanza in client.stanzas {
                            await brewery.received(slot: slot, connection: connection, stanza)
                        }
                    }
                }
            }
            let refreshInterval = refreshInterval
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: refreshInterval)
                    await brewery.refresh()
                }
            }
            // Returns on graceful shutdown, or throws when cancelled.
            try? await gracefulShutdown()
            // Busy everywhere, then the recordings end (the recorder drains
            // them) and each reports `off`.
            await brewery.drain()
            let deadline = ContinuousClock.now + drainTimeout
            while await brewery.activeSessions > 0, ContinuousClock.now < deadline, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
            }
            await brewery.closeAll()
            group.cancelAll()
        }
    }
}
