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
        let result = text.withUTF8 { buffer -> Result<SIPAuthHeader, SIPParseError> in
            var parameters: [SIPAuthParameter] = []
            parameters.reserveCapacity(12)
            let scanned = AuthHeaderScanner.scan(buffer, location: headerName) { raw in
                let value = raw.isVerbatim
                    ? String(decoding: raw.value, as: UTF8.self)
                    : AuthHeaderScanner.unescapedQuotedContent(raw.value)
                parameters.append(SIPAuthParameter(
                    lowercasedName: AuthHeaderScanner.lowercasedString(raw.name), value: value, quoted: raw.quoted))
            }
            return scanned.map { outcome in
                let scheme = outcome.isDigest ? "Digest" : AuthHeaderScanner.string(buffer, outcome.schemeOffsets)
                let token68 = outcome.token68Offsets.map { AuthHeaderScanner.string(buffer, $0) }
                return SIPAuthHeader(scheme: scheme, parameters: parameters, token68: token68)
            }
        }
        self = try result.get()
    }

    /// Scans a header field value exactly as ``init(parsing:headerName:)`` does (same acceptance,
    /// same errors) without building any string: each parameter is handed to `visit` as byte
    /// views into the value, valid only during that call. For hot paths (Digest verification)
    /// that read a few parameters; a value that fails to parse may have visited some parameters
    /// before the error.
    public static func scan(
        _ value: Substring, headerName: String = "Authorization", _ visit: (SIPAuthRawParameter) -> Void
    ) -> Result<SIPAuthHeaderScan, SIPParseError> {
        var text = value
        return text.withUTF8 { scan(utf8: $0, headerName: headerName, visit) }
    }

    /// ``scan(_:headerName:_:)`` over the UTF-8 bytes of a header field value; offsets are
    /// relative to the start of `utf8`.
    public static func scan(
        utf8: UnsafeBufferPointer<UInt8>, headerName: String = "Authorization", _ visit: (SIPAuthRawParameter) -> Void
    ) -> Result<SIPAuthHeaderScan, SIPParseError> {
        AuthHeaderScanner.scan(utf8, location: headerName, visit).map {
            SIPAuthHeaderScan(isDigest: $0.isDigest, hasToken68: $0.token68Offsets != nil, parameterCount: $0.parameterCount)
        }
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

/// One parameter as ``SIPAuthHeader/scan(_:headerName:_:)`` found it. The buffers point into the
/// header value and are valid only during the callback that receives them.
public struct SIPAuthRawParameter {
    /// The name as sent (names are case-insensitive; see ``nameEquals(_:)``).
    public let name: UnsafeBufferPointer<UInt8>
    /// The token, or the content between the quotes of a quoted-string (still escaped unless
    /// ``isVerbatim``).
    public let value: UnsafeBufferPointer<UInt8>
    /// Where ``value`` lies in the header value, as UTF-8 offsets from its start.
    public let valueOffsets: Range<Int>
    /// Whether the value was a quoted-string.
    public let quoted: Bool
    /// True when ``value`` is the parameter's value as it stands: a token, or a quoted-string
    /// without escapes, folds or HTAB. Otherwise ``SIPAuthHeader/init(parsing:headerName:)``
    /// gives the unescaped value.
    public let isVerbatim: Bool

    /// Whether the name is `lowercasedName` (which must be lower case), ignoring case.
    public func nameEquals(_ lowercasedName: StaticString) -> Bool {
        guard name.count == lowercasedName.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: lowercasedName.utf8Start, count: lowercasedName.utf8CodeUnitCount)
        for position in 0..<name.count {
            let byte = name[position]
            if ((byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte) != expected[position] { return false }
        }
        return true
    }
}

/// What ``SIPAuthHeader/scan(_:headerName:_:)`` found besides the parameters.
public struct SIPAuthHeaderScan: Sendable, Hashable {
    /// The scheme is `Digest` (any case).
    public let isDigest: Bool
    /// The value is a scheme with a `token68` (never for Digest).
    public let hasToken68: Bool
    /// Parameters visited.
    public let parameterCount: Int
}

/// A single forward pass over the header value's UTF-8 bytes. It only validates and locates;
/// building strings is left to the caller (``SIPAuthHeader/init(parsing:headerName:)``).
private struct AuthHeaderScanner {
    struct Outcome {
        var isDigest: Bool
        var schemeOffsets: Range<Int>
        var token68Offsets: Range<Int>?
        var parameterCount: Int
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let location: String
    /// Names of the parameters so far, for the duplicate check (capacity: the parameter cap).
    let names: UnsafeMutableBufferPointer<Range<Int>>
    var index = 0

    static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>, location: String, _ visit: (SIPAuthRawParameter) -> Void
    ) -> Result<Outcome, SIPParseError> {
        // 64 ranges of 16 bytes: small enough to always live on the stack.
        withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: SIPAuthHeader.maximumParameterCount) { names in
            var scanner = AuthHeaderScanner(bytes: bytes, location: location, names: names)
            return scanner.scan(visit)
        }
    }

    private func failure(_ detail: String) -> Result<Outcome, SIPParseError> {
        .failure(SIPParseError(.invalidAuthorization, at: location, detail))
    }

    private var atEnd: Bool { index >= bytes.count }

    /// Skips LWS: SP/HTAB and folds (CRLF followed by SP/HTAB). Returns whether anything was skipped.
    @discardableResult
    @inline(__always)
    private mutating func skipLWS() -> Bool {
        let start = index
        // Most delimiters have no white space around them.
        if index < bytes.count, bytes[index] > 0x20 { return false }
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
        // A local cursor over the raw pointer: the loop stays in registers (this runs for
        // every name and unquoted value of every credentials header the edge verifies).
        let start = index
        guard let base = bytes.baseAddress else { return nil }
        var end = start
        let count = bytes.count
        while end < count, Self.isToken(base[end]) { end += 1 }
        index = end
        return end > start ? start..<end : nil
    }

    /// ``SIPLexical/isToken(_:)`` as a bitmap lookup (no branch per character class).
    @inline(__always)
    private static func isToken(_ byte: UInt8) -> Bool {
        let below64: UInt64 = 0x03FF_6CA2_0000_0000  // ! % ' * + - . 0-9
        let below128: UInt64 = 0x47FF_FFFF_87FF_FFFE  // A-Z _ ` a-z ~
        let bits = byte < 64 ? below64 : below128
        return byte < 128 && (bits >> UInt64(byte & 63)) & 1 != 0
    }

    private func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[range])
    }

    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        // Ranges end at ASCII delimiters, so the slice is always whole UTF-8.
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    static func lowercasedString(_ slice: UnsafeBufferPointer<UInt8>) -> String {
        // Tokens are ASCII; names are nearly always sent in lower case already.
        if !slice.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return String(decoding: slice, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: slice.count) { out in
            for (i, byte) in slice.enumerated() { out[i] = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte }
            return slice.count
        }
    }

    /// Whether the six bytes at `start` (a token) are `digest` in any case. Setting bit 5 folds
    /// upper-case letters only onto their lower-case selves among token characters, so no other
    /// token matches.
    @inline(__always)
    private static func isDigestScheme(_ start: UnsafePointer<UInt8>) -> Bool {
        var word: UInt64 = 0
        withUnsafeMutableBytes(of: &word) { $0.baseAddress!.copyMemory(from: start, byteCount: 6) }
        return UInt64(littleEndian: word) | 0x2020_2020_2020 == 0x7473_6567_6964  // "digest"
    }

    /// Whether two names (tokens, so ASCII) are equal ignoring case.
    private func sameName(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        var i = a.lowerBound
        var j = b.lowerBound
        while i < a.upperBound {
            let x = bytes[i]
            let y = bytes[j]
            if x != y, ((x >= 0x41 && x <= 0x5A) ? x | 0x20 : x) != ((y >= 0x41 && y <= 0x5A) ? y | 0x20 : y) { return false }
            i += 1
            j += 1
        }
        return true
    }

    mutating func scan(_ visit: (SIPAuthRawParameter) -> Void) -> Result<Outcome, SIPParseError> {
        skipLWS()
        guard let schemeRange = scanToken() else { return failure("missing auth scheme") }
        let isDigest = schemeRange.count == 6 && Self.isDigestScheme(bytes.baseAddress! + schemeRange.lowerBound)
        var outcome = Outcome(isDigest: isDigest, schemeOffsets: schemeRange, token68Offsets: nil, parameterCount: 0)
        let separated = skipLWS()
        if atEnd {
            // RFC 7235 allows a bare scheme; Digest always needs parameters.
            return isDigest ? failure("Digest without parameters") : .success(outcome)
        }
        guard separated else { return failure("missing space after auth scheme") }
        if !isDigest, let token68 = scanToken68() {
            outcome.token68Offsets = token68
            return .success(outcome)
        }
        var count = 0
        var seenNames: UInt64 = 0
        while true {
            guard let nameRange = scanToken() else { return failure("parameter name expected") }
            skipLWS()
            guard !atEnd, bytes[index] == UInt8(ascii: "=") else { return failure("missing '=' after parameter name") }
            index += 1
            skipLWS()
            let valueRange: Range<Int>
            let quoted: Bool
            let verbatim: Bool
            if !atEnd, bytes[index] == UInt8(ascii: "\"") {
                switch scanQuotedString() {
                case .success(let content): (valueRange, verbatim) = content
                case .failure(let error): return .failure(error)
                }
                quoted = true
            } else {
                guard let range = scanToken() else { return failure("parameter value expected") }
                (valueRange, verbatim) = (range, true)
                quoted = false
            }
            guard count < SIPAuthHeader.maximumParameterCount, count < names.count else { return failure("too many parameters") }
            // Names are compared only when their length and case-folded last byte collide in
            // this 64-bit filter; no false negative, so a duplicate is always found.
            let fingerprint = UInt64(1) << UInt64((nameRange.count &* 7 &+ Int(bytes[nameRange.upperBound - 1] | 0x20)) & 63)
            if seenNames & fingerprint != 0 {
                for earlier in 0..<count where sameName(names[earlier], nameRange) { return failure("duplicate parameter") }
            }
            seenNames |= fingerprint
            names[count] = nameRange
            count += 1
            visit(SIPAuthRawParameter(
                name: slice(nameRange), value: slice(valueRange), valueOffsets: valueRange, quoted: quoted, isVerbatim: verbatim))
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
        outcome.parameterCount = count
        return .success(outcome)
    }

    /// `token68` = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", alone to the end.
    /// Leaves `index` unchanged when the rest is not exactly that.
    private mutating func scanToken68() -> Range<Int>? {
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
        return start..<end
    }

    /// Reads a quoted-string starting at the opening quote: the range of its content (between
    /// the quotes) and whether that content is the value as it stands. A fold inside stands for
    /// one SP (RFC 3261 §7.3.1); raw controls and escaped CR/LF are refused.
    private mutating func scanQuotedString() -> Result<(Range<Int>, Bool), SIPParseError> {
        index += 1
        let start = index
        // Fast path: plain qdtext up to the closing quote (no escape, fold or control), eight
        // bytes at a time while no byte of the word may be special, then byte by byte.
        var end = index
        if let base = bytes.baseAddress {
            while end + 8 <= bytes.count, !Self.mayHoldSpecialByte(UnsafeRawPointer(base + end).loadUnaligned(as: UInt64.self)) {
                end += 8
            }
        }
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                index = end + 1
                return .success((start..<end, true))
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 || byte == 0x7F { break }
            end += 1
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                let content = start..<index
                index += 1
                return .success((content, false))
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else {
                    return .failure(SIPParseError(.invalidAuthorization, at: location, "unterminated quoted-string"))
                }
                let escaped = bytes[index + 1]
                guard escaped <= 0x7F, escaped != 0x0D, escaped != 0x0A else {
                    return .failure(SIPParseError(.invalidAuthorization, at: location, "invalid escape in quoted-string"))
                }
                index += 2
            case 0x0D:
                guard isFold(at: index) else {
                    return .failure(SIPParseError(.invalidAuthorization, at: location, "bare CR in quoted-string"))
                }
                index += 2
                while index < bytes.count, SIPLexical.isWSP(bytes[index]) { index += 1 }
            case 0x09:
                index += 1
            case 0x00...0x1F, 0x7F:
                return .failure(SIPParseError(.invalidAuthorization, at: location, "control character in quoted-string"))
            default:
                // qdtext, including UTF8-NONASCII (the buffer is valid UTF-8).
                index += 1
            }
        }
        return .failure(SIPParseError(.invalidAuthorization, at: location, "unterminated quoted-string"))
    }

    /// Whether any of the eight bytes of `word` is `"`, `\`, DEL or below SP (exact: no false
    /// negative; the byte loop after it decides).
    @inline(__always)
    private static func mayHoldSpecialByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        let below = (word &- ones &* 0x20) & ~word & highs != 0
        return below || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C)) || hasZeroByte(word ^ (ones &* 0x7F))
    }

    /// The value of quoted-string content that ``scanQuotedString()`` accepted: `\x` becomes `x`,
    /// a fold (CRLF and the SP/HTAB after it) one SP. Reads only inside `content`.
    static func unescapedQuotedContent(_ content: UnsafeBufferPointer<UInt8>) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(content.count)
        var index = 0
        while index < content.count {
            let byte = content[index]
            switch byte {
            case UInt8(ascii: "\\") where index + 1 < content.count:
                bytes.append(content[index + 1])
                index += 2
            case 0x0D:
                bytes.append(0x20)
                index += 1
                if index < content.count, content[index] == 0x0A { index += 1 }
                while index < content.count, SIPLexical.isWSP(content[index]) { index += 1 }
            default:
                bytes.append(byte)
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
