import Synchronization

/// Routes the browser's events: the first page target found (for launch),
/// then everything of that page's session and target to its `Page`.
final class TargetRouter: Sendable {
    /// The first page target's id, from `Target.targetCreated`.
    let firstPage = PendingAnswer<String>()
    private let page = Mutex<Page?>(nil)

    func attach(_ page: Page) { self.page.withLock { $0 = page } }

    func handle(_ method: String, _ params: JSONValue, _ sessionId: String?) {
        let page = self.page.withLock { $0 }
        if let sessionId {
            if let page, page.sessionId == sessionId { page.handle(method, params) }
            return
        }
        switch method {
        case "Target.targetCreated":
            if params["targetInfo"]?["type"]?.string == "page", let id = params["targetInfo"]?["targetId"]?.string {
                firstPage.resolve(.success(id))
            }
        case "Target.targetCrashed":
            if let page, params["targetId"]?.string == page.targetId { page.crashed() }
        default:
            break
        }
    }

    func ended(_ how: String) {
        firstPage.resolve(.failure(.browserExited(how)))
        let page = self.page.withLock { page in
            defer { page = nil }
            return page
        }
        page?.browserExited(how)
    }
}
