import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Closes the connection after any answer of 400 or above, which it marks
/// `Connection: close`: a refused request (a head over `maxHeaderBytes`,
/// which NIO's decoder refuses and Hummingbird answers 400; a body over
/// `maxBodyBytes`; a bad token) leaves nothing open within `linger`, and
/// the rest of a refused body is not waited for. Hummingbird itself only half-closes after a
/// parse error and waits for the client to close.
///
/// In the HTTP/1 pipeline between Hummingbird's codec and its connection
/// state handler (`HTTP1Channel.Configuration.additionalChannelHandlers`),
/// one per connection.
final class CloseOnRefusalHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// How long a refused connection stays half-closed: the client reads
    /// the answer meanwhile.
    static let linger = TimeAmount.milliseconds(500)
    private var closeAfterEnd = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case var .head(head) where head.status.code >= 400:
            closeAfterEnd = true
            head.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end where closeAfterEnd:
            closeAfterEnd = false
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            // Half-close first so that the answer arrives before the reset
            // that closing with unread input sends; close a moment later.
            let channel = context.channel
            written.futureResult.whenComplete { _ in
                channel.close(mode: .output, promise: nil)
                channel.eventLoop.scheduleTask(in: Self.linger) { channel.close(promise: nil) }
            }
        default:
            context.write(data, promise: promise)
        }
    }
}
