import Foundation

/// `"page"` of `POST /v1/recordings`, field by field; every error names its
/// field (`page.start.on`, `page.cookies[1].name`). Values of `query`,
/// `hash`, `cookies` and `localStorage` never appear in an error.
extension PageRequest {
    /// Largest size of a side, pixels (Xvfb's and Chromium's limits are higher).
    static let maxSide = 8192

    init(reading page: inout FieldReader) throws {
        // A Jitsi room instead of a URL: its URL, login and gates are the
        // daemon's (`jitsi` in its configuration); what would change them
        // is refused beside it.
        if page.has("jitsi") {
            for key in ["url", "start", "query", "hash", "cookies", "localStorage"] where page.has(key) {
                throw FieldError(field: page.name(key), reason: "not with page.jitsi (the room's URL, login and start are the daemon's)")
            }
            var jitsi = try page.object("jitsi")!
            self.init(kind: .jitsi(try JitsiRequest(&jitsi)))
        } else {
            guard let url = try page.string("url", maxLength: 2048) else {
                throw FieldError(field: page.name("url"), reason: "required")
            }
            self.init(kind: .url(url))
        }
        width = try Self.side(&page, "width") ?? width
        height = try Self.side(&page, "height") ?? height
        if var start = try page.object("start") {
            self.start = try Self.startGate(&start)
            try start.finish()
        }
        if var end = try page.object("end") {
            self.end = try Self.endGate(&end)
            try end.finish()
        }
        query = try Self.parameters(&page, "query")
        hash = try Self.parameters(&page, "hash")
        cookies = try Self.cookies(&page)
        localStorage = try Self.secrets(&page, "localStorage") ?? [:]
        try page.finish()
    }

    private static func side(_ reader: inout FieldReader, _ key: String) throws -> Int? {
        guard let value = try reader.int(key, in: 2...maxSide) else { return nil }
        guard value % 2 == 0 else { throw FieldError(field: reader.name(key), reason: "\(value) is odd: H.264 4:2:0 needs even sizes") }
        return value
    }

    private static func startGate(_ start: inout FieldReader) throws -> PageStartGate {
        let on = try start.string("on", maxLength: 32) ?? "load"
        switch on {
        case "load":
            return .load
        case "console":
            return .console(text: try text(&start) ?? PageStartGate.defaultText)
        case "predicate":
            guard let expression = try start.string("expression", maxLength: 4096), !expression.isEmpty else {
                throw FieldError(field: start.name("expression"), reason: "required for a predicate")
            }
            let timeout = try start.double("timeoutSeconds", in: 1...3600) ?? PageStartGate.defaultTimeoutSeconds
            return .predicate(expression: expression, timeout: timeout)
        default:
            throw FieldError(field: start.name("on"), reason: "'\(on)': valid values: load, console, predicate")
        }
    }

    private static func endGate(_ end: inout FieldReader) throws -> PageEndGate {
        guard let on = try end.string("on", maxLength: 32) else { throw FieldError(field: end.name("on"), reason: "required") }
        switch on {
        case "console":
            return .console(text: try text(&end) ?? PageEndGate.defaultText)
        case "predicate":
            guard let expression = try end.string("expression", maxLength: 4096), !expression.isEmpty else {
                throw FieldError(field: end.name("expression"), reason: "required for a predicate")
            }
            let interval = try end.double("intervalSeconds", in: 0.1...3600) ?? PageEndGate.defaultIntervalSeconds
            return .predicate(expression: expression, interval: interval)
        default:
            throw FieldError(field: end.name("on"), reason: "'\(on)': valid values: console, predicate")
        }
    }

    private static func text(_ reader: inout FieldReader) throws -> String? {
        guard let text = try reader.string("text", maxLength: 256) else { return nil }
        guard !text.isEmpty else { throw FieldError(field: reader.name("text"), reason: "must not be empty") }
        return text
    }

    /// A string-to-string object whose values are secret: an error names
    /// the field, never the value.
    private static func secrets(_ reader: inout FieldReader, _ key: String) throws -> [String: String]? {
        guard var object = try reader.object(key) else { return nil }
        var entries: [String: String] = [:]
        for name in object.fieldNames {
            guard !name.isEmpty, name.utf8.count <= 256 else {
                throw FieldError(field: object.path, reason: "names must be 1 to 256 bytes")
            }
            guard entries.count < 64 else { throw FieldError(field: object.path, reason: "more than 64 entries") }
            // The readers' errors name the field and the kind, never the value.
            entries[name] = try object.string(name, maxLength: 4096) ?? ""
        }
        return entries
    }

    /// Query or hash parameters, in name order.
    private static func parameters(_ reader: inout FieldReader, _ key: String) throws -> [(name: String, value: String)] {
        let entries = try secrets(&reader, key) ?? [:]
        return entries.keys.sorted().map { ($0, entries[$0]!) }
    }

    private static func cookies(_ reader: inout FieldReader) throws -> [PageCookie] {
        var cookies: [PageCookie] = []
        for var cookie in try reader.objects("cookies", maxCount: 64) ?? [] {
            guard let name = try cookie.string("name", maxLength: 256), !name.isEmpty else {
                throw FieldError(field: cookie.name("name"), reason: "required")
            }
            guard cookie.has("value") else { throw FieldError(field: cookie.name("value"), reason: "required") }
            let value = try cookie.string("value", maxLength: 4096) ?? ""
            let domain = try cookie.string("domain", maxLength: 256)
            let path = try cookie.string("path", maxLength: 1024)
            try cookie.finish()
            cookies.append(PageCookie(name: name, value: value, domain: domain, path: path))
        }
        return cookies
    }
}
