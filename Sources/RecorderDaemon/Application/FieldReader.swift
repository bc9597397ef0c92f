import Foundation

/// A field of a request or configuration that cannot be used: the field's
/// path (`video.crf`, `streams[1]`) and why.
public struct FieldError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

/// The JSON (or YAML) type of a value, for an error message.
enum FieldKind: Sendable, Equatable {
    case null, bool, number, string, array, object

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

    /// The kind of the value `decoder` is at.
    static func of(_ decoder: any Decoder) -> FieldKind {
        if let value = try? decoder.singleValueContainer() {
            if value.decodeNil() { return .null }
            if (try? value.decode(Bool.self)) != nil { return .bool }
            if (try? value.decode(Double.self)) != nil { return .number }
            if (try? value.decode(String.self)) != nil { return .string }
        }
        return (try? decoder.unkeyedContainer()) != nil ? .array : .object
    }
}

struct FieldKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Reads the fields of one object through a `Decoder` (a request body's
/// JSON, the configuration file's YAML) by name and type, each error naming
/// the field's path; an absent field is nil, a null one an error unless
/// asked for with `isNull`; `finish()` refuses the fields nobody asked for,
/// so that a misspelt field is never silently ignored.
struct FieldReader {
    /// The object's own path ("" at the top).
    let path: String
    private let container: KeyedDecodingContainer<FieldKey>
    private let keys: Set<String>
    private var asked: Set<String> = []

    init(_ decoder: any Decoder, path: String = "") throws {
        let kind = FieldKind.of(decoder)
        guard kind == .object, let container = try? decoder.container(keyedBy: FieldKey.self) else {
            throw FieldError(field: path.isEmpty ? "body" : path, reason: "must be a JSON object, not \(kind.typeName)")
        }
        self.path = path
        self.container = container
        keys = Set(container.allKeys.map(\.stringValue))
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value's kind; nil when absent (`.null` is returned as is).
    mutating func value(_ key: String) -> FieldKind? {
        asked.insert(key)
        guard keys.contains(key), let decoder = try? container.superDecoder(forKey: FieldKey(key)) else { return nil }
        return FieldKind.of(decoder)
    }

    /// True when the field is present (null included).
    func has(_ key: String) -> Bool { keys.contains(key) }

    /// True when the field is given as null. The typed readers refuse a
    /// null ("must be an integer, not null"); a field that may be null says
    /// so by asking this first.
    mutating func isNull(_ key: String) -> Bool { value(key) == .null }

    /// The value as `type` (its kind already checked by the caller).
    func decode<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
        do {
            return try container.decode(type, forKey: FieldKey(key))
        } catch let error as FieldError {
            // A nested reader's own error, naming its field.
            throw error
        } catch let DecodingError.dataCorrupted(context) where context.underlyingError is FieldError {
            throw context.underlyingError!
        } catch {
            throw FieldError(field: name(key), reason: "cannot be read as \(type)")
        }
    }

    mutating func string(_ key: String, maxLength: Int = 1024) throws -> String? {
        switch value(key) {
        case nil: return nil
        case .string?:
            let text = try decode(String.self, key)
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
        case nil: return nil
        case .number?:
            let number = try decode(Double.self, key)
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
        case nil: return nil
        case .number?:
            let number = try decode(Double.self, key)
            guard number.isFinite, range.contains(number) else {
                throw FieldError(field: name(key),
                                 reason: "\(Self.text(number)) is not a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        case let other?: throw FieldError(field: name(key), reason: "must be a number, not \(other.typeName)")
        }
    }

    /// A number as the request wrote it, near enough: 60, not 60.0.
    static func text(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }

    mutating func bool(_ key: String) throws -> Bool? {
        switch value(key) {
        case nil: return nil
        case .bool?: return try decode(Bool.self, key)
        case let other?: throw FieldError(field: name(key), reason: "must be true or false, not \(other.typeName)")
        }
    }

    mutating func object(_ key: String) throws -> FieldReader? {
        switch value(key) {
        case nil: return nil
        case _?: return try FieldReader(container.superDecoder(forKey: FieldKey(key)), path: name(key))
        }
    }

    mutating func strings(_ key: String, maxCount: Int, maxLength: Int = 1024) throws -> [String]? {
        switch value(key) {
        case nil: return nil
        case .array?:
            var items = try container.nestedUnkeyedContainer(forKey: FieldKey(key))
            guard (items.count ?? 0) <= maxCount else { throw FieldError(field: name(key), reason: "more than \(maxCount) items") }
            var texts: [String] = []
            while !items.isAtEnd {
                let field = "\(name(key))[\(texts.count)]"
                let item = try items.superDecoder()
                let kind = FieldKind.of(item)
                guard kind == .string, let text = try? item.singleValueContainer().decode(String.self) else {
                    throw FieldError(field: field, reason: "must be a string, not \(kind.typeName)")
                }
                guard text.utf8.count <= maxLength else { throw FieldError(field: field, reason: "longer than \(maxLength) bytes") }
                texts.append(text)
            }
            return texts
        case let other?: throw FieldError(field: name(key), reason: "must be an array of strings, not \(other.typeName)")
        }
    }

    /// The items of an array, each with its path (`streams[1]`) and a
    /// decoder to read it by its kind (a string, an object...).
    mutating func items(_ key: String, maxCount: Int) throws -> [(field: String, decoder: any Decoder)]? {
        switch value(key) {
        case nil: return nil
        case .array?:
            var items = try container.nestedUnkeyedContainer(forKey: FieldKey(key))
            guard (items.count ?? 0) <= maxCount else { throw FieldError(field: name(key), reason: "more than \(maxCount) items") }
            var found: [(field: String, decoder: any Decoder)] = []
            while !items.isAtEnd {
                found.append(("\(name(key))[\(found.count)]", try items.superDecoder()))
            }
            return found
        case let other?: throw FieldError(field: name(key), reason: "must be an array, not \(other.typeName)")
        }
    }

    /// An array of objects, each read by its own reader (`cookies[1]`).
    mutating func objects(_ key: String, maxCount: Int) throws -> [FieldReader]? {
        try items(key, maxCount: maxCount)?.map { item in try FieldReader(item.decoder, path: item.field) }
    }

    /// The fields present, in name order.
    var fieldNames: [String] { keys.sorted() }

    /// A string-to-string map (labels).
    mutating func labels(_ key: String, maxCount: Int, maxLength: Int) throws -> [String: String]? {
        guard var reader = try object(key) else { return nil }
        guard reader.keys.count <= maxCount else { throw FieldError(field: name(key), reason: "more than \(maxCount) labels") }
        var labels: [String: String] = [:]
        for label in reader.keys.sorted() {
            guard label.utf8.count <= 128, !label.isEmpty else {
                throw FieldError(field: name(key), reason: "label names must be 1 to 128 bytes")
            }
            labels[label] = try reader.string(label, maxLength: maxLength) ?? ""
        }
        return labels
    }

    /// Refuses the fields not asked for.
    func finish() throws {
        if let unknown = keys.sorted().first(where: { !asked.contains($0) }) {
            throw FieldError(field: name(unknown), reason: "unknown field")
        }
    }
}
