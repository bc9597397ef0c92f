import Foundation

/// A joinable thread for tests (Foundation's `Thread` cannot be joined).
public final class TestThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: @Sendable () -> Void

    public init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    public func start() {
        let box = Unmanaged.passRetained(self)
        pthread_create(&handle, nil, { raw in
            let thread = Unmanaged<TestThread>.fromOpaque(raw!).takeRetainedValue()
            thread.body()
            return nil
        }, box.toOpaque())
    }

    public func join() { pthread_join(handle, nil) }

    public static func runAll(_ threads: [TestThread]) async {
        for thread in threads { thread.start() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                for thread in threads { thread.join() }
                continuation.resume()
            }
        }
    }
}

