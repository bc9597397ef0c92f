/// A JSON (or YAML) document as a tree, so that the daemon can name the
/// exact field a request or a configuration file got wrong, and refuse
/// fields it does not know (`FieldReader`).
enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// A value from Yams' `load` (String, Int, Double, Bool, arrays,
    /// dictionaries, NSNull-like nil); nil for anything else.
    init?(yaml value: Any?) {
        switch value {
        case nil: self = .null
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .number(Double(value))
        case let value as Double: self = .number(value)
        case let value as String: self = .string(value)
        case let value as [Any]:
            var items: [JSONValue] = []
            for item in value {
                guard let converted = JSONValue(yaml: item) else { return nil }
                items.append(converted)
            }
            self = .array(items)
        case let value as [String: Any]:
            var fields: [String: JSONValue] = [:]
            for (key, item) in value {
                guard let converted = JSONValue(yaml: item) else { return nil }
                fields[key] = converted
            }
            self = .object(fields)
        default:
            if case Optional<Any>.none = value as Any? { self = .null } else { return nil }
        }
    }

    /// The JSON type's name, for an error message.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A field of a request or configuration that cannot be used: the field's
/// path (`video.crf`, `streams[1]`) and why.
struct FieldError: Error, Sendable, CustomStringConvertible {
    var field: String
    var reason: String

    var description: String { "\(field): \(reason)" }
}

/// Reads the fields of one JSON object by name and type, each error naming
/// the field's path; `finish()` refuses the fields nobody asked for.
struct FieldReader {
    /// The object's own path ("" at the top).
    let path: String
    private let fields: [String: JSONValue]
    private var asked: Set<String> = []

    init(_ value: JSONValue, path: String = "") throws {
        guard case let .object(fields) = value else {
            throw FieldError(field: path.isEmpty ? "body" : path, reason: "must be a JSON object, not \(value.typeName)")
        }
        self.path = path
        self.fields = fields
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value; nil when absent. `.null` is returned as is.
    mutating func value(_ key: String) -> JSONValue? {
        asked.insert(key)
        return fields[key]
    }

    /// True when the field is present (null included).
    func has(_ key: String) -> Bool { fields[key] != nil }

    mutating func string(_ key: String, maxLength: Int = 1024) throws -> String? {
        switch value(key) {
        case nil, .null?: return nil
        case let .string(text)?:
            guard text.utf8.count <= maxLength else {
                throw FieldError(field: name(key), reason: "longer than \(maxLength) bytes")
            }
            guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
                throw FieldError(field: name(key), reason: "contains control characters")
            }
            return text
        case let other?: throw FieldError(field: name(key), reason: "must be a string, not \(other.typeName)")
        }
    }

    mutating func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        switch value(key) {
        case nil, .null?: return nil
        case let .number(number)?:
            guard number.rounded() == number, let integer = Int(exactly: number), range.contains(integer) else {
                throw FieldError(field: name(key),
                                 reason: "\(Self.text(number)) is not an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return integer
        case let other?: throw FieldError(field: name(key), reason: "must be an integer, not \(other.typeName)")
        }
    }

    mutating func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        switch value(key) {
        case nil, .null?: return nil
        case let .number(number)?:
            guard number.isFinite, range.contains(number) else {
                throw FieldError(field: name(key),
                                 reason: "\(Self.text(number)) is not a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        case let other?: throw FieldError(field: name(key), reason: "must be a number, not \(other.typeName)")
        }
    }

    /// A number as the request wrote it, near enough: 60, not 60.0.
    private static func text(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }

    mutating func bool(_ key: String) throws -> Bool? {
        switch value(key) {
        case nil, .null?: return nil
        case let .bool(flag)?: return flag
        case let other?: throw FieldError(field: name(key), reason: "must be true or false, not \(other.typeName)")
        }
    }

    mutating func object(_ key: String) throws -> FieldReader? {
        switch value(key) {
        case nil, .null?: return nil
        case let value?: return try FieldReader(value, path: name(key))
        }
    }

    mutating func strings(_ key: String, maxCount: Int, maxLength: Int = 1024) throws -> [String]? {
        switch value(key) {
        case nil, .null?: return nil
        case let .array(items)?:
            guard items.count <= maxCount else { throw FieldError(field: name(key), reason: "more than \(maxCount) items") }
            return try items.enumerated().map { index, item in
                guard case let .string(text) = item else {
                    throw FieldError(field: "\(name(key))[\(index)]", reason: "must be a string, not \(item.typeName)")
                }
                guard text.utf8.count <= maxLength else {
                    throw FieldError(field: "\(name(key))[\(index)]", reason: "longer than \(maxLength) bytes")
                }
                return text
            }
        case let other?: throw FieldError(field: name(key), reason: "must be an array of strings, not \(other.typeName)")
        }
    }

    /// A string-to-string map (labels).
    mutating func labels(_ key: String, maxCount: Int, maxLength: Int) throws -> [String: String]? {
        guard var reader = try object(key) else { return nil }
        guard reader.fields.count <= maxCount else { throw FieldError(field: name(key), reason: "more than \(maxCount) labels") }
        var labels: [String: String] = [:]
        for label in reader.fields.keys.sorted() {
            guard label.utf8.count <= 128, !label.isEmpty else {
                throw FieldError(field: name(key), reason: "label names must be 1 to 128 bytes")
            }
            labels[label] = try reader.string(label, maxLength: maxLength) ?? ""
        }
        return labels
    }

    /// Refuses the fields not asked for: a misspelt field must not be
    /// silently ignored.
    func finish() throws {
        if let unknown = fields.keys.sorted().first(where: { !asked.contains($0) }) {
            throw FieldError(field: name(unknown), reason: "unknown field")
        }
    }
}
