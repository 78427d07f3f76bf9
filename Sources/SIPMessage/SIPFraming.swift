/// Cuts messages out of a byte stream (TCP, TLS) by Content-Length (RFC 3261 §18.3).
public enum SIPFraming {
    public enum Result: Sendable, Hashable {
        /// Not enough bytes yet for a whole message.
        case needMoreData
        /// Leading CRLFs: a keepalive (RFC 5626 §3.5.1: CRLFCRLF ping, CRLF pong) to consume.
        case keepalive(length: Int)
        /// The first `length` bytes are one message (header section and body).
        case message(length: Int)
    }

    /// Looks at the start of `bytes` and says how much of it forms the next message. Throws
    /// when the stream cannot be framed (bad or conflicting Content-Length, oversize): the
    /// connection cannot recover and should be closed after a 400.
    public static func frameLength(_ bytes: UnsafeRawBufferPointer, maxMessageSize: Int = 65_536) throws(SIPParseError) -> Result {
        let n = bytes.count
        guard n > 0 else { return .needMoreData }
        if bytes[0] == 0x0D || bytes[0] == 0x0A {
            var i = 0
            while i < n, bytes[i] == 0x0D || bytes[i] == 0x0A { i += 1 }
            return .keepalive(length: i)
        }
        // Find the empty line ending the header section.
        var headerEnd = -1
        var bodyStart = -1
        var i = 0
        let searchLimit = min(n, maxMessageSize)
        while i < searchLimit {
            if bytes[i] == 0x0A {
                if i + 1 < n, bytes[i + 1] == 0x0A { headerEnd = i; bodyStart = i + 2; break }
                if i + 2 < n, bytes[i + 1] == 0x0D, bytes[i + 2] == 0x0A { headerEnd = i; bodyStart = i + 3; break }
            }
            i += 1
        }
        guard headerEnd >= 0 else {
            if n >= maxMessageSize { throw SIPParseError(.messageTooLarge, at: "message", "header section larger than \(maxMessageSize) octets") }
            return .needMoreData
        }
        let length = try contentLength(bytes, headerEnd: headerEnd) ?? 0
        let total = bodyStart + length
        guard total <= maxMessageSize else {
            throw SIPParseError(.messageTooLarge, at: "Content-Length", "message larger than \(maxMessageSize) octets")
        }
        return n >= total ? .message(length: total) : .needMoreData
    }

    /// Scans header lines for Content-Length (or `l`); folded values are not expected here.
    static func contentLength(_ bytes: UnsafeRawBufferPointer, headerEnd: Int) throws(SIPParseError) -> Int? {
        var found: Int?
        var lineStart = 0
        // Skip the start line.
        while lineStart < headerEnd, bytes[lineStart] != 0x0A { lineStart += 1 }
        lineStart += 1
        while lineStart <= headerEnd {
            var lineEnd = lineStart
            while lineEnd < headerEnd, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var nameEnd = lineStart
            while nameEnd < lineEnd, SIPLexical.isToken(bytes[nameEnd]) { nameEnd += 1 }
            var colon = nameEnd
            while colon < lineEnd, SIPLexical.isWSP(bytes[colon]) { colon += 1 }
            if colon < lineEnd, bytes[colon] == UInt8(ascii: ":"), isContentLengthName(bytes, lineStart, nameEnd) {
                var v = colon + 1
                while v < lineEnd, SIPLexical.isWSP(bytes[v]) { v += 1 }
                var value = 0, digits = 0
                while v < lineEnd, SIPLexical.isDigit(bytes[v]) {
                    value = value * 10 + Int(bytes[v] - 0x30); digits += 1
                    if digits > 9 { throw SIPParseError(.invalidContentLength, at: "Content-Length", "too large") }
                    v += 1
                }
                while v < lineEnd, SIPLexical.isWSP(bytes[v]) || bytes[v] == 0x0D { v += 1 }
                guard digits > 0, v == lineEnd else {
                    throw SIPParseError(.invalidContentLength, at: "Content-Length", "not a non-negative integer")
                }
                if let found, found != value {
                    throw SIPParseError(.invalidContentLength, at: "Content-Length", "conflicting values")
                }
                found = value
            }
            lineStart = lineEnd + 1
        }
        return found
    }

    private static func isContentLengthName(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
        let len = e - s
        if len == 1 { return b[s] | 0x20 == UInt8(ascii: "l") }
        guard len == 14 else { return false }
        let name = "content-length".utf8
        var i = s
        for c in name {
            let x = b[i]
            let lower = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
            if lower != c { return false }
            i += 1
        }
        return true
    }
}
