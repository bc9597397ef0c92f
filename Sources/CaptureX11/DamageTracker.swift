import CX11

/// The one owner of the X DAMAGE object that reports what changes on the
/// root window, so the grabber reads only what changed.
///
/// Level `XDamageReportRawRectangles`: the server sends one event per
/// rectangle of every drawing, whatever it has accumulated, so no change can
/// hide behind an earlier one. The grabber drains the events each frame and
/// then calls `acknowledge()` (an `XDamageSubtract` that empties the server's
/// accumulated region, so it does not grow for the whole recording). That
/// request goes out before the frame's grab requests, and the server handles
/// requests in order: a drawing made after the events were read is either in
/// the grab already or reported by an event the next frame reads (or both);
/// it is never lost. With the report levels that rely on the accumulated
/// region (`NonEmpty`, `DeltaRectangles`) the subtract must likewise come
/// before the grab, never after it.
final class DamageTracker {
    let connection: DisplayConnection
    /// `XDamageNotify`'s event type on this connection.
    let notifyEventType: Int32
    private let damage: Damage
    private var created = false

    /// nil when the server has no DAMAGE extension (or refuses the object).
    init?(connection: DisplayConnection) {
        var eventBase: Int32 = 0, errorBase: Int32 = 0
        guard XDamageQueryExtension(connection.display, &eventBase, &errorBase) != 0 else { return nil }
        var major: Int32 = 0, minor: Int32 = 0
        guard XDamageQueryVersion(connection.display, &major, &minor) != 0 else { return nil }
        self.connection = connection
        notifyEventType = eventBase + Int32(XDamageNotify)
        damage = XDamageCreate(connection.display, connection.root, Int32(XDamageReportRawRectangles))
        guard connection.syncAndTakeError() == 0 else { return nil }
        created = true
    }

    deinit {
        // The capture is closing: its calls wait for no slow server.
        connection.hurry()
        connection.arm()
        stopReporting()
        connection.disarm()
    }

    /// Destroys the DAMAGE object: the server stops tracking and reporting
    /// (the grabber gave up on DAMAGE). `acknowledge` does nothing after it.
    func stopReporting() {
        if created && !connection.broken.load(ordering: .acquiring) {
            XDamageDestroy(connection.display, damage)
            XSync(connection.display, 0)
        }
        created = false
    }

    /// Empties the server's accumulated damage (no reply; see the type's note
    /// on the order against the grab).
    @inline(__always)
    func acknowledge() {
        if created { XDamageSubtract(connection.display, damage, 0, 0) }
    }
}
