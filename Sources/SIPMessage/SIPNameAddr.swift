/// A `name-addr` or `addr-spec` followed by header parameters: the value of From, To, Contact,
/// Route, Record-Route and Reply-To (RFC 3261 §20.10, §20.20, §20.39).
public struct SIPNameAddr: Sendable, Hashable, CustomStringConvertible {
    public let raw: Substring
    /// The display name as written: a quoted-string keeps its quotes; a token list as is.
    public let displayNameRaw: Substring?
    public let uri: SIPURI
    /// True when the URI was enclosed in `<…>`.
    public let bracketed: Bool
    public let parameters: SIPParameters

    public init(parsing text: Substring, location: String = "name-addr") throws(SIPParseError) {
        raw = text
        let u = text.utf8
        var i = u.startIndex
        let end = u.endIndex
        func skipWSP() { while i < end, SIPLexical.isWSP(u[i]) { i = u.index(after: i) } }
        func fail(_ d: String) -> SIPParseError { SIPParseError(.invalidHeaderValue, at: location, d) }
        skipWSP()
        guard i < end else { throw fail("empty value") }
        var display: Substring?
        if u[i] == UInt8(ascii: "\"") {
            guard let close = scanQuotedString(u, from: i) else { throw fail("unterminated quoted display name") }
            display = Substring(u[i..<close])
            i = close
            skipWSP()
            guard i < end, u[i] == UInt8(ascii: "<") else { throw fail("display name must be followed by <URI>") }
        } else if let lt = u[i...].firstIndex(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: "\"") }),
                  u[lt] == UInt8(ascii: "<") {
            // display-name = *(token LWS); RFC 4475 §3.1.1.6: no LWS needed before '<'.
            let d = Substring(u[i..<lt]).trimmingWSP()
            for b in d.utf8 where !(SIPLexical.isToken(b) || SIPLexical.isWSP(b)) {
                throw fail("display name with non-token characters must be quoted")
            }
            if !d.isEmpty { display = d }
            i = lt
        }
        displayNameRaw = display
        if i < end, u[i] == UInt8(ascii: "<") {
            let uriStart = u.index(after: i)
            guard let gt = u[uriStart...].firstIndex(of: UInt8(ascii: ">")) else { throw fail("missing '>'") }
            // No whitespace inside the brackets (RFC 4475 §3.1.2.14): the URI parser refuses it.
            do { uri = try SIPURI(parsing: Substring(u[uriStart..<gt])) } catch { throw fail("invalid URI: \(error.detail)") }
            bracketed = true
            i = u.index(after: gt)
        } else {
            // addr-spec without brackets: it cannot contain ',', ';' or '?' (RFC 3261 §20),
            // so a ';' starts the header parameters.
            let s = i
            while i < end, u[i] != UInt8(ascii: ";"), !SIPLexical.isWSP(u[i]) { i = u.index(after: i) }
            let spec = u[s..<i]
            if spec.contains(UInt8(ascii: "?")) || spec.contains(UInt8(ascii: ",")) {
                throw fail("a URI with '?' or ',' must be enclosed in <>")
            }
            do { uri = try SIPURI(parsing: Substring(spec)) } catch { throw fail("invalid URI: \(error.detail)") }
            bracketed = false
        }
        parameters = try SIPParameters(parsing: Substring(u[i..<end]), kind: .header, location: location)
    }

    public init(parsing text: String, location: String = "name-addr") throws(SIPParseError) {
        try self.init(parsing: Substring(text), location: location)
    }

    /// The display name without quotes and escapes.
    public var displayName: String? { displayNameRaw.map { sipUnquoted($0) } }

    public var tag: Substring? { parameters.value("tag") }

    public var description: String { String(raw) }
}

/// One Contact header value: `*` or an address with `expires` and `q` (RFC 3261 §20.10).
public enum SIPContact: Sendable, Hashable {
    case wildcard
    case address(SIPNameAddr)

    public init(parsing text: Substring) throws(SIPParseError) {
        if text.trimmingWSP() == "*" { self = .wildcard; return }
        let addr = try SIPNameAddr(parsing: text, location: "Contact")
        if let e = addr.parameters.value("expires"), sipParseUInt(e, max: UInt64(UInt32.max)) == nil {
            throw SIPParseError(.invalidHeaderValue, at: "Contact", "expires out of range")
        }
        if let q = addr.parameters.value("q"), SIPContact.parseQ(q) == nil {
            throw SIPParseError(.invalidHeaderValue, at: "Contact", "invalid q-value")
        }
        self = .address(addr)
    }

    public var address: SIPNameAddr? {
        if case .address(let a) = self { return a }
        return nil
    }

    /// The `expires` parameter in seconds.
    public var expires: UInt32? {
        address?.parameters.value("expires").flatMap { sipParseUInt($0, max: UInt64(UInt32.max)) }.map { UInt32($0) }
    }

    /// The `q` parameter as thousandths (0…1000), avoiding floating point in comparisons.
    public var qValue: Int? { address?.parameters.value("q").flatMap(SIPContact.parseQ) }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), as thousandths.
    static func parseQ(_ s: Substring) -> Int? {
        let u = Array(s.utf8)
        guard let first = u.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        var value = Int(first - 0x30) * 1000
        if u.count == 1 { return value }
        guard u.count <= 5, u[1] == UInt8(ascii: ".") else { return nil }
        var scale = 100
        for b in u[2...] {
            guard SIPLexical.isDigit(b) else { return nil }
            value += Int(b - 0x30) * scale
            scale /= 10
        }
        return value <= 1000 ? value : nil
    }
}

/// CSeq: sequence number and method (RFC 3261 §20.16).
public struct SIPCSeq: Sendable, Hashable, CustomStringConvertible {
    public let number: UInt32
    public let method: Substring

    public init(parsing text: Substring) throws(SIPParseError) {
        let t = text.trimmingWSP()
        let u = t.utf8
        var i = u.startIndex
        while i < u.endIndex, SIPLexical.isDigit(u[i]) { i = u.index(after: i) }
        guard let n = sipParseUInt(Substring(u[u.startIndex..<i]), max: UInt64(UInt32.max)) else {
            throw SIPParseError(.invalidHeaderValue, at: "CSeq", "sequence number missing or larger than 2**32-1")
        }
        let m = Substring(u[i...]).trimmingWSP()
        guard i < u.endIndex, SIPLexical.isWSP(u[i]), !m.isEmpty, m.utf8.allSatisfy(SIPLexical.isToken) else {
            throw SIPParseError(.invalidHeaderValue, at: "CSeq", "missing or invalid method")
        }
        number = UInt32(n)
        method = m
    }

    public init(number: UInt32, method: String) {
        self.number = number
        self.method = Substring(method)
    }

    public var description: String { "\(number) \(method)" }
}
