/// A validated `;name[=value]` list, kept as the raw text it was parsed from.
///
/// Parameters are validated once, when the header or URI is parsed, and looked up by
/// re-scanning the raw text: parameter lists are short, and this keeps a parsed message free
/// of one array allocation per header. Names compare case-insensitively (RFC 3261 §7.3.1,
/// §19.1.4); values are returned as written (quoted strings keep their quotes, URI parameter
/// values keep their `%HH` escapes).
public struct SIPParameters: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// `generic-param` in a header: LWS allowed around `;` and `=`, values may be quoted.
        case header
        /// `uri-parameter`: no whitespace, `paramchar` and escapes only.
        case uri
    }

    /// The raw text, starting at the first `;` (empty when there are no parameters).
    public let raw: Substring
    public let kind: Kind

    public static let empty = SIPParameters(unchecked: "", kind: .header)

    init(unchecked raw: Substring, kind: Kind) {
        self.raw = raw
        self.kind = kind
    }

    /// Validates `raw` (which must start with `;` or be empty) and wraps it.
    public init(parsing raw: Substring, kind: Kind, location: String) throws(SIPParseError) {
        self.raw = raw
        self.kind = kind
        var failure: SIPParseError?
        _ = Self.scan(raw, kind: kind) { _, _ in true } onError: { failure = SIPParseError(.invalidHeaderValue, at: location, $0) }
        if let failure { throw failure }
    }

    public var isEmpty: Bool { raw.isEmpty }
    public var description: String { String(raw) }

    /// Calls `body` with each (name, value) until it returns false.
    public func forEach(_ body: (Substring, Substring?) -> Bool) {
        _ = Self.scan(raw, kind: kind, body) { _ in }
    }

    /// True when a parameter of that name is present (with or without a value).
    public func contains(_ name: String) -> Bool {
        var found = false
        forEach { n, _ in
            if SIPLexical.equalsIgnoringCase(n.utf8, name.utf8) { found = true; return false }
            return true
        }
        return found
    }

    /// The value of the first parameter of that name; `nil` when absent or when it has no value.
    public func value(_ name: String) -> Substring? {
        var result: Substring?
        forEach { n, v in
            if SIPLexical.equalsIgnoringCase(n.utf8, name.utf8) { result = v; return false }
            return true
        }
        return result
    }

    /// All parameters as an array (for display and comparison, not for the hot path).
    public var all: [(name: Substring, value: Substring?)] {
        var out: [(name: Substring, value: Substring?)] = []
        forEach { n, v in out.append((n, v)); return true }
        return out
    }

    /// The one scanner: validates and yields. Returns false when the text is malformed.
    @discardableResult
    static func scan(
        _ raw: Substring, kind: Kind,
        _ body: (Substring, Substring?) -> Bool,
        onError: (String) -> Void
    ) -> Bool {
        let u = raw.utf8
        var i = u.startIndex
        let end = u.endIndex
        @inline(__always) func skipWSP() {
            if kind == .header { while i < end, SIPLexical.isWSP(u[i]) { i = u.index(after: i) } }
        }
        while true {
            skipWSP()
            if i == end { return true }
            guard u[i] == UInt8(ascii: ";") else { onError("expected ';' before a parameter"); return false }
            i = u.index(after: i)
            skipWSP()
            let nameStart = i
            while i < end, kind == .uri ? (SIPLexical.isURIParamChar(u[i]) || u[i] == UInt8(ascii: "%")) : SIPLexical.isToken(u[i]) {
                i = u.index(after: i)
            }
            guard i > nameStart else { onError("empty parameter name"); return false }
            let name = Substring(u[nameStart..<i])
            skipWSP()
            var value: Substring?
            if i < end, u[i] == UInt8(ascii: "=") {
                i = u.index(after: i)
                skipWSP()
                let valueStart = i
                if kind == .header, i < end, u[i] == UInt8(ascii: "\"") {
                    guard let close = scanQuotedString(u, from: i) else { onError("unterminated quoted string"); return false }
                    i = close
                } else if kind == .header, i < end, u[i] == UInt8(ascii: "[") {
                    // An IPv6 reference as a value (received=[2001:db8::9]).
                    while i < end, u[i] != UInt8(ascii: "]") {
                        guard SIPLexical.isHex(u[i]) || u[i] == UInt8(ascii: ":") || u[i] == UInt8(ascii: ".") || u[i] == UInt8(ascii: "[") else {
                            onError("invalid IPv6 reference in parameter value"); return false
                        }
                        i = u.index(after: i)
                    }
                    guard i < end else { onError("unterminated IPv6 reference"); return false }
                    i = u.index(after: i)
                } else {
                    while i < end {
                        let b = u[i]
                        let ok = kind == .uri
                            ? (SIPLexical.isURIParamChar(b) || b == UInt8(ascii: "%"))
                            : (SIPLexical.isToken(b) || b == UInt8(ascii: ":"))  // token / host (IPv6 without brackets)
                        if !ok { break }
                        i = u.index(after: i)
                    }
                }
                guard i > valueStart else { onError("empty value for parameter '\(name.prefix(32))'"); return false }
                value = Substring(u[valueStart..<i])
            }
            if !body(name, value) { return true }
        }
    }
}

/// Given the index of an opening `"`, returns the index just past the closing `"`, honouring
/// quoted-pair escapes; nil when unterminated or when a CR/LF appears inside.
@usableFromInline
func scanQuotedString(_ u: Substring.UTF8View, from open: Substring.UTF8View.Index) -> Substring.UTF8View.Index? {
    var i = u.index(after: open)
    while i < u.endIndex {
        let b = u[i]
        if b == UInt8(ascii: "\\") {
            i = u.index(after: i)
            guard i < u.endIndex, u[i] != 0x0D, u[i] != 0x0A else { return nil }
        } else if b == UInt8(ascii: "\"") {
            return u.index(after: i)
        } else if b == 0x0D || b == 0x0A {
            return nil
        }
        i = u.index(after: i)
    }
    return nil
}

/// Removes the quotes and quoted-pair escapes of a quoted-string; other text is returned as is.
public func sipUnquoted(_ s: Substring) -> String {
    let u = s.utf8
    guard u.count >= 2, u.first == UInt8(ascii: "\""), u.last == UInt8(ascii: "\"") else { return String(s) }
    var out: [UInt8] = []
    out.reserveCapacity(u.count)
    var i = u.index(after: u.startIndex)
    let end = u.index(before: u.endIndex)
    while i < end {
        var b = u[i]
        if b == UInt8(ascii: "\\") {
            let n = u.index(after: i)
            if n < end { i = n; b = u[i] }
        }
        out.append(b)
        i = u.index(after: i)
    }
    return String(decoding: out, as: UTF8.self)
}

/// Quotes a string for use as a quoted-string (escaping `"` and `\`).
public func sipQuoted(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        if ch == "\"" || ch == "\\" { out.unicodeScalars.append("\\") }
        out.unicodeScalars.append(ch)
    }
    out.append("\"")
    return out
}
