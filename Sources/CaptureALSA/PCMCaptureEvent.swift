/// Something the capture thread reports that the consumer cannot see in the
/// chunks themselves. Delivered on the capture thread; handlers must not block.
public enum PCMCaptureEvent: Sendable {
    /// Capture ended because the device failed or disappeared (`-ENODEV`,
    /// `-EBADFD`, a broken sound-server connection, an overrun it could not
    /// recover from), or delivered nothing for
    /// `PCMCaptureConfiguration.deviceTimeoutSeconds` (`.noData`). Chunks
    /// already queued stay poppable; `stop()` is still needed to join the thread.
    case failed(ALSAError)
}
