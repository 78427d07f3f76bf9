/// One Via header value (RFC 3261 §20.42, RFC 3581 rport).
public struct SIPVia: Sendable, Hashable, CustomStringConvertible {
    public enum RPort: Sendable, Hashable {
        case absent
        /// `;rport` without a value: the client asks for one (RFC 3581).
        case requested
        case value(Int)
    }

    public let raw: Substring
    public let port: Int?
    /// Where the parts lie in `raw` (see ``SIPSpan``).
    private let protocolNameSpan, protocolVersionSpan, transportSpan, hostSpan, parametersSpan: SIPSpan

    /// `SIP`, `2.0`, and the transport as written (e.g. `UDP`, `TLS`, `SCTP`, or an unknown token).
    public var protocolName: Substring { raw.slice(protocolNameSpan) }
    public var protocolVersion: Substring { raw.slice(protocolVersionSpan) }
    public var transport: Substring { raw.slice(transportSpan) }
    /// sent-by host as written; an IPv6 reference keeps its brackets.
    public var host: Substring { raw.slice(hostSpan) }
    public var parameters: SIPParameters { SIPParameters(unchecked: raw.slice(parametersSpan), kind: .header) }

    public init(parsing text: Substring) throws(SIPParseError) {
        let location = "Via"
        guard sipFitsSpans(text) else { throw SIPParseError(.invalidHeaderValue, at: location, "too long") }
        raw = text
        func fail(_ d: String) -> SIPParseError { SIPParseError(.invalidHeaderValue, at: location, d) }
        // Offsets of each part, found over the bytes; Substrings are made once at the end.
        struct Parts {
            var protocolName = 0..<0, protocolVersion = 0..<0, transport = 0..<0, host = 0..<0
            var port: Int?
            var parameters = 0
        }
        let parts = try text.withUTF8Bytes { u throws(SIPParseError) -> Parts in
            let end = u.count
            var i = 0
            var parts = Parts()
            func skipWSP() { while i < end, SIPLexical.isWSP(u[i]) { i += 1 } }
            func token() -> Range<Int> {
                let start = i
                while i < end, SIPLexical.isToken(u[i]) { i += 1 }
                return start..<i
            }
            // sent-protocol = protocol-name SLASH protocol-version SLASH transport (LWS allowed around '/').
            skipWSP()
            parts.protocolName = token(); skipWSP()
            guard !parts.protocolName.isEmpty, i < end, u[i] == UInt8(ascii: "/") else { throw fail("malformed sent-protocol") }
            i += 1; skipWSP()
            parts.protocolVersion = token(); skipWSP()
            guard !parts.protocolVersion.isEmpty, i < end, u[i] == UInt8(ascii: "/") else { throw fail("malformed sent-protocol") }
            i += 1; skipWSP()
            parts.transport = token()
            guard !parts.transport.isEmpty, i < end, SIPLexical.isWSP(u[i]) else { throw fail("malformed sent-protocol") }
            skipWSP()
            // sent-by = host [ COLON port ]
            let hostStart = i
            if i < end, u[i] == UInt8(ascii: "[") {
                while i < end, u[i] != UInt8(ascii: "]") {
                    guard u[i] == UInt8(ascii: "[") || SIPLexical.isHex(u[i]) || u[i] == UInt8(ascii: ":") || u[i] == UInt8(ascii: ".") else {
                        throw fail("invalid IPv6 reference in sent-by")
                    }
                    i += 1
                }
                guard i < end else { throw fail("unterminated IPv6 reference in sent-by") }
                i += 1
            } else {
                while i < end, SIPLexical.isHostnameChar(u[i]) { i += 1 }
            }
            guard i > hostStart else { throw fail("missing sent-by host") }
            parts.host = hostStart..<i
            skipWSP()
            if i < end, u[i] == UInt8(ascii: ":") {
                i += 1; skipWSP()
                var value = 0, digits = 0
                while i < end, SIPLexical.isDigit(u[i]) {
                    value = value * 10 + Int(u[i] - 0x30); digits += 1
                    guard digits <= 5 else { throw fail("port too long") }
                    i += 1
                }
                guard digits > 0, value <= 65535 else { throw fail("invalid port") }
                parts.port = value
            }
            parts.parameters = i
            return parts
        }
        protocolNameSpan = SIPSpan(parts.protocolName)
        protocolVersionSpan = SIPSpan(parts.protocolVersion)
        transportSpan = SIPSpan(parts.transport)
        hostSpan = SIPSpan(parts.host)
        port = parts.port
        parametersSpan = SIPSpan(parts.parameters, text.utf8.count)
        // Validate the parameters over the bytes, checking those whose values have a defined
        // range (RFC 3261 §20.42, RFC 3581) in the same pass.
        var failure: SIPParseError?
        text.withUTF8Bytes { u in
            let bytes = UnsafeBufferPointer(rebasing: u[parts.parameters...])
            _ = SIPParameters.scan(bytes, kind: .header, { name, value in
                guard name.count == 3 || name.count == 5, let value else { return true }
                let range = UnsafeBufferPointer(rebasing: bytes[value])
                if SIPLexical.equalsIgnoringCase(UnsafeBufferPointer(rebasing: bytes[name]), Self.ttlName), sipParseUInt(range, max: 255) == nil {
                    failure = fail("ttl out of range")
                } else if SIPLexical.equalsIgnoringCase(UnsafeBufferPointer(rebasing: bytes[name]), Self.rportName), sipParseUInt(range, max: 65535) == nil {
                    failure = fail("invalid rport")
                }
                return failure == nil
            }, onError: { failure = fail($0) })
        }
        if let failure { throw failure }
    }

    private static var ttlName: UnsafeBufferPointer<UInt8> { StaticString("ttl").utf8Buffer }
    private static var rportName: UnsafeBufferPointer<UInt8> { StaticString("rport").utf8Buffer }

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
        return Self.isRFC3261Branch(b)
    }

    /// True when `branch` starts with the RFC 3261 magic cookie and has more after it.
    public static func isRFC3261Branch(_ branch: Substring) -> Bool {
        // Bytes, not Character comparison (this runs for every request).
        branch.withUTF8Bytes { u in
            u.count > 7 && SIPBytes.equals(u, 0, 7, StaticString("z9hG4bK").utf8Buffer)
        }
    }

    /// The transport, upper-cased.
    public var transportName: String { transport.uppercased() }

    public var description: String { String(raw) }
}

/// Parses 1*DIGIT (leading zeros allowed) no larger than `max`; nil when empty, non-digit, or too large.
@usableFromInline
func sipParseUInt(_ s: Substring, max: UInt64) -> UInt64? {
    s.withUTF8Bytes { sipParseUInt($0, max: max) }
}

/// 1*DIGIT as a number no larger than `max`, over bytes.
func sipParseUInt(_ u: UnsafeBufferPointer<UInt8>, max: UInt64) -> UInt64? {
    guard !u.isEmpty else { return nil }
    var v: UInt64 = 0
    for b in u {
        guard SIPLexical.isDigit(b) else { return nil }
        v = v &* 10 &+ UInt64(b - 0x30)
        if v > max { return nil }
    }
    return v
}
