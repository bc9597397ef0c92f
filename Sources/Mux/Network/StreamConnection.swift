import MediaPackets

/// One live connection of a network sink to its server, in one protocol
/// (`RTMPConnection`, `SRTConnection`): opening it connects and sends the
/// container's header; then packets in decoding order; `finish` ends the
/// stream cleanly. Every reconnection is a new connection.
///
/// Used by the sink's thread only; blocking calls end when the sink's
/// `IOInterrupt` fires.
protocol StreamConnection: AnyObject {
    /// Sends one packet (in decoding order).
    func write(_ packet: consuming Packet) throws
    /// Ends the stream cleanly: the container's trailer, then the
    /// protocol's goodbye.
    func finish() throws
}
