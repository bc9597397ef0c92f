import Foundation
import Hummingbird

/// Bearer-token check for the routes of the group it is added to (`/v1`,
/// and health and metrics unless `openHealthEndpoints`): the token is read
/// once from a file at start; the comparison takes the same time wherever
/// the tokens differ (every byte is looked at), so the answer time says
/// nothing about the token.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    /// Reads the token: the file's content without surrounding whitespace,
    /// at least 16 bytes.
    static func readToken(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FieldError(field: "--token-file", reason: "cannot read \(path)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.utf8.count >= 16 else {
            throw FieldError(field: "--token-file", reason: "\(path) must hold a token of at least 16 characters")
        }
        return Array(token.utf8)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              Self.equal(Array(header.utf8.dropFirst(7)), token) else {
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = "Bearer realm=\"recorderd\""
            return JSONAnswer.response(.unauthorized, ErrorView(error: "missing or wrong Bearer token", field: "Authorization",
                                                                reason: "unauthorized"), headers: headers)
        }
        return try await next(request, context)
    }

    /// Constant-time comparison: the time depends on the lengths only.
    static func equal(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        // The lengths compared whole: truncated to a byte, the token followed
        // by 256, 512... more bytes passed.
        var difference: UInt = given.count == expected.count ? 0 : 1
        for index in 0..<expected.count {
            let byte = index < given.count ? given[index] : 0
            difference |= UInt(byte ^ expected[index])
        }
        return difference == 0
    }
}
