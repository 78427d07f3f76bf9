/// A URI as SIP carries it: `sip:`, `sips:`, `tel:`, or any other scheme kept as an absolute URI.
///
/// Components are slices of the text the URI was parsed from (no copies); escapes stay as
/// written, and ``unescapedUser`` decodes them on demand. ``isEquivalent(to:)`` implements the
/// comparison rules of RFC 3261 §19.1.4.
public struct SIPURI: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: Sendable, Hashable {
        case sip, sips, tel
        /// Any other scheme, lower-cased.
        case other(String)

        public var name: String {
            switch self {
            case .sip: "sip"
            case .sips: "sips"
            case .tel: "tel"
            case .other(let s): s
            }
        }
    }

    public let scheme: Scheme
    /// The whole URI as written.
    public let raw: Substring
    /// Where the parts lie in `raw`; each is made into a Substring only when read.
    private let userSpan: SIPSpan?
    private let passwordSpan: SIPSpan?
    private let hostSpan: SIPSpan
    public let port: Int?
    private let parametersSpan: SIPSpan
    private let headersSpan: SIPSpan?

    /// User part as written (escapes kept); for `tel:` the number.
    public var user: Substring? { userSpan.map { raw.slice($0) } }
    public var password: Substring? { passwordSpan.map { raw.slice($0) } }
    /// Host as written; an IPv6 reference keeps its brackets. Empty for `tel:` and other schemes.
    public var host: Substring { raw.slice(hostSpan) }
    public var parameters: SIPParameters {
        if case .other = scheme { return .empty }
        return SIPParameters(unchecked: raw.slice(parametersSpan), kind: .uri)
    }
    /// The text after `?`, without the `?`.
    public var headers: Substring? { headersSpan.map { raw.slice($0) } }

    /// Parses a URI. `sip`/`sips` follow the RFC 3261 grammar strictly (no whitespace, valid
    /// host and port, `paramchar` in parameters); other schemes only need a scheme and content.
    public init(parsing text: Substring) throws(SIPParseError) {
        guard sipFitsSpans(text) else { throw Self.error("URI too long") }
        raw = text
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        let (scheme, parts) = try text.withUTF8Bytes { u throws(SIPParseError) -> (Scheme, Parts) in
            var i = 0
            guard i < u.count, SIPLexical.isAlpha(u[i]) else { throw Self.error("URI must start with a scheme") }
            while i < u.count, SIPLexical.isAlphanum(u[i]) || u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: ".") {
                i += 1
            }
            guard i < u.count, u[i] == UInt8(ascii: ":") else { throw Self.error("URI scheme must be followed by ':'") }
            let colon = i
            if SIPBytes.equalsLowercase(u, 0, colon, StaticString("sip").utf8Buffer) { return (.sip, try Self.parseSIP(u, from: colon + 1)) }
            if SIPBytes.equalsLowercase(u, 0, colon, StaticString("sips").utf8Buffer) { return (.sips, try Self.parseSIP(u, from: colon + 1)) }
            var parts = Parts(host: SIPSpan(0, 0), parameters: SIPSpan(u.count, u.count))
            if SIPBytes.equalsLowercase(u, 0, colon, StaticString("tel").utf8Buffer) {
                // telephone-subscriber *par: the number runs to the first ';'.
                let semi = SIPBytes.first(UInt8(ascii: ";"), in: u, from: colon + 1) ?? u.count
                guard semi > colon + 1, ((colon + 1)..<semi).allSatisfy({ Self.isTelNumberByte(u[$0]) }) else {
                    throw Self.error("invalid telephone number")
                }
                parts.user = SIPSpan(colon + 1, semi)
                parts.parameters = SIPSpan(semi, u.count)
                try Self.checkParameters(u, parts.parameters)
                return (.tel, parts)
            }
            // absoluteURI: any visible characters except the delimiters of the enclosing syntax.
            guard colon + 1 < u.count, ((colon + 1)..<u.count).allSatisfy({
                u[$0] > 0x20 && u[$0] != 0x7F && u[$0] != UInt8(ascii: "<") && u[$0] != UInt8(ascii: ">") && u[$0] != UInt8(ascii: "\"")
            }) else {
                throw Self.error("invalid absolute URI")
            }
            return (.other(String(decoding: UnsafeBufferPointer(rebasing: u[0..<colon]), as: UTF8.self).lowercased()), parts)
        }
        self.scheme = scheme
        userSpan = parts.user
        passwordSpan = parts.password
        hostSpan = parts.host
        port = parts.port
        parametersSpan = parts.parameters
        headersSpan = parts.headers
    }

    public init(parsing text: String) throws(SIPParseError) {
        try self.init(parsing: Substring(text))
    }

    private static func error(_ detail: String) -> SIPParseError {
        SIPParseError(.invalidURI, at: "URI", detail)
    }

    private static func isTelNumberByte(_ b: UInt8) -> Bool {
        SIPLexical.isHex(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
            || b == UInt8(ascii: "(") || b == UInt8(ascii: ")") || b == UInt8(ascii: "*") || b == UInt8(ascii: "#")
    }

    /// Throws when the URI parameters at `span` of `u` are malformed (no Substring is made).
    private static func checkParameters(_ u: UnsafeBufferPointer<UInt8>, _ span: SIPSpan) throws(SIPParseError) {
        if let problem = SIPParameters.problem(in: UnsafeBufferPointer(rebasing: u[Int(span.start)..<Int(span.end)]), kind: .uri) {
            throw SIPParseError(.invalidHeaderValue, at: "URI", problem)
        }
    }

    /// The parts of a URI, as spans of its text.
    private struct Parts {
        var user: SIPSpan?, password: SIPSpan?
        var host: SIPSpan
        var port: Int?
        var parameters: SIPSpan
        var headers: SIPSpan?
    }

    /// The `sip`/`sips` URI whose text after `scheme:` starts at offset `start` of `u`.
    private static func parseSIP(_ u: UnsafeBufferPointer<UInt8>, from start: Int) throws(SIPParseError) -> Parts {
        let end = u.count
        var parts = Parts(host: SIPSpan(0, 0), parameters: SIPSpan(end, end))
        var hostStart = start
        // '@' can appear in neither host, parameters nor headers, so the first one ends userinfo.
        let at = SIPBytes.first(UInt8(ascii: "@"), in: u, from: start) ?? end
        if at < end {
            var colon = start
            while colon < at, u[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon > start else { throw error("empty user part before '@'") }
            guard validEscaped(u, start..<colon, SIPLexical.isUserChar) else { throw error("invalid character in user part") }
            parts.user = SIPSpan(start, colon)
            if colon < at {
                guard validEscaped(u, (colon + 1)..<at, SIPLexical.isPasswordChar) else { throw error("invalid character in password") }
                parts.password = SIPSpan(colon + 1, at)
            }
            hostStart = at + 1
        }
        var i = hostStart
        guard i < end else { throw error("missing host") }
        if u[i] == UInt8(ascii: "[") {
            // IPv6reference; RFC 5118 §4.10: tolerate the RFC 3261 ABNF's three-colon form.
            i += 1
            let addrStart = i
            var sawColon = false
            while i < end, SIPLexical.isHex(u[i]) || u[i] == UInt8(ascii: ":") || u[i] == UInt8(ascii: ".") {
                if u[i] == UInt8(ascii: ":") { sawColon = true }
                i += 1
            }
            guard i < end, u[i] == UInt8(ascii: "]"), i > addrStart, sawColon else { throw error("invalid IPv6 reference") }
            i += 1
        } else {
            while i < end, SIPLexical.isHostnameChar(u[i]) { i += 1 }
            guard i > hostStart else { throw error("missing or invalid host") }
            // Labels cannot start with '-' or '.'.
            if u[hostStart] == UInt8(ascii: "-") || u[hostStart] == UInt8(ascii: ".") { throw error("invalid host name") }
        }
        parts.host = SIPSpan(hostStart, i)
        if i < end, u[i] == UInt8(ascii: ":") {
            i += 1
            var value = 0
            var digits = 0
            while i < end, SIPLexical.isDigit(u[i]) {
                value = value * 10 + Int(u[i] - 0x30)
                digits += 1
                guard digits <= 5 else { throw error("port too long") }
                i += 1
            }
            guard digits > 0, value <= 65535 else { throw error("invalid port") }
            parts.port = value
        }
        let paramsStart = i
        while i < end, u[i] != UInt8(ascii: "?") { i += 1 }
        parts.parameters = SIPSpan(paramsStart, i)
        if i < end {
            // hname "=" hvalue *( "&" hname "=" hvalue )
            var pairStart = i + 1
            while true {
                var pairEnd = pairStart
                while pairEnd < end, u[pairEnd] != UInt8(ascii: "&") { pairEnd += 1 }
                var eq = pairStart
                while eq < pairEnd, u[eq] != UInt8(ascii: "=") { eq += 1 }
                guard eq < pairEnd, eq > pairStart,
                      validEscaped(u, pairStart..<eq, SIPLexical.isURIHeaderChar),
                      validEscaped(u, (eq + 1)..<pairEnd, SIPLexical.isURIHeaderChar) else {
                    throw error("invalid URI header")
                }
                if pairEnd == end { break }
                pairStart = pairEnd + 1
            }
            parts.headers = SIPSpan(i + 1, end)
        }
        try checkParameters(u, parts.parameters)
        return parts
    }

    /// Whether `bytes[range]` is made of `allowed` bytes and `%HH` escapes only.
    private static func validEscaped(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ allowed: (UInt8) -> Bool) -> Bool {
        var i = range.lowerBound
        while i < range.upperBound {
            let b = bytes[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < range.upperBound, SIPLexical.isHex(bytes[i + 1]), SIPLexical.isHex(bytes[i + 2]) else { return false }
                i += 3
                continue
            }
            guard allowed(b) else { return false }
            i += 1
        }
        return true
    }

    public var description: String { String(raw) }

    public var isSIP: Bool { scheme == .sip || scheme == .sips }

    /// The user part with `%HH` escapes decoded (RFC 3261 §19.1.4 compares these).
    public var unescapedUser: String? {
        guard let user else { return nil }
        return sipPercentDecoded(user) ?? String(user)
    }

    /// Host without IPv6 brackets, lower-cased.
    public var normalizedHost: String {
        var h = host
        if h.utf8.first == UInt8(ascii: "["), h.utf8.last == UInt8(ascii: "]") { h = h.dropFirst().dropLast() }
        return h.lowercased()
    }

    /// The `transport` parameter, lower-cased, if present.
    public var transportParameter: String? { parameters.value("transport").map { $0.lowercased() } }

    /// RFC 3261 §19.1.4 equivalence.
    public func isEquivalent(to other: SIPURI) -> Bool {
        guard scheme == other.scheme else { return false }
        switch scheme {
        case .sip, .sips:
            break
        case .tel:
            return Self.telNumber(user) == Self.telNumber(other.user)
                && Self.paramsEqualAll(parameters, other.parameters)
        case .other:
            return raw.utf8.elementsEqual(other.raw.utf8) || SIPLexical.equalsIgnoringCase(raw.utf8, other.raw.utf8)
        }
        // userinfo: case-sensitive after unescaping.
        guard Self.unescapedBytes(user) == Self.unescapedBytes(other.user),
              Self.unescapedBytes(password) == Self.unescapedBytes(other.password) else { return false }
        // host: case-insensitive; port: absent is not the same as the default port.
        guard SIPLexical.equalsIgnoringCase(host.utf8, other.host.utf8), port == other.port else { return false }
        // Parameters present in both must match; user, ttl, method, maddr and transport must
        // be present in both or neither.
        for name in ["user", "ttl", "method", "maddr", "transport"] {
            if parameters.contains(name) != other.parameters.contains(name) { return false }
        }
        var equal = true
        // A repeated parameter name counts by its first occurrence (as `value(_:)` reads it),
        // so the comparison stays reflexive and symmetric.
        parameters.forEach { name, _ in
            let key = String(name)
            guard other.parameters.contains(key) else { return true }
            if !Self.componentEqual(parameters.value(key), other.parameters.value(key), caseInsensitive: true) { equal = false; return false }
            return true
        }
        guard equal else { return false }
        // Headers: all must be present in both and equal.
        // Compared as multisets of (name, value), so a repeated header name cannot make the
        // comparison order-dependent or asymmetric.
        return Self.normalizedHeaderPairs(headers) == Self.normalizedHeaderPairs(other.headers)
    }

    private static func unescapedBytes(_ s: Substring?) -> [UInt8]? {
        guard let s else { return nil }
        if let decoded = sipPercentDecoded(s) { return Array(decoded.utf8) }
        return Array(s.utf8)
    }

    private static func componentEqual(_ a: Substring?, _ b: Substring?, caseInsensitive: Bool) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let a?, let b?):
            let x = unescapedBytes(a) ?? []
            let y = unescapedBytes(b) ?? []
            return caseInsensitive ? SIPLexical.equalsIgnoringCase(x, y) : x == y
        default: return false
        }
    }

    private struct HeaderPair: Hashable, Comparable {
        var name: [UInt8]
        var value: [UInt8]
        static func < (a: HeaderPair, b: HeaderPair) -> Bool {
            a.name.lexicographicallyPrecedes(b.name) || (a.name == b.name && a.value.lexicographicallyPrecedes(b.value))
        }
    }

    private static func normalizedHeaderPairs(_ h: Substring?) -> [HeaderPair] {
        headerPairs(h).map { name, value in
            HeaderPair(name: (unescapedBytes(name) ?? []).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 },
                       value: unescapedBytes(value) ?? [])
        }.sorted()
    }

    private static func headerPairs(_ h: Substring?) -> [(Substring, Substring)] {
        guard let h, !h.isEmpty else { return [] }
        return h.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }

    private static func telNumber(_ s: Substring?) -> String {
        String((s ?? "").unicodeScalars.filter { $0 != "-" && $0 != "." && $0 != "(" && $0 != ")" }).lowercased()
    }

    private static func paramsEqualAll(_ a: SIPParameters, _ b: SIPParameters) -> Bool {
        let x = a.all, y = b.all
        guard x.count == y.count else { return false }
        for (name, _) in x {
            let key = String(name)
            guard b.contains(key), componentEqual(a.value(key), b.value(key), caseInsensitive: true) else { return false }
        }
        return true
    }
}
