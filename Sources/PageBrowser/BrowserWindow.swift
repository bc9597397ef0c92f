import CX11
#if canImport(Glibc)
import Glibc
#endif

/// The browser's top-level window on its X display, set to cover the screen
/// exactly. Chromium on X11 with no window manager makes a window the size
/// of the screen one pixel smaller each way (1919x1079 on 1920x1080,
/// Chromium 156, whether from `--window-size`, `--kiosk`,
/// `--start-fullscreen` or `Browser.setWindowBounds`), which a recording of
/// the workspace shows as a black column and row. With no window manager to
/// refuse it, a configure request from another client sets the size, and
/// Chromium follows it (its viewport becomes the screen's).
///
/// XCB rather than Xlib: its errors come back with each reply, so nothing
/// here touches Xlib's process-wide error handlers, which the capture owns.
enum BrowserWindow {
    /// What `fit` found: the window's geometry before, as `WxH+X+Y`, and
    /// whether it had to be changed.
    struct Fitted: Sendable, Equatable {
        var before: String
        var changed: Bool
    }

    /// Waits up to `timeout` for a viewable top-level window on `display`
    /// whose `_NET_WM_PID` belongs to process group `group`, and moves and
    /// sizes it to `x 0, y 0, width x height` pixels.
    /// - Returns: nil when the display cannot be opened or no such window
    ///   showed in time.
    static func fit(display: String, group: pid_t, width: Int, height: Int, timeout: Duration) async -> Fitted? {
        guard let connection = xcb_connect(display, nil) else { return nil }
        defer { xcb_disconnect(connection) }
        guard xcb_connection_has_error(connection) == 0, let setup = xcb_get_setup(connection),
              let screen = xcb_setup_roots_iterator(setup).data
        else { return nil }
        let root = screen.pointee.root
        guard let pidAtom = atom(connection, "_NET_WM_PID") else { return nil }
        let deadline = ContinuousClock.now + timeout
        while true {
            if let window = largestWindow(connection, root: root, pidAtom: pidAtom, group: group) {
                let before = "\(window.width)x\(window.height)+\(window.x)+\(window.y)"
                guard window.x != 0 || window.y != 0 || Int(window.width) != width || Int(window.height) != height else {
                    return Fitted(before: before, changed: false)
                }
                let mask = UInt16(XCB_CONFIG_WINDOW_X.rawValue | XCB_CONFIG_WINDOW_Y.rawValue
                                  | XCB_CONFIG_WINDOW_WIDTH.rawValue | XCB_CONFIG_WINDOW_HEIGHT.rawValue)
                let values: [UInt32] = [0, 0, UInt32(width), UInt32(height)]
                let cookie = xcb_configure_window_checked(connection, window.id, mask, values)
                if let error = xcb_request_check(connection, cookie) {
                    free(error)
                    return nil
                }
                return Fitted(before: before, changed: true)
            }
            guard ContinuousClock.now < deadline, xcb_connection_has_error(connection) == 0 else { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private struct Window {
        var id: xcb_window_t
        var x: Int16, y: Int16, width: UInt16, height: UInt16
    }

    private static func atom(_ connection: OpaquePointer, _ name: String) -> xcb_atom_t? {
        let cookie = name.withCString { xcb_intern_atom(connection, 1, UInt16(strlen($0)), $0) }
        guard let reply = xcb_intern_atom_reply(connection, cookie, nil) else { return nil }
        defer { free(reply) }
        return reply.pointee.atom == 0 ? nil : reply.pointee.atom
    }

    /// The largest viewable child of the root whose `_NET_WM_PID` is a
    /// process of `group` (Chromium's leader and clipboard windows are tiny
    /// or unmapped).
    private static func largestWindow(_ connection: OpaquePointer, root: xcb_window_t, pidAtom: xcb_atom_t, group: pid_t) -> Window? {
        guard let tree = xcb_query_tree_reply(connection, xcb_query_tree(connection, root), nil) else { return nil }
        defer { free(tree) }
        guard let children = xcb_query_tree_children(tree) else { return nil }
        var best: Window?
        for index in 0..<Int(xcb_query_tree_children_length(tree)) {
            let id = children[index]
            guard let pid = windowPID(connection, id, pidAtom), getpgid(pid) == group else { continue }
            guard let attributes = xcb_get_window_attributes_reply(connection, xcb_get_window_attributes(connection, id), nil)
            else { continue }
            let viewable = attributes.pointee.map_state == UInt8(XCB_MAP_STATE_VIEWABLE.rawValue)
            free(attributes)
            guard viewable, let geometry = xcb_get_geometry_reply(connection, xcb_get_geometry(connection, id), nil)
            else { continue }
            let window = Window(id: id, x: geometry.pointee.x, y: geometry.pointee.y,
                                width: geometry.pointee.width, height: geometry.pointee.height)
            free(geometry)
            if best.map({ Int($0.width) * Int($0.height) < Int(window.width) * Int(window.height) }) ?? true { best = window }
        }
        return best
    }

    private static func windowPID(_ connection: OpaquePointer, _ window: xcb_window_t, _ pidAtom: xcb_atom_t) -> pid_t? {
        let cookie = xcb_get_property(connection, 0, window, pidAtom, xcb_atom_t(XCB_ATOM_CARDINAL.rawValue), 0, 1)
        guard let reply = xcb_get_property_reply(connection, cookie, nil) else { return nil }
        defer { free(reply) }
        guard xcb_get_property_value_length(reply) >= 4, let value = xcb_get_property_value(reply) else { return nil }
        return pid_t(value.load(as: UInt32.self))
    }
}
