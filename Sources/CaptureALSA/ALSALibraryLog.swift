import CALSA
import Logging
import MediaCore
import Synchronization

/// alsa-lib's own error lines (it prints them before returning the code that
/// the capture reports as an `ALSAError`), routed to the logger of the
/// session whose thread called it, at debug level: the error itself reaches
/// the user once, as a value.
enum ALSALibraryLog {
    private static let installed = Atomic<Bool>(false)

    /// Installs the routing handler; once per process, any thread.
    static func install() {
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        calsa_route_library_errors()
    }
}

/// Called by the shim's handler with one formatted line.
@_cdecl("calsa_route_error")
func calsaRouteError(_ file: UnsafePointer<CChar>?, _ line: Int32, _ function: UnsafePointer<CChar>?,
                     _ error: Int32, _ message: UnsafePointer<CChar>?) {
    let function = function.map { String(cString: $0) } ?? "?"
    let text = message.map { String(cString: $0) } ?? ""
    LogTarget.logLibraryLine("\(function): \(text)", level: .debug, source: "alsa-lib")
}
