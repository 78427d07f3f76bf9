import NIOCore
import Synchronization

/// The UDP sockets of one listener: one per event loop, all bound to the same address with
/// SO_REUSEPORT, so a datagram sent from any of them leaves from the listener's address.
///
/// A busy peer's datagrams all arrive on one socket (the kernel picks it by the peer's address
/// and port); when its read bursts are dealt out to the other loops, each loop answers its
/// share through its own socket of the listener instead of handing every answer back to the
/// loop that read it (a cross-thread hop and wake-up per share and answer).
final class SIPDatagramSiblings: Sendable {
    private let handlers = Mutex<[ObjectIdentifier: NIOLoopBound<SIPDatagramHandler>]>([:])

    init() {}

    /// Called on `loop` when a handler joins its channel's pipeline.
    func register(_ handler: SIPDatagramHandler, on loop: any EventLoop) {
        let bound = NIOLoopBound(handler, eventLoop: loop)
        handlers.withLock { $0[ObjectIdentifier(loop)] = bound }
    }

    /// Called on `loop` when the handler leaves (its channel closed).
    func unregister(_ handler: SIPDatagramHandler, on loop: any EventLoop) {
        handlers.withLock { table in
            if let bound = table[ObjectIdentifier(loop)], bound.value === handler {
                table[ObjectIdentifier(loop)] = nil
            }
        }
    }

    /// The handler of this listener's socket on `loop`; must be called on `loop`.
    func handler(on loop: any EventLoop) -> SIPDatagramHandler? {
        handlers.withLock { $0[ObjectIdentifier(loop)] }?.value
    }
}
