import Hummingbird
import Synchronization

/// The methods each route serves, for the 405 of a method a path does not
/// serve (with `Allow`). Filled once the routes are added
/// (`buildRouter`), read by `ErrorMiddleware` for what the router found no
/// route for.
final class RouteMethods: Sendable {
    /// Path components (`nil`: a parameter) and the method.
    private let routes = Mutex<[(components: [String?], method: HTTPRequest.Method)]>([])

    func record<Context: RequestContext>(_ router: Router<Context>) {
        let table = router.routes.map { route in
            (components: route.path.description.split(separator: "/").map { component in
                component.hasPrefix(":") || component.hasPrefix("{") || component == "*" ? nil : String(component)
            },
             method: route.method)
        }
        routes.withLock { $0 = table }
    }

    /// The methods served at `path`, sorted; empty when no route matches it.
    func allowed(at path: String) -> [String] {
        let components = path.split(separator: "/")
        let methods = routes.withLock { routes in
            routes.filter { route in
                route.components.count == components.count
                    && zip(route.components, components).allSatisfy { $0 == nil || $0! == $1 }
            }.map(\.method.rawValue)
        }
        return Set(methods).sorted()
    }
}
