public import NIOCore
public import SIPMessage
public import SIPTransport
public import TrunkgateModel

/// Where one attempt of an inbound call (PSTN → customer) goes: the Request-URI to use and the
/// address the INVITE is sent to.
public struct InboundTarget: Sendable, Hashable {
    public var uri: SIPURI
    /// The user part of the Request-URI (the DID for destinations, the registered user for contacts).
    public var user: String?
    /// Address, transport and TLS name the INVITE goes to.
    public var hop: CallManager.Hop
    public var address: SocketAddress { hop.address }
    /// What the target came from, for logs: a destination sid or a registration binding's contact.
    public var label: String
    /// Credentials for a destination that challenges (401/407); the password stays sealed with
    /// the server key until the challenge comes.
    public var authUsername: String?
    public var authPasswordSealed: String?

    public init(uri: SIPURI, user: String?, hop: CallManager.Hop, label: String, authUsername: String? = nil, authPasswordSealed: String? = nil) {
        self.uri = uri
        self.user = user
        self.hop = hop
        self.label = label
        self.authUsername = authUsername
        self.authPasswordSealed = authPasswordSealed
    }

    /// A trunk's destination URIs in the order calls try them: ascending priority, and within a
    /// priority a weighted random order (a destination with weight 30 comes first three times as
    /// often as one with weight 10). Weight 0 destinations come last in their priority.
    public static func order(_ destinations: [DestinationURI], random: (Int) -> Int = { Int.random(in: 0..<$0) }) -> [DestinationURI] {
        let byPriority = Dictionary(grouping: destinations, by: \.priority)
        var out: [DestinationURI] = []
        for priority in byPriority.keys.sorted() {
            var pool = byPriority[priority]!.sorted { $0.sid < $1.sid }
            while !pool.isEmpty {
                let total = pool.reduce(0) { $0 + max(0, $1.weight) }
                var pick = 0
                if total > 0 {
                    var r = random(total)
                    for (i, d) in pool.enumerated() where d.weight > 0 {
                        if r < d.weight { pick = i; break }
                        r -= d.weight
                    }
                }
                out.append(pool.remove(at: pick))
            }
        }
        return out
    }

    /// The destination as a URI (`sip:` added when it has no scheme).
    public static func uri(of destination: String) -> SIPURI? {
        let lower = destination.lowercased()
        let text = lower.hasPrefix("sip:") || lower.hasPrefix("sips:") ? destination : "sip:" + destination
        return try? SIPURI(parsing: text)
    }

    /// The transport a URI asks for: its `transport` parameter, TLS for `sips:`, else nil
    /// (RFC 3263 then lets DNS decide; without NAPTR/SRV records it is UDP).
    public static func transport(of uri: SIPURI) -> SIPTransportProtocol? {
        if uri.scheme == .sips { return .tls }
        return uri.transportParameter.flatMap { SIPTransportProtocol(rawValue: $0.lowercased()) }
    }

    /// Resolves a destination to the hops to try, in order (RFC 3263 through ``SIPLocator``:
    /// NAPTR and SRV when neither port nor transport is given, else A/AAAA). Blocking, so
    /// called off the event loops. Empty when it cannot be resolved or its transport is unknown.
    public static func resolve(_ destination: DestinationURI, calledNumber: String, locator: SIPLocator) -> [InboundTarget] {
        guard let uri = uri(of: destination.destination) else { return [] }
        if let given = uri.transportParameter, SIPTransportProtocol(rawValue: given.lowercased()) == nil { return [] }
        let host = uri.host.hasPrefix("[") ? String(uri.host.dropFirst().dropLast()) : String(uri.host)
        let isName = IPAddress(host) == nil
        return locator.locate(host: host, port: uri.port, transport: transport(of: uri), secure: uri.scheme == .sips).map { found in
            InboundTarget(uri: uri, user: calledNumber,
                          hop: CallManager.Hop(address: found.address, transport: found.transport, serverName: isName ? found.tlsName ?? host : nil),
                          label: destination.sid, authUsername: destination.authUsername, authPasswordSealed: destination.authPasswordSealed)
        }
    }
}
