import CStrophe

/// XMLElement to and from libstrophe's stanzas; only on the loop's thread.
enum StanzaConversion {
    /// A new stanza (the caller releases it) holding `element`'s tree.
    static func stanza(_ element: XMLElement, context: OpaquePointer) -> OpaquePointer {
        let stanza = xmpp_stanza_new(context)!
        xmpp_stanza_set_name(stanza, element.name)
        if let namespace = element.namespace { xmpp_stanza_set_ns(stanza, namespace) }
        for (key, value) in element.attributes where key != "xmlns" {
            xmpp_stanza_set_attribute(stanza, key, value)
        }
        if let text = element.text {
            let node = xmpp_stanza_new(context)!
            xmpp_stanza_set_text(node, text)
            xmpp_stanza_add_child(stanza, node)
            xmpp_stanza_release(node)
        }
        for child in element.children {
            let node = self.stanza(child, context: context)
            xmpp_stanza_add_child(stanza, node)
            xmpp_stanza_release(node)
        }
        return stanza
    }

    /// The tree under `stanza` as values (text nodes joined into `text`).
    static func element(_ stanza: OpaquePointer) -> XMLElement {
        let name = xmpp_stanza_get_name(stanza).map { String(cString: $0) } ?? ""
        var element = XMLElement(name, namespace: xmpp_stanza_get_ns(stanza).map { String(cString: $0) })
        let count = Int(xmpp_stanza_get_attribute_count(stanza))
        if count > 0 {
            var pairs = [UnsafePointer<CChar>?](repeating: nil, count: count * 2)
            let filled = Int(xmpp_stanza_get_attributes(stanza, &pairs, Int32(count * 2)))
            var index = 0
            while index + 1 < filled {
                if let key = pairs[index], let value = pairs[index + 1] {
                    let name = String(cString: key)
                    if name != "xmlns" { element.attributes[name] = String(cString: value) }
                }
                index += 2
            }
        }
        var child = xmpp_stanza_get_children(stanza)
        while let node = child {
            if xmpp_stanza_is_text(node) != 0 {
                if let text = xmpp_stanza_get_text_ptr(node) {
                    element.text = (element.text ?? "") + String(cString: text)
                }
            } else {
                element.children.append(Self.element(node))
            }
            child = xmpp_stanza_get_next(node)
        }
        return element
    }
}
