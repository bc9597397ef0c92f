/// Something the capture thread reports that the consumer cannot see in the
/// chunks themselves. Delivered on the capture thread; handlers must not block.
/// Neither ends capture: the chunks go on, with silence that follows the clock
/// while the device delivers nothing.
public enum PCMCaptureEvent: Sendable, Equatable {
    /// The device failed or disappeared (`-ENODEV`, `-EBADFD`, a broken
    /// sound-server connection, an overrun it could not recover from): it is
    /// closed and opened again with backoff. Or it delivered nothing for
    /// `PCMCaptureConfiguration.deviceTimeoutSeconds` (context `.noData`):
    /// it stays open and is waited on. Reported once per loss.
    case deviceLost(ALSAError)
    /// The device delivers again after a loss; the span from its last frames
    /// before the loss to its first after, nanoseconds (what was silence).
    case deviceRestored(afterNanoseconds: Int64)
}
