extension SIPMessage {
    /// The ACK a client transaction sends for a non-2xx final response to this INVITE
    /// (RFC 3261 §17.1.1.3): the same Request-URI, Call-ID, From and CSeq number, only the top
    /// Via, the response's To (with the tag the far end chose), and this request's Route set.
    /// Nil when this is not a request or the response lacks a To.
    public func makeACK(for response: SIPMessage) -> SIPMessage? {
        guard let responseTo = response.header(.to) else { return nil }
        return makeInTransactionRequest(method: "ACK", to: responseTo)
    }

    /// A CANCEL for this request (RFC 3261 §9.1): the same Request-URI, Call-ID, To, From, CSeq
    /// number, top Via and Route set, so the far end matches it to the pending INVITE.
    public func makeCANCEL() -> SIPMessage? {
        guard let to = header(.to) else { return nil }
        return makeInTransactionRequest(method: "CANCEL", to: to)
    }

    private func makeInTransactionRequest(method: Substring, to: Substring) -> SIPMessage? {
        guard let requestLine, let cseq, let topVia = vias.first else { return nil }
        var out = SIPMessage(
            startLine: .request(SIPRequestLine(method: method, uri: requestLine.uri, version: requestLine.version)),
            headers: [],
            body: []
        )
        out.headers.reserveCapacity(8 + routes.count)
        out.headers.append(SIPHeader(name: SIPHeaderName(.via), value: topVia.raw))
        for h in headers {
            switch h.name.known {
            case .from, .callID, .route:
                out.headers.append(h)
            case .to:
                out.headers.append(SIPHeader(name: h.name, value: to))
            case .cseq:
                out.headers.append(SIPHeader(name: h.name, value: Substring("\(cseq.number) \(method)")))
            default:
                break
            }
        }
        out.headers.append(SIPHeader(.maxForwards, "70"))
        do { try out.reindex() } catch { return nil }
        return out
    }
}
