public import NIOCore
import Synchronization

/// The UDP sockets the edge sends its own requests from (the B2BUA's legs toward the carrier
/// and destinations): the listeners' sockets, so the far end sees the edge's listening address
/// and port and its responses come back to a listener. Filled in when the listeners bind.
public final class SIPOutboundSockets: Sendable {
    private let channels = Mutex<[any Channel]>([])

    public init() {}

    func register(_ bound: [any Channel]) {
        channels.withLock { $0.append(contentsOf: bound) }
    }

    func clear() {
        channels.withLock { $0.removeAll() }
    }

    /// The listener address a request to `destination` leaves from (for Via and Contact).
    public func localAddress(toward destination: SocketAddress) -> SocketAddress? {
        channel(toward: destination)?.localAddress
    }

    /// Sends a datagram to `destination`; false when no UDP listener of that address family exists.
    @discardableResult
    public func send(_ bytes: [UInt8], to destination: SocketAddress) -> Bool {
        guard let channel = channel(toward: destination) else { return false }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: buffer), promise: nil)
        return true
    }

    private func channel(toward destination: SocketAddress) -> (any Channel)? {
        channels.withLock { list in
            // Prefer a socket bound to a specific address of the right family (its address is
            // what goes into Via), then a wildcard one.
            let family = list.filter { $0.localAddress?.protocol == destination.protocol }
            return family.first { $0.localAddress?.ipAddress != "0.0.0.0" && $0.localAddress?.ipAddress != "::" } ?? family.first
        }
    }
}
