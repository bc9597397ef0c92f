import Foundation

/// A JSON value: what `Page.evaluate` returns, and what DevTools messages are read into.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member `key` of an object; nil for a missing key or another kind of value.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    /// The string, or nil.
    public var string: String? { if case .string(let value) = self { value } else { nil } }
    /// The number, or nil.
    public var number: Double? { if case .number(let value) = self { value } else { nil } }
    /// The array's elements, or nil.
    public var array: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    /// The boolean, or nil.
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
}

extension JSONValue {
    /// Reads what `JSONSerialization` made (NSNumber booleans are told from numbers).
    init(foundation value: Any) {
        switch value {
        case let string as String: self = .string(string)
        case let number as NSNumber:
            // JSON's true and false come as a boolean NSNumber (type code "c");
            // JSON has no Int8 that could share the code.
            if number.objCType.pointee == CChar(UInt8(ascii: "c")) { self = .bool(number.boolValue) } else { self = .number(number.doubleValue) }
        case let array as [Any]: self = .array(array.map(JSONValue.init(foundation:)))
        case let object as [String: Any]: self = .object(object.mapValues(JSONValue.init(foundation:)))
        default: self = .null
        }
    }

    /// The value as `JSONSerialization` writes it.
    var foundation: Any {
        switch self {
        case .null: NSNull()
        case .bool(let value): value
        case .number(let value): value
        case .string(let value): value
        case .array(let values): values.map(\.foundation)
        case .object(let members): members.mapValues(\.foundation)
        }
    }
}
