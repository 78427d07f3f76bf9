public import SIPMessage

/// What identifies a server transaction (RFC 3261 §17.2.3): the top Via branch, its sent-by,
/// and the method (ACK is matched to its INVITE). Requests from RFC 2543 clients without the
/// magic cookie fall back to Request-URI, tags, Call-ID, CSeq and the top Via.
public struct ServerTransactionKey: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public init?(_ request: SIPMessage) {
        guard let method = request.method, let via = request.topVia, let cseq = request.cseq else { return nil }
        let matchMethod = (method == "ACK" || method == "CANCEL") ? (method == "ACK" ? "INVITE" : "CANCEL") : String(method)
        let sentBy = via.host.lowercased() + ":" + String(via.port ?? 0)
        if via.hasRFC3261Branch, let branch = via.branch {
            value = "\(branch)|\(sentBy)|\(matchMethod)"
        } else {
            // RFC 2543 §17.2.3 fallback. The To tag is left out so that the ACK (which carries
            // the tag our response added) matches its INVITE.
            let uri = request.requestURI.map { String($0.raw) } ?? ""
            value = "2543|\(uri)|\(request.from?.tag ?? "")|\(request.callID ?? "")|\(cseq.number)|\(matchMethod)|\(sentBy)|\(via.branch ?? "")"
        }
    }

    public var description: String { value }
}
