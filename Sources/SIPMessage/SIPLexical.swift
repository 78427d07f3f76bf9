// Character classes and small scanners from the RFC 3261 §25 grammar.
// They work on UTF-8 code units so that no scanner ever allocates.

@usableFromInline
enum SIPLexical {
    @inlinable static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    @inlinable static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    @inlinable static func isHex(_ b: UInt8) -> Bool { isDigit(b) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66) }
    @inlinable static func isAlphanum(_ b: UInt8) -> Bool { isAlpha(b) || isDigit(b) }
    /// SP or HTAB.
    @inlinable static func isWSP(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
    @inlinable static func isToken(_ b: UInt8) -> Bool {
        if isAlphanum(b) { return true }
        switch b {
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "%"),
            UInt8(ascii: "*"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "`"),
            UInt8(ascii: "'"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }

    /// `word` characters (Call-ID): token characters plus ( ) < > : \ " / [ ] ? { }.
    @inlinable static func isWord(_ b: UInt8) -> Bool {
        if isToken(b) { return true }
        switch b {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"),
            UInt8(ascii: ":"), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "/"),
            UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"):
            return true
        default: return false
        }
    }

    /// `unreserved` = alphanum / mark.
    @inlinable static func isUnreserved(_ b: UInt8) -> Bool {
        if isAlphanum(b) { return true }
        switch b {
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "!"),
            UInt8(ascii: "~"), UInt8(ascii: "*"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"):
            return true
        default: return false
        }
    }

    /// Characters of a SIP URI user part besides escapes: unreserved / user-unreserved.
    @inlinable static func isUserChar(_ b: UInt8) -> Bool {
        if isUnreserved(b) { return true }
        switch b {
        case UInt8(ascii: "&"), UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "$"),
            UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "?"), UInt8(ascii: "/"):
            return true
        default: return false
        }
    }

    /// Characters of a SIP URI password besides escapes.
    @inlinable static func isPasswordChar(_ b: UInt8) -> Bool {
        if isUnreserved(b) { return true }
        switch b {
        case UInt8(ascii: "&"), UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "$"), UInt8(ascii: ","):
            return true
        default: return false
        }
    }

    /// `paramchar` besides escapes: param-unreserved / unreserved.
    @inlinable static func isURIParamChar(_ b: UInt8) -> Bool {
        if isUnreserved(b) { return true }
        switch b {
        case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "/"), UInt8(ascii: ":"),
            UInt8(ascii: "&"), UInt8(ascii: "+"), UInt8(ascii: "$"):
            return true
        default: return false
        }
    }

    /// `hname` / `hvalue` characters besides escapes: hnv-unreserved / unreserved.
    @inlinable static func isURIHeaderChar(_ b: UInt8) -> Bool {
        if isUnreserved(b) { return true }
        switch b {
        case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "/"), UInt8(ascii: "?"),
            UInt8(ascii: ":"), UInt8(ascii: "+"), UInt8(ascii: "$"):
            return true
        default: return false
        }
    }

    @inlinable static func hexValue(_ b: UInt8) -> UInt8 {
        if isDigit(b) { return b &- 0x30 }
        return (b | 0x20) &- 0x61 &+ 10
    }

    /// Characters allowed in a host name label, IPv4 address, or (with ":" and ".") an IPv6 reference.
    @inlinable static func isHostnameChar(_ b: UInt8) -> Bool {
        isAlphanum(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
    }

    /// Case-insensitive ASCII comparison of UTF-8 sequences.
    @inlinable static func equalsIgnoringCase(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lx = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
            let ly = (y >= 0x41 && y <= 0x5A) ? y | 0x20 : y
            if lx != ly { return false }
        }
        return true
    }
}

extension Substring {
    /// Removes leading and trailing SP / HTAB (LWS after unfolding).
    @inlinable func trimmingWSP() -> Substring {
        let u = self.utf8
        var start = u.startIndex
        var end = u.endIndex
        while start < end, SIPLexical.isWSP(u[start]) { start = u.index(after: start) }
        while end > start, SIPLexical.isWSP(u[u.index(before: end)]) { end = u.index(before: end) }
        return Substring(u[start..<end])
    }

    /// ASCII case-insensitive equality with a lower-case ASCII literal.
    @inlinable func equalsLowercase(_ lower: StaticString) -> Bool {
        let u = self.utf8
        guard u.count == lower.utf8CodeUnitCount else { return false }
        return lower.withUTF8Buffer { buf in
            var i = 0
            for b in u {
                let l = (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
                if l != buf[i] { return false }
                i += 1
            }
            return true
        }
    }
}

/// Decodes `%HH` escapes; invalid escapes are kept literally. Returns nil when there is nothing to decode.
@usableFromInline
func sipPercentDecoded(_ s: Substring) -> String? {
    let u = s.utf8
    guard u.contains(UInt8(ascii: "%")) else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(u.count)
    var i = u.startIndex
    while i < u.endIndex {
        let b = u[i]
        if b == UInt8(ascii: "%") {
            let h1 = u.index(after: i)
            if h1 < u.endIndex {
                let h2 = u.index(after: h1)
                if h2 < u.endIndex, SIPLexical.isHex(u[h1]), SIPLexical.isHex(u[h2]) {
                    out.append(SIPLexical.hexValue(u[h1]) << 4 | SIPLexical.hexValue(u[h2]))
                    i = u.index(after: h2)
                    continue
                }
            }
        }
        out.append(b)
        i = u.index(after: i)
    }
    return String(decoding: out, as: UTF8.self)
}
