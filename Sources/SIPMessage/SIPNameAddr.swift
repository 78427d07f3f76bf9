/// A `name-addr` or `addr-spec` followed by header parameters: the value of From, To, Contact,
/// Route, Record-Route and Reply-To (RFC 3261 §20.10, §20.20, §20.39).
public struct SIPNameAddr: Sendable, Hashable, CustomStringConvertible {
    public let raw: Substring
    public let uri: SIPURI
    /// True when the URI was enclosed in `<…>`.
    public let bracketed: Bool
    /// Where the display name and the parameters lie in `raw` (see ``SIPSpan``).
    private let displaySpan: SIPSpan?
    private let parametersSpan: SIPSpan

    /// The display name as written: a quoted-string keeps its quotes; a token list as is.
    public var displayNameRaw: Substring? { displaySpan.map { raw.slice($0) } }
    public var parameters: SIPParameters { SIPParameters(unchecked: raw.slice(parametersSpan), kind: .header) }

    public init(parsing text: Substring, location: String = "name-addr") throws(SIPParseError) {
        guard sipFitsSpans(text) else { throw SIPParseError(.invalidHeaderValue, at: location, "too long") }
        raw = text
        func fail(_ d: String) -> SIPParseError { SIPParseError(.invalidHeaderValue, at: location, d) }
        // Offsets of the display name, the URI and the parameters, found over the bytes.
        let parts = try text.withUTF8Bytes { u throws(SIPParseError) -> (display: Range<Int>?, uri: Range<Int>, bracketed: Bool, parameters: Int) in
            let end = u.count
            var i = 0
            while i < end, SIPLexical.isWSP(u[i]) { i += 1 }
            guard i < end else { throw fail("empty value") }
            var display: Range<Int>?
            if u[i] == UInt8(ascii: "\"") {
                guard let close = scanQuotedString(u, from: i) else { throw fail("unterminated quoted display name") }
                display = i..<close
                i = close
                while i < end, SIPLexical.isWSP(u[i]) { i += 1 }
                guard i < end, u[i] == UInt8(ascii: "<") else { throw fail("display name must be followed by <URI>") }
            } else {
                var lt = i
                while lt < end, u[lt] != UInt8(ascii: "<"), u[lt] != UInt8(ascii: ";"), u[lt] != UInt8(ascii: "\"") { lt += 1 }
                if lt < end, u[lt] == UInt8(ascii: "<") {
                    // display-name = *(token LWS); RFC 4475 §3.1.1.6: no LWS needed before '<'.
                    let (nameStart, nameEnd) = SIPBytes.trimWSP(u, i, lt)
                    for k in nameStart..<nameEnd where !(SIPLexical.isToken(u[k]) || SIPLexical.isWSP(u[k])) {
                        throw fail("display name with non-token characters must be quoted")
                    }
                    if nameEnd > nameStart { display = nameStart..<nameEnd }
                    i = lt
                }
            }
            if i < end, u[i] == UInt8(ascii: "<") {
                // No whitespace inside the brackets (RFC 4475 §3.1.2.14): the URI parser refuses it.
                var gt = i + 1
                while gt < end, u[gt] != UInt8(ascii: ">") { gt += 1 }
                guard gt < end else { throw fail("missing '>'") }
                return (display, (i + 1)..<gt, true, gt + 1)
            }
            // addr-spec without brackets: it cannot contain ',', ';' or '?' (RFC 3261 §20),
            // so a ';' starts the header parameters.
            let specStart = i
            while i < end, u[i] != UInt8(ascii: ";"), !SIPLexical.isWSP(u[i]) { i += 1 }
            for k in specStart..<i where u[k] == UInt8(ascii: "?") || u[k] == UInt8(ascii: ",") {
                throw fail("a URI with '?' or ',' must be enclosed in <>")
            }
            return (display, specStart..<i, false, i)
        }
        displaySpan = parts.display.map(SIPSpan.init)
        do { uri = try SIPURI(parsing: text.utf8Slice(parts.uri.lowerBound, parts.uri.upperBound)) } catch { throw fail("invalid URI: \(error.detail)") }
        bracketed = parts.bracketed
        parametersSpan = SIPSpan(parts.parameters, text.utf8.count)
        if let problem = text.withUTF8Bytes({ SIPParameters.problem(in: UnsafeBufferPointer(rebasing: $0[parts.parameters...]), kind: .header) }) {
            throw fail(problem)
        }
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
        let isWildcard = text.withUTF8Bytes { u in
            let (start, end) = SIPBytes.trimWSP(u, 0, u.count)
            return end == start + 1 && u[start] == UInt8(ascii: "*")
        }
        if isWildcard { self = .wildcard; return }
        let addr = try SIPNameAddr(parsing: text, location: "Contact")
        // expires and q are checked in one pass over the bytes; the first of each name counts,
        // as `parameters.value(_:)` reads it.
        var failure: String?
        var sawExpires = false, sawQ = false
        addr.parameters.forEachBytes { bytes, name, value in
            let nameBytes = UnsafeBufferPointer(rebasing: bytes[name])
            if !sawExpires, SIPLexical.equalsIgnoringCase(nameBytes, Self.expiresName) {
                sawExpires = true
                if let value, sipParseUInt(UnsafeBufferPointer(rebasing: bytes[value]), max: UInt64(UInt32.max)) == nil {
                    failure = "expires out of range"
                }
            } else if !sawQ, SIPLexical.equalsIgnoringCase(nameBytes, Self.qName) {
                sawQ = true
                if let value, SIPContact.parseQ(UnsafeBufferPointer(rebasing: bytes[value])) == nil { failure = "invalid q-value" }
            }
            return failure == nil
        }
        if let failure { throw SIPParseError(.invalidHeaderValue, at: "Contact", failure) }
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

    private static var expiresName: UnsafeBufferPointer<UInt8> { StaticString("expires").utf8Buffer }
    private static var qName: UnsafeBufferPointer<UInt8> { StaticString("q").utf8Buffer }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), as thousandths.
    static func parseQ(_ s: Substring) -> Int? {
        s.withUTF8Bytes { parseQ($0) }
    }

    static func parseQ(_ u: UnsafeBufferPointer<UInt8>) -> Int? {
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
        // 1*DIGIT LWS Method
        let parts = text.withUTF8Bytes { u -> (number: UInt64, method: Range<Int>)? in
            let (start, end) = SIPBytes.trimWSP(u, 0, u.count)
            var i = start
            var number: UInt64 = 0
            while i < end, SIPLexical.isDigit(u[i]) {
                number = number &* 10 &+ UInt64(u[i] &- 0x30)
                if number > UInt64(UInt32.max) { return nil }
                i += 1
            }
            guard i > start else { return nil }
            guard i < end, SIPLexical.isWSP(u[i]) else { return (number, 0..<0) }
            let (methodStart, methodEnd) = SIPBytes.trimWSP(u, i, end)
            for k in methodStart..<methodEnd where !SIPLexical.isToken(u[k]) { return (number, 0..<0) }
            return (number, methodStart..<methodEnd)
        }
        guard let parts else {
            throw SIPParseError(.invalidHeaderValue, at: "CSeq", "sequence number missing or larger than 2**32-1")
        }
        guard !parts.method.isEmpty else { throw SIPParseError(.invalidHeaderValue, at: "CSeq", "missing or invalid method") }
        number = UInt32(parts.number)
        method = text.utf8Slice(parts.method.lowerBound, parts.method.upperBound)
    }

    public init(number: UInt32, method: String) {
        self.number = number
        self.method = Substring(method)
    }

    public var description: String { "\(number) \(method)" }
}
