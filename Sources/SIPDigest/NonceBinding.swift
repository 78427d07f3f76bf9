/// What a nonce is bound to besides its realm: it verifies only for the same trunk and, when
/// given at issue time, the same source IP and transport.
///
/// Binding to the source IP confines a captured nonce (and any replay of it on another node,
/// whose nonce-count window is separate) to the address it was issued to. Pass the values in one
/// canonical text form (e.g. the IP as the transport layer prints it, the transport lower-cased).
public struct NonceBinding: Sendable, Hashable {
    public var trunk: String
    public var sourceIP: String?
    public var transport: String?

    public init(trunk: String, sourceIP: String? = nil, transport: String? = nil) {
        self.trunk = trunk
        self.sourceIP = sourceIP
        self.transport = transport
    }
}
