/// A cookie set before navigating (`Network.setCookies`): `url`, or `domain`
/// and `path`, say where it applies. Its value is never logged.
public struct BrowserCookie: Sendable {
    public var name: String
    public var value: String
    public var url: String?
    public var domain: String?
    public var path: String?

    public init(name: String, value: String, url: String? = nil, domain: String? = nil, path: String? = nil) {
        self.name = name
        self.value = value
        self.url = url
        self.domain = domain
        self.path = path
    }
}
