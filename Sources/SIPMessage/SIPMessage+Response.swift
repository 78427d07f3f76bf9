extension SIPMessage {
    /// A response to this request (RFC 3261 §8.2.6): Via, From, To, Call-ID and CSeq copied,
    /// a To tag added to non-100 responses when the request had none.
    public func makeResponse(status: Int, reason: String? = nil, toTag: String? = nil) -> SIPMessage {
        var out = SIPMessage(
            startLine: .response(SIPStatusLine(version: "SIP/2.0", code: status, reason: Substring(reason ?? SIPStatus.reasonPhrase(status)))),
            headers: [],
            body: []
        )
        out.headers.reserveCapacity(8)
        var retagged: [SIPHeader] = []
        for h in headers {
            switch h.name.known {
            case .via, .from, .callID, .cseq:
                out.headers.append(h)
            case .to:
                if status > 100, to?.tag == nil {
                    let tag = toTag ?? SIPMessage.randomTag()
                    let header = SIPHeader(name: h.name, value: Substring("\(h.value);tag=\(tag)"))
                    out.headers.append(header)
                    retagged.append(header)
                } else {
                    out.headers.append(h)
                }
            default:
                break
            }
        }
        // The typed views of the copied headers are the request's (already validated): only a
        // To that got a tag is parsed again (re-deriving every view cost a twentieth of the
        // edge's CPU per request).
        let mine = viewBox.views
        var views = SIPMessageViews()
        views.vias = mine.vias
        views.from = mine.from
        views.callID = mine.callID
        views.cseq = mine.cseq
        if !mine.repeatedSingletons.isEmpty { views.repeatedSingletons = mine.repeatedSingletons.intersection([.from, .to, .callID, .cseq]) }
        if retagged.isEmpty {
            views.to = mine.to
        } else {
            views.repeatedSingletons.remove(.to)
            for h in retagged { try? views.index(h) }
        }
        out.viewBox = SIPMessageViewBox(views)
        return out
    }

    /// The bytes that ``makeResponse(status:reason:toTag:)``, then ``append(_:)`` of each of
    /// `extra`, then ``serialized()`` produce, written straight from this request's header
    /// lines without building the response message. The edge answers most requests it sees
    /// this way (challenges, 200 to REGISTER); building, re-validating and then serializing a
    /// message for them was a twentieth of its CPU.
    ///
    /// `extra` is written as given, not validated: only for headers the caller made itself.
    public func serializedResponse(status: Int, reason: String? = nil, toTag: String? = nil, headers extra: [SIPHeader]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(320 + headers.count * 8 + extra.reduce(0) { $0 + $1.name.name.utf8.count + $1.value.utf8.count + 4 })
        out.append(contentsOf: "SIP/2.0 ".utf8)
        Self.appendDecimal(status, to: &out)
        out.append(0x20)
        out.append(contentsOf: (reason ?? SIPStatus.reasonPhrase(status)).utf8)
        out.append(0x0D); out.append(0x0A)
        let tagTo = status > 100 && to?.tag == nil
        for h in headers {
            switch h.name.known {
            case .via, .from, .callID, .cseq:
                Self.appendHeaderLine(h, to: &out)
            case .to:
                Self.appendHeaderLine(h, to: &out)
                if tagTo {
                    out.append(contentsOf: ";tag=".utf8)
                    if let toTag { out.append(contentsOf: toTag.utf8) } else { Self.appendHex(RandomPool.next(), to: &out) }
                }
            default:
                continue
            }
            out.append(0x0D); out.append(0x0A)
        }
        // The copied headers hold no Content-Length; the extra ones are written as serialized() does.
        Self.appendHeaderLines(extra, bodyCount: 0, to: &out)
        return out
    }

    /// A fresh random tag (64 bits, hex).
    public static func randomTag() -> String {
        String(RandomPool.next(), radix: 16)
    }

    /// `value` in lower-case hex without leading zeros, as `String(value, radix: 16)` writes it
    /// (without making that String: a response's To tag is written straight into its bytes).
    static func appendHex(_ value: UInt64, to out: inout [UInt8]) {
        let digits = max(1, (64 - value.leadingZeroBitCount + 3) / 4)
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64(shift)) & 0x0F
            out.append(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
        }
    }

    /// Builds a message from text parts; the result is parsed, so it is valid on the wire.
    public static func build(startLine: String, headers: [(String, String)], body: [UInt8] = []) throws(SIPParseError) -> SIPMessage {
        var text = startLine + "\r\n"
        for (name, value) in headers where SIPHeaderName(name).known != .contentLength {
            text += "\(name): \(value)\r\n"
        }
        text += "Content-Length: \(body.count)\r\n\r\n"
        return try parse(Array(text.utf8) + body, framing: .stream)
    }
}

/// Reason phrases for the status codes the edge sends.
public enum SIPStatus {
    public static func reasonPhrase(_ code: Int) -> String {
        switch code {
        case 100: "Trying"
        case 180: "Ringing"
        case 183: "Session Progress"
        case 200: "OK"
        case 202: "Accepted"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 413: "Request Entity Too Large"
        case 415: "Unsupported Media Type"
        case 416: "Unsupported URI Scheme"
        case 420: "Bad Extension"
        case 423: "Interval Too Brief"
        case 480: "Temporarily Unavailable"
        case 481: "Call/Transaction Does Not Exist"
        case 482: "Loop Detected"
        case 483: "Too Many Hops"
        case 486: "Busy Here"
        case 487: "Request Terminated"
        case 488: "Not Acceptable Here"
        case 500: "Server Internal Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Server Time-out"
        case 505: "Version Not Supported"
        case 513: "Message Too Large"
        default: code < 200 ? "Provisional" : code < 300 ? "Success" : "Error"
        }
    }
}
