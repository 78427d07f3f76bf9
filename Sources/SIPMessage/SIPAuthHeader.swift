/// One `name=value` of a credentials or challenge header (RFC 3261 §25.1, RFC 7235 §2.1).
public struct SIPAuthParameter: Sendable, Hashable {
    /// The name, lower-cased (names are case-insensitive).
    public var name: String
    /// The value with quoting and `\` escapes removed.
    public var value: String
    /// Whether the value was (or is to be) sent as a quoted-string.
    public var quoted: Bool

    public init(name: String, value: String, quoted: Bool) {
        self.name = name.lowercased()
        self.value = value
        self.quoted = quoted
    }

    /// For the parser, which has lower-cased the name already.
    init(lowercasedName: String, value: String, quoted: Bool) {
        self.name = lowercasedName
        self.value = value
        self.quoted = quoted
    }
}

/// The value of an `Authorization`, `Proxy-Authorization`, `WWW-Authenticate` or
/// `Proxy-Authenticate` header: an auth scheme followed by comma-separated parameters
/// (RFC 3261 §25.1 `credentials` / `challenge`, RFC 7235 §2.1, RFC 7616).
///
/// Parsing is strict where ambiguity would be dangerous and lenient where real clients
/// differ harmlessly: any parameter order, any LWS (including folded lines) around `=` and
/// `,`, quoted or unquoted `algorithm`/`qop`/`nc`, unknown parameters kept; duplicate
/// parameters, unterminated quoted-strings, a missing `,` or `=` are refused. Work is linear in
/// the input and the number of parameters is capped, so no input can make parsing expensive.
public struct SIPAuthHeader: Sendable, Hashable, CustomStringConvertible {
    /// The auth scheme; `Digest` in any case is normalised to `"Digest"`, others are kept as sent.
    public var scheme: String
    /// Parameters in the order they were sent.
    public var parameters: [SIPAuthParameter]
    /// The RFC 7235 `token68` form some other schemes use (e.g. `Basic dXNlcjpwYXNz`);
    /// never set for `Digest`.
    public var token68: String?

    /// More parameters than any real header has; refusing beyond it bounds the duplicate check.
    public static let maximumParameterCount = 64

    public init(scheme: String, parameters: [SIPAuthParameter], token68: String? = nil) {
        self.scheme = scheme
        self.parameters = parameters
        self.token68 = token68
    }

    /// Parses a header field value (the text after the colon; it may contain folded lines).
    /// - Parameter headerName: used only to locate errors.
    public init(parsing value: Substring, headerName: String = "Authorization") throws(SIPParseError) {
        var text = value
        let result = text.withUTF8 { buffer in
            var parser = AuthHeaderParser(bytes: buffer, location: headerName)
            return parser.parse()
        }
        self = try result.get()
    }

    public init(parsing value: String, headerName: String = "Authorization") throws(SIPParseError) {
        try self.init(parsing: Substring(value), headerName: headerName)
    }

    /// True for the `Digest` scheme.
    public var isDigest: Bool { scheme == "Digest" }

    /// The parameter of that name (case-insensitive), if present.
    public func parameter(_ name: String) -> SIPAuthParameter? {
        // Stored names are lower case, and so is nearly every name asked for: compare whole
        // strings first, case-insensitively only when that finds nothing.
        if let exact = parameters.first(where: { $0.name == name }) { return exact }
        return parameters.first { SIPLexical.equalsIgnoringCase($0.name.utf8, name.utf8) }
    }

    /// The unescaped value of the parameter of that name (case-insensitive), if present.
    public subscript(name: String) -> String? { parameter(name)?.value }

    /// The user name the credentials claim: `username`, or the decoded RFC 8187 `username*`
    /// (e.g. `UTF-8''J%C3%A4s%C3%B8n%20Doe` → `Jäsøn Doe`). `nil` when neither is present, when
    /// both are (RFC 7616 §3.4 forbids it), or when `username*` is not a valid ext-value.
    /// With `userhash=true` this is the hash; resolving it needs the user store.
    public var effectiveUsername: String? {
        switch (parameter("username"), parameter("username*")) {
        case (let plain?, nil): plain.value
        case (nil, let extended?): Self.decodeExtValue(extended.value)
        default: nil
        }
    }

    /// The header value: scheme, then `name=value` pairs joined by `, `. A value is quoted
    /// when `quoted` says so or when it is not a token; `"` and `\` are escaped. CR and LF,
    /// which no quoted-string can carry, become SP so a value can never end the header line.
    public var serialized: String {
        var out = scheme
        if let token68 {
            out += " "
            out += token68
            return out
        }
        for (index, parameter) in parameters.enumerated() {
            out += index == 0 ? " " : ", "
            out += parameter.name
            out += "="
            let value = parameter.value
            if parameter.quoted || value.isEmpty || !value.utf8.allSatisfy(SIPLexical.isToken) {
                Self.appendQuoted(value, to: &out)
            } else {
                out += value
            }
        }
        return out
    }

    public var description: String { serialized }

    private static func appendQuoted(_ value: String, to out: inout String) {
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        bytes.reserveCapacity(value.utf8.count + 2)
        for byte in value.utf8 {
            switch byte {
            case 0x0D, 0x0A:
                bytes.append(0x20)
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x00...0x08, 0x0B, 0x0C, 0x0E...0x1F, 0x7F:
                // quoted-pair admits every ASCII octet except CR and LF.
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        out += String(decoding: bytes, as: UTF8.self)
    }

    /// RFC 8187 `ext-value` = charset "'" [ language ] "'" value-chars, for UTF-8 and ISO-8859-1.
    static func decodeExtValue(_ text: String) -> String? {
        let parts = text.utf8.split(separator: UInt8(ascii: "'"), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty,
              parts[1].allSatisfy({ SIPLexical.isAlphanum($0) || $0 == UInt8(ascii: "-") })
        else { return nil }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(parts[2].count)
        var iterator = parts[2].makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      SIPLexical.isHex(high), SIPLexical.isHex(low) else { return nil }
                decoded.append(SIPLexical.hexValue(high) << 4 | SIPLexical.hexValue(low))
            } else if isAttrChar(byte) {
                decoded.append(byte)
            } else {
                return nil
            }
        }
        if SIPLexical.equalsIgnoringCase(parts[0], "utf-8".utf8) {
            return String(validating: decoded, as: UTF8.self)
        }
        if SIPLexical.equalsIgnoringCase(parts[0], "iso-8859-1".utf8) {
            // Every ISO-8859-1 octet is the Unicode scalar of the same number.
            var result = ""
            result.unicodeScalars.append(contentsOf: decoded.map { Unicode.Scalar($0) })
            return result
        }
        return nil
    }

    /// RFC 8187 `attr-char`.
    private static func isAttrChar(_ byte: UInt8) -> Bool {
        if SIPLexical.isAlphanum(byte) { return true }
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
            UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

/// A single forward pass over the header value's UTF-8 bytes.
private struct AuthHeaderParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let location: String
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, location: String) {
        self.bytes = bytes
        self.location = location
    }

    private func failure(_ detail: String) -> Result<SIPAuthHeader, SIPParseError> {
        .failure(SIPParseError(.invalidAuthorization, at: location, detail))
    }

    private var atEnd: Bool { index >= bytes.count }

    /// Skips LWS: SP/HTAB and folds (CRLF followed by SP/HTAB). Returns whether anything was skipped.
    @discardableResult
    private mutating func skipLWS() -> Bool {
        let start = index
        while index < bytes.count {
            if SIPLexical.isWSP(bytes[index]) {
                index += 1
            } else if isFold(at: index) {
                index += 3
            } else {
                break
            }
        }
        return index > start
    }

    private func isFold(at position: Int) -> Bool {
        position + 2 < bytes.count && bytes[position] == 0x0D && bytes[position + 1] == 0x0A
            && SIPLexical.isWSP(bytes[position + 2])
    }

    private mutating func scanToken() -> Range<Int>? {
        let start = index
        while index < bytes.count, SIPLexical.isToken(bytes[index]) { index += 1 }
        return index > start ? start..<index : nil
    }

    private func string(_ range: Range<Int>) -> String {
        // Ranges end at ASCII delimiters, so the slice is always whole UTF-8.
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private func lowercasedString(_ range: Range<Int>) -> String {
        // Tokens are ASCII; names are nearly always sent in lower case already.
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        if !slice.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return String(decoding: slice, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: slice.count) { out in
            for (i, byte) in slice.enumerated() { out[i] = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte }
            return slice.count
        }
    }

    mutating func parse() -> Result<SIPAuthHeader, SIPParseError> {
        skipLWS()
        guard let schemeRange = scanToken() else { return failure("missing auth scheme") }
        let isDigest = SIPLexical.equalsIgnoringCase(bytes[schemeRange], "digest".utf8)
        let scheme = isDigest ? "Digest" : string(schemeRange)
        let separated = skipLWS()
        if atEnd {
            // RFC 7235 allows a bare scheme; Digest always needs parameters.
            return isDigest ? failure("Digest without parameters") : .success(SIPAuthHeader(scheme: scheme, parameters: []))
        }
        guard separated else { return failure("missing space after auth scheme") }
        if !isDigest, let token68 = scanToken68() {
            return .success(SIPAuthHeader(scheme: scheme, parameters: [], token68: token68))
        }
        var parameters: [SIPAuthParameter] = []
        parameters.reserveCapacity(12)
        while true {
            guard let nameRange = scanToken() else { return failure("parameter name expected") }
            skipLWS()
            guard !atEnd, bytes[index] == UInt8(ascii: "=") else { return failure("missing '=' after parameter name") }
            index += 1
            skipLWS()
            let value: String
            let quoted: Bool
            if !atEnd, bytes[index] == UInt8(ascii: "\"") {
                switch scanQuotedString() {
                case .success(let text): value = text
                case .failure(let error): return .failure(error)
                }
                quoted = true
            } else {
                guard let valueRange = scanToken() else { return failure("parameter value expected") }
                value = string(valueRange)
                quoted = false
            }
            let name = lowercasedString(nameRange)
            guard parameters.count < SIPAuthHeader.maximumParameterCount else { return failure("too many parameters") }
            guard !parameters.contains(where: { $0.name == name }) else { return failure("duplicate parameter") }
            parameters.append(SIPAuthParameter(lowercasedName: name, value: value, quoted: quoted))
            skipLWS()
            if atEnd { break }
            guard bytes[index] == UInt8(ascii: ",") else { return failure("missing ',' between parameters") }
            // RFC 7230 §7: empty list elements (", ,") and a trailing comma are allowed.
            while !atEnd, bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipLWS()
            }
            if atEnd { break }
        }
        return .success(SIPAuthHeader(scheme: scheme, parameters: parameters))
    }

    /// `token68` = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", alone to the end.
    /// Leaves `index` unchanged when the rest is not exactly that.
    private mutating func scanToken68() -> String? {
        let start = index
        var position = index
        while position < bytes.count, SIPLexical.isAlphanum(bytes[position]) || "-._~+/".utf8.contains(bytes[position]) {
            position += 1
        }
        guard position > start else { return nil }
        while position < bytes.count, bytes[position] == UInt8(ascii: "=") { position += 1 }
        let end = position
        index = position
        skipLWS()
        guard atEnd else {
            index = start
            return nil
        }
        return string(start..<end)
    }

    /// Reads a quoted-string starting at the opening quote; returns its unescaped content.
    /// A fold inside becomes one SP (RFC 3261 §7.3.1); raw controls and escaped CR/LF are refused.
    private mutating func scanQuotedString() -> Result<String, SIPParseError> {
        index += 1
        // Fast path: plain qdtext up to the closing quote (no escape, fold or control) is the
        // value as it stands, taken without a copy through an intermediate array.
        var end = index
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
                index = end + 1
                return .success(value)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 || byte == 0x7F { break }
            end += 1
        }
        var content: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return .success(String(decoding: content, as: UTF8.self))
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else {
                    return .failure(SIPParseError(.invalidAuthorization, at: location, "unterminated quoted-string"))
                }
                let escaped = bytes[index + 1]
                guard escaped <= 0x7F, escaped != 0x0D, escaped != 0x0A else {
                    return .failure(SIPParseError(.invalidAuthorization, at: location, "invalid escape in quoted-string"))
                }
                content.append(escaped)
                index += 2
            case 0x0D:
                guard isFold(at: index) else {
                    return .failure(SIPParseError(.invalidAuthorization, at: location, "bare CR in quoted-string"))
                }
                content.append(0x20)
                index += 2
                while index < bytes.count, SIPLexical.isWSP(bytes[index]) { index += 1 }
            case 0x09:
                content.append(byte)
                index += 1
            case 0x00...0x1F, 0x7F:
                return .failure(SIPParseError(.invalidAuthorization, at: location, "control character in quoted-string"))
            default:
                // qdtext, including UTF8-NONASCII (the buffer is valid UTF-8).
                content.append(byte)
                index += 1
            }
        }
        return .failure(SIPParseError(.invalidAuthorization, at: location, "unterminated quoted-string"))
    }
}
