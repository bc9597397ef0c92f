import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The DevTools protocol over Chromium's `--remote-debugging-pipe`: JSON
/// messages, each ended by a NUL byte, on one end of a socket pair whose
/// other end the browser has as fd 3 (it reads) and fd 4 (it writes).
///
/// One reader thread, owned here, blocks in `recv` and matches answers to
/// commands by id; every other message is an event for `onEvent`. Writes are
/// serialized. A socket rather than a pipe: `send(MSG_NOSIGNAL)` cannot raise
/// SIGPIPE in this process when the browser is gone.
final class DevToolsConnection: Sendable {
    typealias EventHandler = @Sendable (_ method: String, _ params: JSONValue, _ sessionId: String?) -> Void
    typealias EndHandler = @Sendable (_ how: String) -> Void

    private struct Pending {
        var answer: PendingAnswer<JSONValue>
        var session: String?
    }
    private struct State {
        var nextId = 0
        var pending: [Int: Pending] = [:]
        /// Set when the pipe ended: every later command fails with it.
        var ended: BrowserError?
        var onEvent: EventHandler?
        var onEnd: EndHandler?
        var descriptor: Int32
    }
    private let state: Mutex<State>
    private let writing = Mutex(())
    private let socket: Int32
    private let readerEnded = DispatchSemaphore(value: 0)
    private let endDescription: @Sendable () -> String

    /// Takes ownership of `socket` (our end of the pair) and starts the reader.
    /// `endDescription` says how the browser ended once the pipe closed (it may block up to a second).
    init(socket: Int32, endDescription: @escaping @Sendable () -> String) {
        self.socket = socket
        self.endDescription = endDescription
        state = Mutex(State(descriptor: socket))
        let thread = Thread { [self] in readLoop() }
        thread.name = "devtools-reader"
        thread.stackSize = 512 << 10
        thread.start()
    }

    /// Where events and the pipe's end go (set once, before the first command).
    func setHandlers(onEvent: @escaping EventHandler, onEnd: @escaping EndHandler) {
        state.withLock { state in
            state.onEvent = onEvent
            state.onEnd = onEnd
        }
    }

    /// Sends `method` and waits for its answer's `result`, at most `timeout`
    /// (`.timedOut(what)`); an error answer gives `.protocolError(message)`.
    func command(_ method: String, _ params: [String: JSONValue] = [:], session: String? = nil,
                 timeout: Duration, what: String? = nil) async -> Result<JSONValue, BrowserError> {
        let answer = PendingAnswer<JSONValue>()
        let registered: Result<Int, BrowserError> = state.withLock { state in
            if let ended = state.ended { return .failure(ended) }
            state.nextId += 1
            state.pending[state.nextId] = Pending(answer: answer, session: session)
            return .success(state.nextId)
        }
        let id: Int
        switch registered {
        case .failure(let error): return .failure(error)
        case .success(let value): id = value
        }
        if let failure = write(id: id, method: method, params: params, session: session) { answer.resolve(.failure(failure)) }
        let result = await answer.wait(timeout: timeout, what: what ?? method)
        _ = state.withLock { $0.pending.removeValue(forKey: id) }
        return result
    }

    /// Sends `method` without waiting for its answer (which is dropped when it comes).
    func post(_ method: String, _ params: [String: JSONValue] = [:], session: String? = nil) {
        let id: Int? = state.withLock { state in
            guard state.ended == nil else { return nil }
            state.nextId += 1
            return state.nextId
        }
        if let id { _ = write(id: id, method: method, params: params, session: session) }
    }

    /// Fails every command awaiting an answer in `session` (a crashed page's).
    func fail(session: String, with error: BrowserError) {
        let answers = state.withLock { state in state.pending.values.filter { $0.session == session }.map(\.answer) }
        for answer in answers { answer.resolve(.failure(error)) }
    }

    /// Ends the connection: the browser reads the end of its input (and closes
    /// itself), the reader thread sees the end, and is joined. Idempotent.
    func close() {
        let descriptor: Int32? = state.withLock { state in
            defer { state.descriptor = -1 }
            return state.descriptor >= 0 ? state.descriptor : nil
        }
        guard let descriptor else { return }
        shutdown(descriptor, Int32(SHUT_RDWR))
        readerEnded.wait()
        Glibc.close(descriptor)
    }

    // MARK: The wire

    private func write(id: Int, method: String, params: [String: JSONValue], session: String?) -> BrowserError? {
        var message: [String: Any] = ["id": id, "method": method, "params": params.mapValues(\.foundation)]
        if let session { message["sessionId"] = session }
        guard var bytes = try? JSONSerialization.data(withJSONObject: message) else {
            return .protocolError("\(method): parameters not serializable")
        }
        bytes.append(0)
        return writing.withLock { _ -> BrowserError? in
            bytes.withUnsafeBytes { raw -> BrowserError? in
                var offset = 0
                while offset < raw.count {
                    let sent = send(socket, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    if sent < 0 {
                        if errno == EINTR { continue }
                        return .browserExited("pipe closed")
                    }
                    offset += sent
                }
                return nil
            }
        }
    }

    private func readLoop() {
        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 16)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            var searchFrom = buffer.count
            buffer.append(contentsOf: chunk[0..<count])
            var start = 0
            while let end = buffer[searchFrom...].firstIndex(of: 0) {
                dispatch(Data(buffer[start..<end]))
                start = end + 1
                searchFrom = start
            }
            if start > 0 { buffer.removeSubrange(0..<start) }
        }
        ended(how: endDescription())
        readerEnded.signal()
    }

    private func dispatch(_ bytes: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: bytes) else { return }
        let message = JSONValue(foundation: object)
        if let id = message["id"]?.number {
            let answer = state.withLock { $0.pending[Int(id)]?.answer }
            if let error = message["error"] {
                answer?.resolve(.failure(.protocolError(error["message"]?.string ?? "error \(error["code"]?.number ?? 0)")))
            } else {
                answer?.resolve(.success(message["result"] ?? .object([:])))
            }
        } else if let method = message["method"]?.string {
            let handler = state.withLock { $0.onEvent }
            handler?(method, message["params"] ?? .object([:]), message["sessionId"]?.string)
        }
    }

    private func ended(how: String) {
        let error = BrowserError.browserExited(how)
        let (answers, onEnd) = state.withLock { state in
            state.ended = error
            let answers = state.pending.values.map(\.answer)
            let onEnd = state.onEnd
            // The handlers hold the pages, which hold this connection.
            state.onEvent = nil
            state.onEnd = nil
            return (answers, onEnd)
        }
        for answer in answers { answer.resolve(.failure(error)) }
        onEnd?(how)
    }
}
