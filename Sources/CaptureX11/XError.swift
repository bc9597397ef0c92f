import CX11

/// Why display capture could not start or had to stop. Like swift-system's
/// `Errno`, it keeps codes and names; the sentence is made only when printed.
public struct XError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable {
        /// `XOpenDisplay` failed: no server answers at that name.
        case cannotOpenDisplay
        /// The screen's visual is not one the encoder converts from (TrueColor
        /// at depth 15, 16, 24, 30 or 32 with the usual masks, little-endian).
        case unsupportedVisual(depth: Int32, bitsPerPixel: Int32, visualClass: Int32)
        /// The pointer was asked for and the server has no XFixes extension.
        case cursorUnavailable
        /// MIT-SHM was required but is missing or unusable (a remote display).
        case sharedMemoryUnavailable
        /// A shared-memory system call failed; `code` is its errno.
        case sharedMemorySystemCall(operation: StaticString, code: Int32)
        /// The server answered a request with an X protocol error.
        case protocolError(request: StaticString, code: UInt8)
        /// The connection to the X server broke (the server went away).
        case connectionLost
        /// The server accepted the connection but answered no call (or the
        /// opening) within `milliseconds`: stopped, wedged, or overloaded.
        /// The connection was shut down, as if the server had gone away.
        case notAnswering(milliseconds: Int)
        /// A grab returned no image.
        case grabFailed(request: StaticString)
    }

    public let kind: Kind
    /// The display name as given (never nil: the resolved `$DISPLAY` when defaulted).
    public let display: String

    public init(_ kind: Kind, display: String) {
        self.kind = kind
        self.display = display
    }

    /// The server did not answer in time (`Kind.notAnswering`).
    public var isNotAnswering: Bool {
        if case .notAnswering = kind { return true }
        return false
    }

    /// A grab refused with `BadMatch` (the rectangle is not on the screen):
    /// what the server answers when the screen shrank under the grab.
    public var isScreenMismatch: Bool {
        if case let .protocolError(_, code) = kind { return code == UInt8(BadMatch) }
        return false
    }

    /// The X visual class's name (X11/X.h).
    static func visualClassName(_ visualClass: Int32) -> String {
        switch visualClass {
        case StaticGray: "StaticGray"
        case GrayScale: "GrayScale"
        case StaticColor: "StaticColor"
        case PseudoColor: "PseudoColor"
        case TrueColor: "TrueColor"
        case DirectColor: "DirectColor"
        default: "visual class \(visualClass)"
        }
    }

    public var description: String {
        switch kind {
        case .cannotOpenDisplay:
            return "display '\(display)': cannot open (no X server answers there)"
        case let .unsupportedVisual(depth, bitsPerPixel, visualClass):
            return "display '\(display)': depth \(depth) (\(Self.visualClassName(visualClass)), \(bitsPerPixel) bits per pixel)"
                + " cannot be recorded; TrueColor at depth 15, 16, 24, 30 or 32 can"
        case .cursorUnavailable:
            return "display '\(display)': the server has no XFixes extension, so the pointer cannot be drawn"
        case .sharedMemoryUnavailable:
            return "display '\(display)': MIT-SHM is not available"
        case let .sharedMemorySystemCall(operation, code):
            return "display '\(display)': \(operation) failed: \(String(cString: strerror(code))) (\(code))"
        case let .protocolError(request, code):
            return "display '\(display)': \(request) failed with X error \(code)"
        case .connectionLost:
            return "display '\(display)': connection to the X server lost"
        case let .notAnswering(milliseconds):
            let seconds = milliseconds % 1000 == 0 ? "\(milliseconds / 1000)" : "\(Double(milliseconds) / 1000)"
            return "display '\(display)' does not answer (no reply within \(seconds) s)"
        case let .grabFailed(request):
            return "display '\(display)': \(request) returned no image"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
