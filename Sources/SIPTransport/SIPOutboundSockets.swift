public import NIOCore
import Synchronization

/// The UDP sockets the edge sends its own requests from (the B2BUA's legs toward the carrier
/// and destinations): the listeners' sockets, so the far end sees the edge's listening address
/// and port and its responses come back to a listener. Filled in when the listeners bind.
public final class SIPOutboundSockets: Sendable {
    /// One socket per address family, chosen when the listeners bind: a socket bound to a
    /// specific address (what goes into Via) is preferred to a wildcard one.
    private let byFamily = Mutex<(inet: (any Channel)?, inet6: (any Channel)?)>((nil, nil))

    public init() {}

    func register(_ bound: [any Channel]) {
        byFamily.withLock { chosen in
            for channel in bound {
                guard let local = channel.localAddress else { continue }
                let specific = local.ipAddress != "0.0.0.0" && local.ipAddress != "::"
                switch local.protocol {
                case .inet6:
                    if chosen.inet6 == nil || (specific && chosen.inet6?.localAddress?.ipAddress == "::") { chosen.inet6 = channel }
                default:
                    if chosen.inet == nil || (specific && chosen.inet?.localAddress?.ipAddress == "0.0.0.0") { chosen.inet = channel }
                }
            }
        }
    }

    func clear() {
        byFamily.withLock { $0 = (nil, nil) }
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
        byFamily.withLock { destination.protocol == .inet6 ? $0.inet6 : $0.inet }
    }
}
