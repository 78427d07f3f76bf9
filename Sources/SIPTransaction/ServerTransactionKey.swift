public import SIPMessage

/// What identifies a server transaction (RFC 3261 §17.2.3): the top Via branch, its sent-by,
/// and the method (ACK is matched to its INVITE). Requests from RFC 2543 clients without the
/// magic cookie fall back to Request-URI, tags, Call-ID, CSeq and the top Via.
public struct ServerTransactionKey: Sendable, Hashable, CustomStringConvertible {
    public let value: String
    /// `value`'s hash (seeded per process, like every Swift hash), computed once: a key is
    /// hashed for its shard and again by each table operation (receive, respond, timers).
    private let hashCode: Int

    public init?(_ request: SIPMessage) {
        guard let method = request.method, let via = request.topVia, let cseq = request.cseq else { return nil }
        let matchMethod: Substring = method == "ACK" ? "INVITE" : method
        let port = via.port ?? 0
        if let branch = via.branch, SIPVia.isRFC3261Branch(branch) {
            // branch|host:port|method, in one buffer (host lower-cased: sent-by compares so;
            // read once, as the Via makes it on each read).
            let host = via.host
            var key = String()
            key.reserveCapacity(branch.utf8.count + host.utf8.count + matchMethod.utf8.count + 8)
            key.append(contentsOf: branch)
            key.append("|")
            if host.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A || $0 >= 0x80 }) {
                key.append(host.lowercased())
            } else {
                key.append(contentsOf: host)
            }
            key.append(":")
            key.append(String(port))
            key.append("|")
            key.append(contentsOf: matchMethod)
            value = key
        } else {
            // RFC 2543 §17.2.3 fallback. The To tag is left out so that the ACK (which carries
            // the tag our response added) matches its INVITE.
            let sentBy = via.host.lowercased() + ":" + String(port)
            let uri = request.requestURI.map { String($0.raw) } ?? ""
            value = "2543|\(uri)|\(request.from?.tag ?? "")|\(request.callID ?? "")|\(cseq.number)|\(matchMethod)|\(sentBy)|\(via.branch ?? "")"
        }
        hashCode = value.hashValue
    }

    public var description: String { value }

    public static func == (a: Self, b: Self) -> Bool {
        a.hashCode == b.hashCode && a.value == b.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(hashCode)
    }
}
