import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import RecorderDaemon
import RecorderEngine

/// recorderd: reads the command line and the configuration file, sets up
/// the process (logs, metrics, signals) and runs the application
/// (`buildApplication`) until SIGTERM or SIGINT.
///
/// Exit status: 0 after a clean shutdown; 2 on bad configuration (one line
/// naming the value, nothing started); 1 on a failure while running.
@main
enum Recorderd {
    static func main() async {
        let command: RecorderdCommand
        do {
            command = try RecorderdCommand.parse()
        } catch {
            if RecorderdCommand.exitCode(for: error) == .success {
                print(RecorderdCommand.fullMessage(for: error))
                exit(0)
            }
            let message = RecorderdCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            refuse(message.replacingOccurrences(of: "Error: ", with: ""))
        }
        let configuration: DaemonConfiguration
        do {
            configuration = try command.makeConfiguration()
        } catch {
            refuse("\(error)")
        }

        // Logs: JSON lines unless a person is watching.
        let format: StderrLogHandler.Format = switch configuration.logFormat {
        case "json": .json
        case "text": .text
        default: isatty(STDERR_FILENO) != 0 ? .text : .json
        }
        LoggingSystem.bootstrap { label in StderrLogHandler(logLevel: configuration.logLevel, label: label, format: format) }
        let logger = Logger(label: "recorderd")
        LogTarget.processLogger = logger

        // Metrics: Prometheus text on /metrics, from every session and the daemon.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        // A write to a connection the peer closed must fail with EPIPE, not end the daemon.
        signal(SIGPIPE, SIG_IGN)

        let application: any ApplicationProtocol
        do {
            application = try await buildApplication(configuration: configuration, logger: logger, registry: registry,
                                                     readyFile: command.readyFile)
        } catch {
            refuse("\(error)")
        }
        do {
            try await application.runService()
            logger.notice("stopped")
            exit(0)
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            // NIO's own text ("bind(descriptor:ptr:bytes:): Address already in use)")
            // names neither the address nor what to do.
            let message = "cannot listen on \(configuration.listen): the address is in use (another recorderd, or another"
                + " program, listens there); choose another with --listen"
            logger.error("\(message)")
            exit(1)
        } catch {
            logger.error("stopped with an error: \(error)")
            exit(1)
        }
    }

    /// Bad configuration: one line naming the value, exit 2, nothing started.
    static func refuse(_ message: String) -> Never {
        FileHandle.standardError.write(Data("recorderd: \(message)\n".utf8))
        exit(2)
    }
}
