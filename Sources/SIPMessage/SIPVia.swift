/// One Via header value (RFC 3261 §20.42, RFC 3581 rport).
public struct SIPVia: Sendable, Hashable, CustomStringConvertible {
    public enum RPort: Sendable, Hashable {
        case absent
        /// `;rport` without a value: the client asks for one (RFC 3581).
        case requested
        case value(Int)
    }

    public let raw: Substring
    /// `SIP`, `2.0`, and the transport as written (e.g. `UDP`, `TLS`, `SCTP`, or an unknown token).
    public let protocolName: Substring
    public let protocolVersion: Substring
    public let transport: Substring
    /// sent-by host as written; an IPv6 reference keeps its brackets.
    public let host: Substring
    public let port: Int?
    public let parameters: SIPParameters

    public init(parsing text: Substring) throws(SIPParseError) {
        let location = "Via"
        raw = text
        let u = text.utf8
        var i = u.startIndex
        let end = u.endIndex
        func skipWSP() { while i < end, SIPLexical.isWSP(u[i]) { i = u.index(after: i) } }
        func token() -> Substring {
            let s = i
            while i < end, SIPLexical.isToken(u[i]) { i = u.index(after: i) }
            return Substring(u[s..<i])
        }
        func fail(_ d: String) -> SIPParseError { SIPParseError(.invalidHeaderValue, at: location, d) }
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport (LWS allowed around '/').
        skipWSP()
        protocolName = token(); skipWSP()
        guard !protocolName.isEmpty, i < end, u[i] == UInt8(ascii: "/") else { throw fail("malformed sent-protocol") }
        i = u.index(after: i); skipWSP()
        protocolVersion = token(); skipWSP()
        guard !protocolVersion.isEmpty, i < end, u[i] == UInt8(ascii: "/") else { throw fail("malformed sent-protocol") }
        i = u.index(after: i); skipWSP()
        transport = token()
        guard !transport.isEmpty, i < end, SIPLexical.isWSP(u[i]) else { throw fail("malformed sent-protocol") }
        skipWSP()
        // sent-by = host [ COLON port ]
        let hostStart = i
        if i < end, u[i] == UInt8(ascii: "[") {
            while i < end, u[i] != UInt8(ascii: "]") {
                guard u[i] == UInt8(ascii: "[") || SIPLexical.isHex(u[i]) || u[i] == UInt8(ascii: ":") || u[i] == UInt8(ascii: ".") else {
                    throw fail("invalid IPv6 reference in sent-by")
                }
                i = u.index(after: i)
            }
            guard i < end else { throw fail("unterminated IPv6 reference in sent-by") }
            i = u.index(after: i)
        } else {
            while i < end, SIPLexical.isHostnameChar(u[i]) { i = u.index(after: i) }
        }
        guard i > hostStart else { throw fail("missing sent-by host") }
        host = Substring(u[hostStart..<i])
        skipWSP()
        var port: Int?
        if i < end, u[i] == UInt8(ascii: ":") {
            i = u.index(after: i); skipWSP()
            var value = 0, digits = 0
            while i < end, SIPLexical.isDigit(u[i]) {
                value = value * 10 + Int(u[i] - 0x30); digits += 1
                guard digits <= 5 else { throw fail("port too long") }
                i = u.index(after: i)
            }
            guard digits > 0, value <= 65535 else { throw fail("invalid port") }
            port = value
        }
        self.port = port
        parameters = try SIPParameters(parsing: Substring(u[i..<end]), kind: .header, location: location)
        // Check the parameters whose values have a defined range (RFC 3261 §20.42, RFC 3581).
        if let ttl = parameters.value("ttl") {
            guard let v = sipParseUInt(ttl, max: 255) else { throw fail("ttl out of range") }
            _ = v
        }
        if let rp = parameters.value("rport") {
            guard sipParseUInt(rp, max: 65535) != nil else { throw fail("invalid rport") }
        }
    }

    public init(parsing text: String) throws(SIPParseError) { try self.init(parsing: Substring(text)) }

    public var branch: Substring? { parameters.value("branch") }
    public var received: Substring? { parameters.value("received") }
    public var maddr: Substring? { parameters.value("maddr") }
    public var ttl: Int? { parameters.value("ttl").flatMap { sipParseUInt($0, max: 255) }.map { Int($0) } }

    public var rport: RPort {
        var result = RPort.absent
        parameters.forEach { name, value in
            guard name.equalsLowercase("rport") else { return true }
            if let value, let v = sipParseUInt(value, max: 65535) { result = .value(Int(v)) } else { result = .requested }
            return false
        }
        return result
    }

    /// True when the branch carries the RFC 3261 magic cookie (and more than just the cookie).
    public var hasRFC3261Branch: Bool {
        guard let b = branch else { return false }
        return b.utf8.count > 7 && b.hasPrefix("z9hG4bK")
    }

    /// The transport, upper-cased.
    public var transportName: String { transport.uppercased() }

    public var description: String { String(raw) }
}

/// Parses 1*DIGIT (leading zeros allowed) no larger than `max`; nil when empty, non-digit, or too large.
@usableFromInline
func sipParseUInt(_ s: Substring, max: UInt64) -> UInt64? {
    let u = s.utf8
    guard !u.isEmpty else { return nil }
    var v: UInt64 = 0
    for b in u {
        guard SIPLexical.isDigit(b) else { return nil }
        v = v &* 10 &+ UInt64(b - 0x30)
        if v > max { return nil }
    }
    return v
}
