/// How frames are read from the X server.
public enum GrabMethod: String, Sendable, CaseIterable {
    /// MIT-SHM when the server offers it and can attach our segments, else `XGetImage`.
    case automatic
    /// `XShmGetImage`: the server writes straight into a pooled shared-memory
    /// segment; no copy on our side.
    case sharedMemory
    /// `XGetSubImage` over the socket into a pooled buffer: works on remote
    /// displays, at the cost of a transfer and a copy per frame.
    case getImage
}
