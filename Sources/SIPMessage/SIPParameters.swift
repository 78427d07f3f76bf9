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
        if let problem = raw.withUTF8Bytes({ Self.problem(in: $0, kind: kind) }) {
            throw SIPParseError(.invalidHeaderValue, at: location, problem)
        }
    }

    /// Why the parameters in `bytes` are malformed, or nil when they are well formed. Parsers
    /// check a value's parameters with this over its bytes, making no Substring.
    static func problem(in bytes: UnsafeBufferPointer<UInt8>, kind: Kind) -> String? {
        var problem: String?
        _ = scan(bytes, kind: kind, { _, _ in true }, onError: { problem = $0 })
        return problem
    }

    public var isEmpty: Bool { raw.isEmpty }
    public var description: String { String(raw) }

    /// Calls `body` with each parameter's name and value (nil when it has none), in order,
    /// until it returns false.
    public func forEach(_ body: (Substring, Substring?) -> Bool) {
        let raw = raw
        raw.withUTF8Bytes { bytes in
            _ = Self.scan(bytes, kind: kind, { name, value in
                body(raw.utf8Slice(name.lowerBound, name.upperBound), value.map { raw.utf8Slice($0.lowerBound, $0.upperBound) })
            }, onError: { _ in })
        }
    }

    /// Calls `body` with the UTF-8 of ``raw`` and the offsets of each parameter's name and value
    /// until it returns false (no Substring is made).
    func forEachBytes(_ body: (UnsafeBufferPointer<UInt8>, Range<Int>, Range<Int>?) -> Bool) {
        raw.withUTF8Bytes { bytes in
            _ = Self.scan(bytes, kind: kind, { body(bytes, $0, $1) }, onError: { _ in })
        }
    }

    /// Whether a parameter of that name (case-insensitive) is present.
    public func contains(_ name: String) -> Bool {
        find(name) != nil
    }

    /// The value of the first parameter of that name (case-insensitive); nil when absent or
    /// when it has no value.
    public func value(_ name: String) -> Substring? {
        guard let value = find(name)?.value else { return nil }
        return raw.utf8Slice(value.lowerBound, value.upperBound)
    }

    /// The offsets of the first parameter of that name and of its value, comparing bytes
    /// (no Substring is made for the parameters passed over).
    private func find(_ name: String) -> (name: Range<Int>, value: Range<Int>?)? {
        var wanted = name
        return wanted.withUTF8 { wanted in
            raw.withUTF8Bytes { bytes in
                var found: (name: Range<Int>, value: Range<Int>?)?
                _ = Self.scan(bytes, kind: kind, { name, value in
                    guard SIPLexical.equalsIgnoringCase(UnsafeBufferPointer(rebasing: bytes[name]), wanted) else { return true }
                    found = (name, value)
                    return false
                }, onError: { _ in })
                return found
            }
        }
    }

    public var all: [(name: Substring, value: Substring?)] {
        var out: [(name: Substring, value: Substring?)] = []
        forEach { n, v in out.append((n, v)); return true }
        return out
    }

    /// Scans `;name[=value]` parameters, calling `body` with each name and value until it
    /// returns false. Returns false (after calling `onError`) on malformed input.
    @discardableResult
    static func scan(
        _ raw: Substring, kind: Kind,
        _ body: (Substring, Substring?) -> Bool,
        onError: (String) -> Void
    ) -> Bool {
        raw.withUTF8Bytes { bytes in
            scan(bytes, kind: kind, { name, value in
                body(raw.utf8Slice(name.lowerBound, name.upperBound), value.map { raw.utf8Slice($0.lowerBound, $0.upperBound) })
            }, onError: onError)
        }
    }

    /// ``scan(_:kind:_:onError:)`` over UTF-8 bytes, handing `body` the offsets of each name
    /// and value.
    static func scan(
        _ u: UnsafeBufferPointer<UInt8>, kind: Kind,
        _ body: (Range<Int>, Range<Int>?) -> Bool,
        onError: (String) -> Void
    ) -> Bool {
        let end = u.count
        let header = kind == .header
        var i = 0
        @inline(__always) func skipWSP() {
            if header { while i < end, SIPLexical.isWSP(u[i]) { i += 1 } }
        }
        @inline(__always) func isURIParamByte(_ b: UInt8) -> Bool { SIPLexical.isURIParamChar(b) || b == UInt8(ascii: "%") }
        while true {
            skipWSP()
            if i == end { return true }
            guard u[i] == UInt8(ascii: ";") else { onError("expected ';' before a parameter"); return false }
            i += 1
            skipWSP()
            let nameStart = i
            if header {
                while i < end, SIPLexical.isToken(u[i]) { i += 1 }
            } else {
                while i < end, isURIParamByte(u[i]) { i += 1 }
            }
            guard i > nameStart else { onError("empty parameter name"); return false }
            let name = nameStart..<i
            skipWSP()
            var value: Range<Int>?
            if i < end, u[i] == UInt8(ascii: "=") {
                i += 1
                skipWSP()
                let valueStart = i
                if header, i < end, u[i] == UInt8(ascii: "\"") {
                    guard let close = scanQuotedString(u, from: i) else { onError("unterminated quoted string"); return false }
                    i = close
                } else if header, i < end, u[i] == UInt8(ascii: "[") {
                    // An IPv6 reference as a value (received=[2001:db8::9]).
                    while i < end, u[i] != UInt8(ascii: "]") {
                        guard SIPLexical.isHex(u[i]) || u[i] == UInt8(ascii: ":") || u[i] == UInt8(ascii: ".") || u[i] == UInt8(ascii: "[") else {
                            onError("invalid IPv6 reference in parameter value"); return false
                        }
                        i += 1
                    }
                    guard i < end else { onError("unterminated IPv6 reference"); return false }
                    i += 1
                } else if header {
                    // token / host (IPv6 without brackets)
                    while i < end, SIPLexical.isToken(u[i]) || u[i] == UInt8(ascii: ":") { i += 1 }
                } else {
                    while i < end, isURIParamByte(u[i]) { i += 1 }
                }
                guard i > valueStart else {
                    let shown = String(decoding: UnsafeBufferPointer(rebasing: u[name.lowerBound..<min(name.upperBound, name.lowerBound + 32)]), as: UTF8.self)
                    onError("empty value for parameter '\(shown)'"); return false
                }
                value = valueStart..<i
            }
            if !body(name, value) { return true }
        }
    }
}

/// The offset just past the quoted-string opening at `open`, or nil when it is not terminated
/// on this line. A `\` escapes the next byte (but never CR or LF).
func scanQuotedString(_ u: UnsafeBufferPointer<UInt8>, from open: Int) -> Int? {
    var i = open + 1
    while i < u.count {
        let b = u[i]
        if b == UInt8(ascii: "\\") {
            i += 1
            guard i < u.count, u[i] != 0x0D, u[i] != 0x0A else { return nil }
        } else if b == UInt8(ascii: "\"") {
            return i + 1
        } else if b == 0x0D || b == 0x0A {
            return nil
        }
        i += 1
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
