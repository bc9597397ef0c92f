import CALSA
public import MediaCore

/// An error from alsa-lib, modelled on swift-system's `Errno`: it keeps the raw
/// code, the C call that returned it, the device and what was asked of it, and
/// builds the readable message (`snd_strerror`) only in `description`, so the
/// error path of the capture loop allocates nothing until someone prints it.
///
/// Match it in `catch` by code, e.g. `catch let error as ALSAError where error.code == .noSuchDevice`.
public struct ALSAError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A negative errno value as alsa-lib returns it, with Swift names for the
    /// codes capture code has to tell apart.
    public struct Code: RawRepresentable, Hashable, Sendable {
        /// The negative errno value (`-ENOENT`, `-EPIPE`, ...).
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// `-ENOENT`: no PCM, card or file of that name.
        public static var noSuchFileOrDirectory: Code { Code(rawValue: -ENOENT) }
        /// `-ENODEV`: the device went away (unplugged, driver unloaded).
        public static var noSuchDevice: Code { Code(rawValue: -ENODEV) }
        /// `-EBADFD`: the PCM is in a state where the call makes no sense; after
        /// a device disappeared alsa-lib reports this on every call.
        public static var badState: Code { Code(rawValue: -EBADFD) }
        /// `-EINVAL`: the device refuses a parameter (rate, channels, format).
        public static var invalidArgument: Code { Code(rawValue: -EINVAL) }
        /// `-EPIPE`: an overrun (xrun); capture recovers from it.
        public static var brokenPipe: Code { Code(rawValue: -EPIPE) }
        /// `-ESTRPIPE`: the device was suspended; capture recovers from it.
        public static var suspended: Code { Code(rawValue: -ESTRPIPE) }
        /// `-EBUSY`: another process holds the device exclusively.
        public static var busy: Code { Code(rawValue: -EBUSY) }
        /// `-EIO`: an I/O error, e.g. the sound server connection broke.
        public static var ioError: Code { Code(rawValue: -EIO) }
        /// `-ETIMEDOUT`: the device delivered nothing for too long.
        public static var timedOut: Code { Code(rawValue: -ETIMEDOUT) }
    }

    /// What was being done when the call failed; it carries the value that was
    /// refused, so the message can name it.
    public enum Context: Equatable, Sendable {
        /// Opening the PCM by name.
        case open
        /// Setting the access type or installing parameters once each value was accepted.
        case configure
        /// The sample rate in Hz that the device refused.
        case sampleRate(Int)
        /// The channel count that the device refused.
        case channels(Int)
        /// The sample formats, in preference order, none of which the device accepts.
        case sampleFormats([SampleFormat])
        /// The period or buffer size in frames that the device refused.
        case bufferSize(Int)
        /// Reading captured periods (the device failed or disappeared while capturing).
        case capture
        /// Waiting for a device that delivered nothing, and reported nothing,
        /// for this long (`PCMCaptureConfiguration.deviceTimeoutSeconds`).
        case noData(milliseconds: Int)
    }

    /// The code alsa-lib returned.
    public let code: Code
    /// The alsa-lib function that failed.
    public let operation: StaticString
    /// The PCM name as given (`hw:Loopback,1,0`, `plug:bsnoop`, ...).
    public let device: String
    /// What was asked of the device, with the refused value.
    public let context: Context

    public init(code: Int32, operation: StaticString, device: String, context: Context) {
        self.code = Code(rawValue: code)
        self.operation = operation
        self.device = device
        self.context = context
    }

    /// One line naming the device, the refused value and alsa-lib's reason, e.g.
    /// `audio device 'nosuch': cannot open: No such file or directory (snd_pcm_open)`.
    public var description: String {
        let what: String = switch context {
        case .open: "cannot open"
        case .configure: "cannot be configured for capture"
        case .sampleRate(let rate): "refuses sample rate \(rate) Hz"
        case .channels(let count): "refuses \(count) channels"
        case .sampleFormats(let formats):
            "refuses sample format\(formats.count == 1 ? "" : "s") \(formats.map(\.rawValue).joined(separator: ", "))"
        case .bufferSize(let frames): "refuses a buffer of \(frames) frames"
        case .capture: "capture failed"
        case .noData(let milliseconds): "delivered no audio for \(milliseconds) ms"
        }
        let reason = String(cString: snd_strerror(code.rawValue))
        return "audio device '\(device)': \(what): \(reason) (\(operation))"
    }

    public static func == (lhs: ALSAError, rhs: ALSAError) -> Bool {
        lhs.code == rhs.code && lhs.device == rhs.device && lhs.context == rhs.context
            && lhs.operation.description == rhs.operation.description
    }
}
