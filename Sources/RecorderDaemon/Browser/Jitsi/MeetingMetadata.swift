import Foundation
public import PageBrowser
public import RecorderEngine

/// `metadata.json` beside a recording, as Jibri's FileRecordingJibriService
/// writes it (jibri @62369d5, `service/impl/FileRecordingJibriService.kt`
/// lines 75-89 and 214-240): `meeting_url` (the room's URL without the hash),
/// `participants` (the identities Jibri's participant tracker collected),
/// then each key of the request's app data at the top level (Jibri's
/// `app_data.file_recording_metadata`; a key named `meeting_url` or
/// `participants` there is dropped, not written twice).
public struct MeetingMetadata: Sendable, Equatable {
    public var meetingURL: String
    public var participants: [JSONValue]
    public var additional: [String: JSONValue]

    /// Jibri's file name.
    public static let fileName = "metadata.json"

    public init(meetingURL: String, participants: [JSONValue], additional: [String: JSONValue] = [:]) {
        self.meetingURL = meetingURL
        self.participants = participants
        self.additional = additional
    }

    /// The document: `meeting_url`, `participants`, then the other keys sorted.
    public var json: String {
        var fields = [(key: "meeting_url", value: JSONValue.string(meetingURL)), ("participants", .array(participants))]
        for key in additional.keys.sorted() where key != "meeting_url" && key != "participants" {
            fields.append((key, additional[key]!))
        }
        return "{" + fields.map { "\(JitsiRoom.jsonString($0.key)):\(Self.text($0.value))" }.joined(separator: ",") + "}"
    }

    /// Writes `metadata.json` in the folder of `recording` (a path relative
    /// to `directory`, the recordings directory), beneath `directory`'s
    /// descriptor: a hidden temporary file, written and synced, renamed over
    /// `metadata.json`. Throws `ConfinementError` or the write's error.
    public func write(beside recording: String, in directory: ConfinedDirectory) throws {
        let folder = recording.lastIndex(of: "/").map { String(recording[..<$0]) + "/" } ?? ""
        let temporary = folder + ".\(Self.fileName).\(UUID().uuidString.prefix(8)).tmp"
        let descriptor = try directory.createFile(relative: temporary, mode: 0o644)
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: Data(json.utf8))
            try handle.synchronize()
            try handle.close()
            try directory.rename(temporary, to: folder + Self.fileName)
        } catch {
            try? directory.removeFile(relative: temporary)
            throw error
        }
    }

    /// Jibri's `app_data` (a JSON string in the start IQ): its
    /// `file_recording_metadata` object, other keys ignored (`AppData`,
    /// `service/JibriService.kt`). Throws when it is not a JSON object.
    public static func additional(fromAppData appData: String) throws -> [String: JSONValue] {
        let decoded = try JSONDecoder().decode(DecodedJSON.self, from: Data(appData.utf8)).value
        guard case .object(let top) = decoded else { throw FieldError(field: "app_data", reason: "must be a JSON object") }
        guard let metadata = top["file_recording_metadata"], metadata != .null else { return [:] }
        guard case .object(let fields) = metadata else {
            throw FieldError(field: "app_data.file_recording_metadata", reason: "must be a JSON object")
        }
        return fields
    }

    /// A JSON value as text; integral numbers without a fraction (Jackson
    /// writes a Long as such), keys sorted.
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number):
            guard number.isFinite else { return "null" }
            if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
            return "\(number)"
        case .string(let string): return JitsiRoom.jsonString(string)
        case .array(let items): return "[" + items.map(text).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.keys.sorted().map { "\(JitsiRoom.jsonString($0)):\(text(fields[$0]!))" }.joined(separator: ",") + "}"
        }
    }
}

/// Reads any JSON (or YAML) value into a `JSONValue`; booleans stay booleans.
struct DecodedJSON: Decodable {
    let value: JSONValue

    init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer() {
            if container.decodeNil() { value = .null; return }
            if let flag = try? container.decode(Bool.self) { value = .bool(flag); return }
            if let number = try? container.decode(Double.self) { value = .number(number); return }
            if let string = try? container.decode(String.self) { value = .string(string); return }
        }
        if var items = try? decoder.unkeyedContainer() {
            var list: [JSONValue] = []
            while !items.isAtEnd { list.append(try items.decode(DecodedJSON.self).value) }
            value = .array(list)
            return
        }
        let container = try decoder.container(keyedBy: FieldKey.self)
        var fields: [String: JSONValue] = [:]
        for key in container.allKeys { fields[key.stringValue] = try container.decode(DecodedJSON.self, forKey: key).value }
        value = .object(fields)
    }
}
