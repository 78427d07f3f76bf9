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
    /// User part as written (escapes kept); for `tel:` the number.
    public let user: Substring?
    public let password: Substring?
    /// Host as written; an IPv6 reference keeps its brackets. Empty for `tel:` and other schemes.
    public let host: Substring
    public let port: Int?
    public let parameters: SIPParameters
    /// The text after `?`, without the `?`.
    public let headers: Substring?

    /// Parses a URI. `sip`/`sips` follow the RFC 3261 grammar strictly (no whitespace, valid
    /// host and port, `paramchar` in parameters); other schemes only need a scheme and content.
    public init(parsing text: Substring) throws(SIPParseError) {
        let u = text.utf8
        raw = text
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        var i = u.startIndex
        guard i < u.endIndex, SIPLexical.isAlpha(u[i]) else { throw Self.error("URI must start with a scheme") }
        while i < u.endIndex, SIPLexical.isAlphanum(u[i]) || u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: ".") {
            i = u.index(after: i)
        }
        guard i < u.endIndex, u[i] == UInt8(ascii: ":") else { throw Self.error("URI scheme must be followed by ':'") }
        let schemeText = Substring(u[u.startIndex..<i])
        let rest = Substring(u[u.index(after: i)...])
        if schemeText.equalsLowercase("sip") || schemeText.equalsLowercase("sips") {
            scheme = schemeText.utf8.count == 3 ? .sip : .sips
            let parts = try Self.parseSIP(rest)
            (user, password, host, port, parameters, headers) = parts
        } else if schemeText.equalsLowercase("tel") {
            scheme = .tel
            // telephone-subscriber *par: the number runs to the first ';'.
            let ru = rest.utf8
            let semi = ru.firstIndex(of: UInt8(ascii: ";")) ?? ru.endIndex
            let number = Substring(ru[ru.startIndex..<semi])
            guard !number.isEmpty, number.utf8.allSatisfy({ SIPLexical.isHex($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "(") || $0 == UInt8(ascii: ")") || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "#") }) else {
                throw Self.error("invalid telephone number")
            }
            user = number
            password = nil
            host = ""
            port = nil
            parameters = try SIPParameters(parsing: Substring(ru[semi...]), kind: .uri, location: "URI")
            headers = nil
        } else {
            scheme = .other(schemeText.lowercased())
            // absoluteURI: any visible characters except the delimiters of the enclosing syntax.
            guard !rest.isEmpty, rest.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") && $0 != UInt8(ascii: "\"") }) else {
                throw Self.error("invalid absolute URI")
            }
            user = nil
            password = nil
            host = ""
            port = nil
            parameters = .empty
            headers = nil
        }
    }

    public init(parsing text: String) throws(SIPParseError) {
        try self.init(parsing: Substring(text))
    }

    private static func error(_ detail: String) -> SIPParseError {
        SIPParseError(.invalidURI, at: "URI", detail)
    }

    // swiftlint:disable:next large_tuple
    private static func parseSIP(_ rest: Substring) throws(SIPParseError)
        -> (Substring?, Substring?, Substring, Int?, SIPParameters, Substring?)
    {
        let u = rest.utf8
        var user: Substring?
        var password: Substring?
        var hostStart = u.startIndex
        // '@' can appear in neither host, parameters nor headers, so the first one ends userinfo.
        if let at = u.firstIndex(of: UInt8(ascii: "@")) {
            let userinfo = u[u.startIndex..<at]
            let colon = userinfo.firstIndex(of: UInt8(ascii: ":"))
            let userEnd = colon ?? at
            let userPart = u[u.startIndex..<userEnd]
            guard !userPart.isEmpty else { throw error("empty user part before '@'") }
            guard validEscaped(userPart, SIPLexical.isUserChar) else { throw error("invalid character in user part") }
            user = Substring(userPart)
            if let colon {
                let pw = u[u.index(after: colon)..<at]
                guard validEscaped(pw, SIPLexical.isPasswordChar) else { throw error("invalid character in password") }
                password = Substring(pw)
            }
            hostStart = u.index(after: at)
        }
        var i = hostStart
        let end = u.endIndex
        guard i < end else { throw error("missing host") }
        if u[i] == UInt8(ascii: "[") {
            // IPv6reference; RFC 5118 §4.10: tolerate the RFC 3261 ABNF's three-colon form.
            i = u.index(after: i)
            let addrStart = i
            while i < end, SIPLexical.isHex(u[i]) || u[i] == UInt8(ascii: ":") || u[i] == UInt8(ascii: ".") { i = u.index(after: i) }
            guard i < end, u[i] == UInt8(ascii: "]"), i > addrStart,
                  u[addrStart..<i].contains(UInt8(ascii: ":")) else { throw error("invalid IPv6 reference") }
            i = u.index(after: i)
        } else {
            while i < end, SIPLexical.isHostnameChar(u[i]) { i = u.index(after: i) }
            guard i > hostStart else { throw error("missing or invalid host") }
            // A host name's last label must not be empty unless the name ends in one dot, and
            // labels cannot start or end with '-'.
            let h = u[hostStart..<i]
            if h.first == UInt8(ascii: "-") || h.first == UInt8(ascii: ".") { throw error("invalid host name") }
        }
        let host = Substring(u[hostStart..<i])
        var port: Int?
        if i < end, u[i] == UInt8(ascii: ":") {
            i = u.index(after: i)
            var value = 0
            var digits = 0
            while i < end, SIPLexical.isDigit(u[i]) {
                value = value * 10 + Int(u[i] - 0x30)
                digits += 1
                guard digits <= 5 else { throw error("port too long") }
                i = u.index(after: i)
            }
            guard digits > 0, value <= 65535 else { throw error("invalid port") }
            port = value
        }
        let paramsStart = i
        while i < end, u[i] != UInt8(ascii: "?") { i = u.index(after: i) }
        let params = try SIPParameters(parsing: Substring(u[paramsStart..<i]), kind: .uri, location: "URI")
        var headers: Substring?
        if i < end {
            let hs = u.index(after: i)
            let h = u[hs..<end]
            // hname "=" hvalue *( "&" hname "=" hvalue )
            for pair in h.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
                guard let eq = pair.firstIndex(of: UInt8(ascii: "=")), eq > pair.startIndex,
                      validEscaped(pair[pair.startIndex..<eq], SIPLexical.isURIHeaderChar),
                      validEscaped(pair[pair.index(after: eq)...], SIPLexical.isURIHeaderChar) else {
                    throw error("invalid URI header")
                }
            }
            headers = Substring(h)
        }
        return (user, password, host, port, params, headers)
    }

    private static func validEscaped(_ bytes: Substring.UTF8View, _ allowed: (UInt8) -> Bool) -> Bool {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "%") {
                let h1 = bytes.index(after: i)
                guard h1 < bytes.endIndex, SIPLexical.isHex(bytes[h1]) else { return false }
                let h2 = bytes.index(after: h1)
                guard h2 < bytes.endIndex, SIPLexical.isHex(bytes[h2]) else { return false }
                i = bytes.index(after: h2)
                continue
            }
            guard allowed(b) else { return false }
            i = bytes.index(after: i)
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
