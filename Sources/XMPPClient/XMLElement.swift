/// An XML element as XMPP carries it: a stanza (`iq`, `presence`, `message`)
/// or one of its children. Values only; the client converts to and from
/// libstrophe's stanzas on its own thread.
///
/// `namespace` is the element's `xmlns` (nil: inherited from the parent, as
/// written); `attributes` never hold `xmlns`. `text` is the concatenated
/// character data directly inside the element (nil: none).
public struct XMLElement: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var namespace: String?
    public var attributes: [String: String]
    public var children: [XMLElement]
    public var text: String?

    public init(_ name: String, namespace: String? = nil, attributes: [String: String] = [:],
                children: [XMLElement] = [], text: String? = nil) {
        self.name = name
        self.namespace = namespace
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The attribute's value, nil when absent.
    public subscript(attribute: String) -> String? {
        get { attributes[attribute] }
        set { attributes[attribute] = newValue }
    }

    /// The first child with this name (and namespace, when given).
    public func child(_ name: String, namespace: String? = nil) -> XMLElement? {
        children.first { $0.name == name && (namespace == nil || $0.namespace == namespace) }
    }

    // Stanza attributes, by their XMPP names.
    public var id: String? { attributes["id"] }
    public var type: String? { attributes["type"] }
    public var from: String? { attributes["from"] }
    public var to: String? { attributes["to"] }

    /// An `<iq>` of `type` (get, set, result, error) with its payload.
    public static func iq(type: String, id: String, to: String?, children: [XMLElement] = []) -> XMLElement {
        var attributes = ["type": type, "id": id]
        attributes["to"] = to
        return XMLElement("iq", attributes: attributes, children: children)
    }

    /// The `result` answer to `request` (an `iq` get or set): same id, to its sender.
    public static func result(to request: XMLElement, children: [XMLElement] = []) -> XMLElement {
        iq(type: "result", id: request.id ?? "", to: request.from, children: children)
    }

    /// The `error` answer to `request` with an RFC 6120 stanza error: `errorType`
    /// (cancel, modify, ...) and `condition` (bad-request, service-unavailable, ...).
    public static func error(to request: XMLElement, errorType: String, condition: String) -> XMLElement {
        let error = XMLElement("error", attributes: ["type": errorType], children: [
            XMLElement(condition, namespace: "urn:ietf:params:xml:ns:xmpp-stanzas"),
        ])
        return iq(type: "error", id: request.id ?? "", to: request.from, children: [error])
    }

    /// The element as XML text (for logs and tests: attribute order sorted).
    public var description: String {
        var out = "<\(name)"
        if let namespace { out += " xmlns='\(Self.escape(namespace))'" }
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) { out += " \(key)='\(Self.escape(value))'" }
        if children.isEmpty && text == nil { return out + "/>" }
        out += ">"
        if let text { out += Self.escape(text) }
        for child in children { out += child.description }
        return out + "</\(name)>"
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "'": out += "&apos;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
