#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SIPMessage {
    /// Parses one message.
    ///
    /// Over a datagram, a missing Content-Length means the body is the rest of the datagram
    /// and octets after the declared body are ignored (RFC 3261 §18.3, RFC 4475 §3.1.1.8); a
    /// declared length larger than what arrived is an error (RFC 4475 §3.1.2.2). Over a
    /// stream, the bytes must be exactly one message as ``SIPFraming`` cut it.
    public static func parse(
        _ bytes: [UInt8], framing: SIPFramingMode = .datagram, limits: SIPMessageLimits = .default
    ) throws(SIPParseError) -> SIPMessage {
        try parse(bytes[...], framing: framing, limits: limits)
    }

    public static func parse(
        _ bytes: ArraySlice<UInt8>, framing: SIPFramingMode = .datagram, limits: SIPMessageLimits = .default
    ) throws(SIPParseError) -> SIPMessage {
        guard bytes.count <= limits.maxMessageSize else {
            throw SIPParseError(.messageTooLarge, at: "message", "larger than \(limits.maxMessageSize) octets")
        }
        // Empty lines before the start line are ignored (RFC 3261 §7.5).
        var start = bytes.startIndex
        while start < bytes.endIndex, bytes[start] == 0x0D || bytes[start] == 0x0A { start += 1 }
        guard start < bytes.endIndex else { throw SIPParseError(.truncated, at: "message", "no start line") }
        guard let (headEnd, bodyStart) = findHeaderEnd(bytes, from: start) else {
            throw SIPParseError(.truncated, at: "message", "header section not terminated by an empty line")
        }
        guard let head = String(validating: bytes[start..<headEnd], as: UTF8.self) else {
            throw SIPParseError(.invalidUTF8, at: "header section", "not valid UTF-8")
        }
        var message = try parseHead(head, limits: limits)
        // Body framing.
        let available = bytes.endIndex - bodyStart
        if let declared = message.declaredContentLength {
            guard declared <= available else {
                throw SIPParseError(.bodyLengthMismatch, at: "Content-Length", "declares \(declared) octets but \(available) follow")
            }
            if framing == .stream, declared < available {
                throw SIPParseError(.bodyLengthMismatch, at: "Content-Length", "\(available - declared) octets after the body")
            }
            message.body = bytes[bodyStart..<(bodyStart + declared)]
        } else {
            message.body = bytes[bodyStart..<bytes.endIndex]
        }
        return message
    }

    /// Finds the empty line ending the header section: returns (end of the last header line,
    /// start of body). Accepts CRLF and, leniently, bare LF line ends.
    static func findHeaderEnd(_ bytes: ArraySlice<UInt8>, from start: Int) -> (Int, Int)? {
        bytes.withUnsafeBufferPointer { buf -> (Int, Int)? in
            let base = bytes.startIndex
            var i = start - base
            let n = buf.count
            while let lf = SIPBytes.firstLF(buf, from: i) {
                i = lf
                // LF followed by CRLF or LF ends the header section.
                if i + 1 < n, buf[i + 1] == 0x0A { return (base + (i > 0 && buf[i - 1] == 0x0D ? i - 1 : i), base + i + 2) }
                if i + 2 < n, buf[i + 1] == 0x0D, buf[i + 2] == 0x0A {
                    return (base + (i > 0 && buf[i - 1] == 0x0D ? i - 1 : i), base + i + 3)
                }
                i += 1
            }
            return nil
        }
    }

    /// Parses the start line and header fields of `head` (no trailing empty line).
    static func parseHead(_ head: String, limits: SIPMessageLimits) throws(SIPParseError) -> SIPMessage {
        let text = head[...]
        var startLine: StartLine?
        var headers: [SIPHeader] = []
        headers.reserveCapacity(16)
        // The closure fills these in place: a message is large, and returning one from a
        // closure copies it.
        try text.withUTF8Bytes { bytes throws(SIPParseError) in
            try splitHead(bytes, text, limits: limits, startLine: &startLine, headers: &headers)
        }
        guard let startLine = startLine.take() else { throw SIPParseError(.invalidStartLine, at: "start line", "missing") }
        var views = SIPMessageViews()
        for h in headers { try views.index(h) }
        return SIPMessage(startLine: startLine, headers: headers, body: [], views: views)
    }

    /// Finds the lines of the bytes of `text` and splits each header into name and value as
    /// offsets; a Substring of `text` is made only for each value.
    private static func splitHead(
        _ bytes: UnsafeBufferPointer<UInt8>, _ text: Substring, limits: SIPMessageLimits,
        startLine: inout StartLine?, headers: inout [SIPHeader]
    ) throws(SIPParseError) {
        var seenStartLine = false
        // The header being assembled (offsets of its first line); continuation lines join it.
        var pending: LineSpan?
        var pendingFolded: [LineSpan] = []

        func flush() throws(SIPParseError) {
            guard let line = pending else { return }
            pending = nil
            if pendingFolded.isEmpty {
                try headers.append(headerLine(bytes, line.start, line.end, in: text))
            } else {
                // Unfold: the CRLF and its following whitespace become one SP (RFC 3261 §7.3.1).
                var joined = String(text.utf8Slice(line.start, line.end))
                for piece in pendingFolded {
                    let (start, end) = SIPBytes.trimWSP(bytes, piece.start, piece.end)
                    joined += " "
                    joined += text.utf8Slice(start, end)
                }
                pendingFolded.removeAll()
                guard joined.utf8.count <= limits.maxHeaderLength else {
                    throw SIPParseError(.headerTooLong, at: "header", "longer than \(limits.maxHeaderLength) octets")
                }
                try headers.append(parseHeaderLine(Substring(joined), limits: limits))
            }
            guard headers.count <= limits.maxHeaderCount else {
                throw SIPParseError(.tooManyHeaders, at: "header section", "more than \(limits.maxHeaderCount) header fields")
            }
        }

        for span in Self.lineSpans(bytes) {
            guard span.end - span.start <= limits.maxHeaderLength else {
                throw SIPParseError(.headerTooLong, at: seenStartLine ? "header" : "start line", "longer than \(limits.maxHeaderLength) octets")
            }
            if span.hasInnerCR {
                throw SIPParseError(.invalidHeaderValue, at: "header section", "bare CR inside a line")
            }
            if !seenStartLine {
                startLine = try parseStartLine(text.utf8Slice(span.start, span.end))
                seenStartLine = true
            } else if span.end > span.start, SIPLexical.isWSP(bytes[span.start]) {
                guard pending != nil else { throw SIPParseError(.invalidHeaderName, at: "header section", "continuation line without a header") }
                pendingFolded.append(span)
            } else {
                try flush()
                pending = span
            }
        }
        try flush()
    }

    /// One line of the header section as UTF-8 offsets: `start..<end` without its CRLF or LF,
    /// and whether a CR appears inside it (not as part of the line end).
    struct LineSpan {
        var start: Int
        var end: Int
        var hasInnerCR: Bool
    }

    /// The lines of `head`, split at LF (a CR just before the LF belongs to the line end).
    static func lineSpans(_ head: String) -> [LineSpan] {
        head[...].withUTF8Bytes { lineSpans($0) }
    }

    static func lineSpans(_ bytes: UnsafeBufferPointer<UInt8>) -> [LineSpan] {
        var spans: [LineSpan] = []
        spans.reserveCapacity(24)
        var start = 0
        while start < bytes.count {
            // A line ends at the next LF; a CR inside it (not just before the LF) is refused by
            // the caller, so count them too.
            let lf = SIPBytes.firstLF(bytes, from: start) ?? bytes.count
            let endsWithCR = lf > start && bytes[lf - 1] == 0x0D
            let end = endsWithCR ? lf - 1 : lf
            var hasInnerCR = false
            if let base = bytes.baseAddress, end > start {
                hasInnerCR = memchr(base + start, 0x0D, end - start) != nil
            }
            spans.append(LineSpan(start: start, end: end, hasInnerCR: hasInnerCR))
            start = lf + 1
        }
        return spans
    }

    static func parseHeaderLine(_ line: Substring, limits: SIPMessageLimits) throws(SIPParseError) -> SIPHeader {
        try line.withUTF8Bytes { bytes throws(SIPParseError) in try headerLine(bytes, 0, bytes.count, in: line) }
    }

    /// The header field in `bytes[start..<end]`, the UTF-8 of `text`: a token name, optional
    /// white space, a colon, and the value without surrounding white space.
    private static func headerLine(
        _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, in text: Substring
    ) throws(SIPParseError) -> SIPHeader {
        var index = start
        while index < end, SIPLexical.isToken(bytes[index]) { index += 1 }
        let nameEnd = index
        guard nameEnd > start else { throw SIPParseError(.invalidHeaderName, at: "header", "missing or invalid header name") }
        while index < end, SIPLexical.isWSP(bytes[index]) { index += 1 }
        guard index < end, bytes[index] == UInt8(ascii: ":") else {
            let shown = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<min(nameEnd, start + 32)]), as: UTF8.self)
            throw SIPParseError(.invalidHeaderName, at: "header", "no ':' after header name '\(shown)'")
        }
        let (valueStart, valueEnd) = SIPBytes.trimWSP(bytes, index + 1, end)
        let name = SIPHeaderName.lookup(bytes, start, nameEnd).map(SIPHeaderName.init)
            ?? SIPHeaderName(unknown: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<nameEnd]), as: UTF8.self))
        return SIPHeader(name: name, value: text.utf8Slice(valueStart, valueEnd))
    }

    static func parseStartLine(_ line: Substring) throws(SIPParseError) -> StartLine {
        // Exactly one SP between elements (RFC 3261 §7.1; RFC 4475 §3.1.2.9, §3.1.2.10).
        enum Shape {
            case status(version: Int, code: Int, reason: Int?)
            case request(method: Int, uri: Range<Int>)
        }
        let shape = try line.withUTF8Bytes { u throws(SIPParseError) -> Shape in
            let end = u.count
            var sp1 = 0
            while sp1 < end, u[sp1] != 0x20 { sp1 += 1 }
            guard sp1 < end else { throw SIPParseError(.invalidStartLine, at: "start line", "no SP separating its elements") }
            if sp1 >= 4, SIPBytes.equalsLowercase(u, 0, 4, StaticString("sip/").utf8Buffer) {
                // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
                guard isValidVersion(u, 0, sp1) else { throw SIPParseError(.invalidVersion, at: "Status-Line", "malformed SIP-Version") }
                var i = sp1 + 1
                var code = 0, digits = 0
                while i < end, SIPLexical.isDigit(u[i]) {
                    code = code * 10 + Int(u[i] - 0x30); digits += 1
                    guard digits <= 3 else { throw SIPParseError(.invalidStatusCode, at: "Status-Line", "status code must be three digits") }
                    i += 1
                }
                guard digits == 3, code >= 100 else { throw SIPParseError(.invalidStatusCode, at: "Status-Line", "status code must be three digits, 100-699") }
                guard i < end else { return .status(version: sp1, code: code, reason: nil) }
                guard u[i] == 0x20 else { throw SIPParseError(.invalidStatusCode, at: "Status-Line", "status code must be followed by SP") }
                for k in (i + 1)..<end where u[k] < 0x20 && u[k] != 0x09 || u[k] == 0x7F {
                    throw SIPParseError(.invalidStartLine, at: "Reason-Phrase", "control character")
                }
                return .status(version: sp1, code: code, reason: i + 1)
            }
            // Request-Line = Method SP Request-URI SP SIP-Version
            guard sp1 > 0, (0..<sp1).allSatisfy({ SIPLexical.isToken(u[$0]) }) else {
                throw SIPParseError(.invalidMethod, at: "Request-Line", "method is not a token")
            }
            var sp2 = sp1 + 1
            while sp2 < end, u[sp2] != 0x20 { sp2 += 1 }
            guard sp2 < end else { throw SIPParseError(.invalidStartLine, at: "Request-Line", "missing SIP-Version") }
            guard sp2 > sp1 + 1, sp2 + 1 < end, !((sp2 + 1)..<end).contains(where: { u[$0] == 0x20 }) else {
                throw SIPParseError(.invalidStartLine, at: "Request-Line", "elements must be separated by exactly one SP")
            }
            guard isValidVersion(u, sp2 + 1, end) else { throw SIPParseError(.invalidVersion, at: "Request-Line", "malformed SIP-Version") }
            return .request(method: sp1, uri: (sp1 + 1)..<sp2)
        }
        let count = line.utf8.count
        switch shape {
        case .status(let versionEnd, let code, let reasonStart):
            let version = line.utf8Slice(0, versionEnd)
            let reason = reasonStart.map { line.utf8Slice($0, count) } ?? ""
            return .response(SIPStatusLine(version: version, code: code, reason: reason))
        case .request(let methodEnd, let uriRange):
            let version = line.utf8Slice(uriRange.upperBound + 1, count)
            let uri: SIPURI
            do { uri = try SIPURI(parsing: line.utf8Slice(uriRange.lowerBound, uriRange.upperBound)) } catch {
                throw SIPParseError(.invalidRequestURI, at: "Request-URI", error.detail)
            }
            // Headers are not allowed in a Request-URI (RFC 3261 §19.1.1, RFC 4475 §3.1.2.11).
            if uri.headers != nil {
                throw SIPParseError(.invalidRequestURI, at: "Request-URI", "headers are not allowed in a Request-URI")
            }
            return .request(SIPRequestLine(method: line.utf8Slice(0, methodEnd), uri: uri, version: version))
        }
    }

    /// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (an unknown version parses; the edge answers 505).
    private static func isValidVersion(_ u: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let count = end - start
        guard count >= 7, count <= 16, SIPBytes.equalsLowercase(u, start, 4, StaticString("sip/").utf8Buffer) else { return false }
        var dot = start + 4
        while dot < end, u[dot] != UInt8(ascii: ".") { dot += 1 }
        guard dot > start + 4, dot < end - 1 else { return false }
        return ((start + 4)..<dot).allSatisfy { SIPLexical.isDigit(u[$0]) } && ((dot + 1)..<end).allSatisfy { SIPLexical.isDigit(u[$0]) }
    }
}

extension SIPMessageViews {
    /// Validates a known header and records its typed value.
    mutating func index(_ header: SIPHeader) throws(SIPParseError) {
        guard let known = header.name.known else { return }
        let value = header.value
        // Named only where it is needed (errors, list splitting): most headers never use it.
        var location: String { known.canonicalName }
        func fail(_ d: String) -> SIPParseError { SIPParseError(.invalidHeaderValue, at: location, d) }
        switch known {
        case .via:
            try sipForEachListItem(value, location: location) { item throws(SIPParseError) in try vias.append(SIPVia(parsing: item)) }
        case .from, .to:
            let addr = try SIPNameAddr(parsing: value, location: location)
            if known == .from {
                if from == nil { from = addr } else { repeatedSingletons.insert(.from) }
            } else {
                if to == nil { to = addr } else { repeatedSingletons.insert(.to) }
            }
        case .callID:
            // callid = word [ "@" word ]
            let valid = value.withUTF8Bytes { u -> Bool in
                var ats = 0
                for b in u {
                    if b == UInt8(ascii: "@") { ats += 1 } else if !SIPLexical.isWord(b) { return false }
                }
                return !u.isEmpty && ats <= 1
            }
            guard valid else { throw fail("invalid Call-ID") }
            if callID == nil { callID = value } else { repeatedSingletons.insert(.callID) }
        case .cseq:
            let c = try SIPCSeq(parsing: value)
            if cseq == nil { cseq = c } else { repeatedSingletons.insert(.cseq) }
        case .maxForwards:
            guard let v = sipParseUInt(value, max: 255) else { throw fail("must be 0-255") }
            if maxForwards == nil { maxForwards = Int(v) } else { repeatedSingletons.insert(.maxForwards) }
        case .contentLength:
            guard let v = sipParseUInt(value, max: UInt64(UInt32.max)) else {
                throw SIPParseError(.invalidContentLength, at: location, "not a non-negative integer")
            }
            if let existing = declaredContentLength, existing != Int(v) {
                throw SIPParseError(.invalidContentLength, at: location, "conflicting values")
            }
            declaredContentLength = Int(v)
        case .expires:
            guard let v = sipParseUInt(value, max: UInt64(UInt32.max)) else { throw fail("must be 0-4294967295 seconds") }
            if expires == nil { expires = UInt32(v) } else { repeatedSingletons.insert(.expires) }
        case .minExpires:
            guard sipParseUInt(value, max: UInt64(UInt32.max)) != nil else { throw fail("must be 0-4294967295 seconds") }
        case .contact:
            try sipForEachListItem(value, location: location) { item throws(SIPParseError) in try contacts.append(SIPContact(parsing: item)) }
        case .route, .recordRoute:
            for item in try sipSplitList(value, location: location) {
                let addr = try SIPNameAddr(parsing: item, location: location)
                guard addr.bracketed else { throw fail("route URIs must be enclosed in <>") }
                if known == .route { routes.append(addr) } else { recordRoutes.append(addr) }
            }
        case .date:
            guard SIPDate.isValid(value) else { throw fail("not an RFC 1123 date in GMT") }
        case .retryAfter:
            // delta-seconds [ comment ] *( SEMI retry-param )
            let u = value.utf8
            let end = u.firstIndex { !SIPLexical.isDigit($0) } ?? u.endIndex
            guard sipParseUInt(Substring(u[u.startIndex..<end]), max: UInt64(UInt32.max)) != nil else {
                throw fail("delta-seconds missing or too large")
            }
        case .warning:
            for item in try sipSplitList(value, location: location) {
                // warn-code(3DIGIT) SP warn-agent SP warn-text
                let u = item.utf8
                let digits = u.prefix { SIPLexical.isDigit($0) }
                guard digits.count == 3, u.count > 3, u[u.index(u.startIndex, offsetBy: 3)] == 0x20 else {
                    throw fail("warn-code must be three digits")
                }
            }
        case .contentType:
            guard SIPMediaType.isValid(value) else { throw fail("not a media type") }
        case .require, .proxyRequire, .supported, .unsupported, .allow:
            // A list of tokens; Supported may be empty (RFC 3261 §20.37).
            if value.isEmpty, known == .supported { return }
            if let problem = value.withUTF8Bytes(sipTokenListProblem) { throw fail(problem) }
        default:
            return
        }
    }
}
