/// How the bytes handed to the parser were framed (RFC 3261 §18.3).
public enum SIPFramingMode: Sendable, Hashable {
    /// One UDP datagram: without Content-Length the body is the rest of the datagram, and
    /// octets after the declared body are ignored.
    case datagram
    /// One message cut from a stream by ``SIPFraming``: the bytes must end where the body ends.
    case stream
}

/// Bounds every parse so that no input can make the parser allocate without limit.
public struct SIPMessageLimits: Sendable, Hashable {
    public var maxMessageSize: Int
    public var maxHeaderCount: Int
    /// Longest start line or header field, after unfolding.
    public var maxHeaderLength: Int

    public init(maxMessageSize: Int = 65_536, maxHeaderCount: Int = 256, maxHeaderLength: Int = 16_384) {
        self.maxMessageSize = maxMessageSize
        self.maxHeaderCount = maxHeaderCount
        self.maxHeaderLength = maxHeaderLength
    }

    public static let `default` = SIPMessageLimits()
}

public struct SIPRequestLine: Sendable, Hashable {
    public var method: Substring
    public var uri: SIPURI
    public var version: Substring
}

public struct SIPStatusLine: Sendable, Hashable {
    public var version: Substring
    public var code: Int
    public var reason: Substring
}

/// A SIP request or response.
///
/// The header section is held as one `String`; header values, URIs and typed fields are
/// `Substring` slices of it, so parsing allocates a handful of buffers however many headers
/// there are. The headers the edge reads on every message (Via, From, To, Call-ID, CSeq,
/// Max-Forwards, Content-Length, Expires, Contact, Route, Record-Route) are validated and
/// typed while parsing; everything else is kept as text and interpreted on demand. See the
/// module README for the design.
public struct SIPMessage: Sendable {
    public enum StartLine: Sendable, Hashable {
        case request(SIPRequestLine)
        case response(SIPStatusLine)
    }

    public internal(set) var startLine: StartLine
    /// Header fields in received order, folding undone.
    public internal(set) var headers: [SIPHeader]
    public var body: ArraySlice<UInt8>

    /// The typed views, kept in step with `headers` by every mutating method. They sit behind
    /// one reference: inline they made a message 1.2 KB with some thirty reference counts, all
    /// copied whenever a message is (into a transaction, a task, a response).
    var viewBox: SIPMessageViewBox

    public var vias: [SIPVia] { viewBox.views.vias }
    public var from: SIPNameAddr? { viewBox.views.from }
    public var to: SIPNameAddr? { viewBox.views.to }
    public var callID: Substring? { viewBox.views.callID }
    public var cseq: SIPCSeq? { viewBox.views.cseq }
    public var maxForwards: Int? { viewBox.views.maxForwards }
    public var expires: UInt32? { viewBox.views.expires }
    public var contacts: [SIPContact] { viewBox.views.contacts }
    public var routes: [SIPNameAddr] { viewBox.views.routes }
    public var recordRoutes: [SIPNameAddr] { viewBox.views.recordRoutes }
    /// The Content-Length value as declared (nil when absent).
    public var declaredContentLength: Int? { viewBox.views.declaredContentLength }
    /// Single-valued headers that appeared more than once (RFC 4475 §3.3.8); the typed view
    /// holds the first. The edge answers such requests with 400.
    public var repeatedSingletons: Set<SIPHeaderName.Known> { viewBox.views.repeatedSingletons }

    init(startLine: StartLine, headers: [SIPHeader], body: ArraySlice<UInt8>, views: SIPMessageViews = SIPMessageViews()) {
        self.startLine = startLine
        self.headers = headers
        self.body = body
        self.viewBox = SIPMessageViewBox(views)
    }

    // MARK: Start line

    public var isRequest: Bool {
        if case .request = startLine { return true }
        return false
    }

    public var requestLine: SIPRequestLine? {
        if case .request(let r) = startLine { return r }
        return nil
    }

    public var statusLine: SIPStatusLine? {
        if case .response(let s) = startLine { return s }
        return nil
    }

    public var method: Substring? { requestLine?.method }
    public var requestURI: SIPURI? { requestLine?.uri }
    public var statusCode: Int? { statusLine?.code }

    /// The topmost Via.
    public var topVia: SIPVia? { vias.first }

    // MARK: Header access

    /// The first value of a header, by name.
    public func header(_ name: SIPHeaderName) -> Substring? {
        headers.first { $0.name == name }?.value
    }

    public func header(_ known: SIPHeaderName.Known) -> Substring? {
        for h in headers where h.name.known == known { return h.value }
        return nil
    }

    /// All values of a header, by name, in order (list headers are not split).
    public func headers(_ known: SIPHeaderName.Known) -> [Substring] {
        headers.compactMap { $0.name.known == known ? $0.value : nil }
    }

    public func headers(named name: String) -> [Substring] {
        let n = SIPHeaderName(name)
        return headers.compactMap { $0.name == n ? $0.value : nil }
    }

    public var contentType: Substring? { header(.contentType) }

    // MARK: Mutation (B2BUA, proxies)

    /// Appends a header; known headers are validated and the typed view updated.
    public mutating func append(_ header: SIPHeader) throws(SIPParseError) {
        switch header.name.known {
        case .via?, .from?, .to?, .callID?, .cseq?, .maxForwards?, .expires?, .contact?, .route?, .recordRoute?, .contentLength?:
            var views = viewBox.views
            try views.index(header)
            viewBox = SIPMessageViewBox(views)
        default:
            // No typed view to update (Server, Date, WWW-Authenticate …): validate only.
            var scratch = SIPMessageViews()
            try scratch.index(header)
        }
        headers.append(header)
    }

    /// Inserts a header before the first header of the same name (or at the top when none).
    public mutating func prepend(_ header: SIPHeader) throws(SIPParseError) {
        let at = headers.firstIndex { $0.name == header.name } ?? 0
        headers.insert(header, at: at)
        try reindex()
    }

    /// Removes every header of that name.
    public mutating func removeAll(_ name: SIPHeaderName) {
        headers.removeAll { $0.name == name }
        try? reindex()  // removing values cannot make the remaining ones invalid
    }

    public mutating func removeAll(_ known: SIPHeaderName.Known) { removeAll(SIPHeaderName(known)) }

    /// Replaces every header of that name by one with the given value (at the first one's place).
    public mutating func set(_ known: SIPHeaderName.Known, _ value: String) throws(SIPParseError) {
        let name = SIPHeaderName(known)
        let header = SIPHeader(name: name, value: Substring(value))
        if let first = headers.firstIndex(where: { $0.name == name }) {
            headers[first] = header
            var i = headers.index(after: first)
            while i < headers.endIndex {
                if headers[i].name == name { headers.remove(at: i) } else { i = headers.index(after: i) }
            }
        } else {
            headers.append(header)
        }
        try reindex()
    }

    /// Removes the topmost Via value (a response travelling back through a proxy).
    public mutating func removeTopVia() {
        guard let idx = headers.firstIndex(where: { $0.name.known == .via }) else { return }
        var remaining: [Substring] = []
        sipForEachListElement(headers[idx].value) { remaining.append($0) }
        remaining.removeFirst()
        if remaining.isEmpty {
            headers.remove(at: idx)
        } else {
            headers[idx].value = Substring(remaining.joined(separator: ", "))
        }
        try? reindex()
    }

    /// Adds `received` and fills in `rport` on the topmost Via (RFC 3261 §18.2.1, RFC 3581 §4).
    public mutating func setReceived(_ host: String, rport: Int?) {
        guard let idx = headers.firstIndex(where: { $0.name.known == .via }), let top = vias.first else { return }
        var text = String(top.raw.prefix(upTo: top.parameters.raw.startIndex))
        var sawRPort = false
        top.parameters.forEach { name, value in
            if name.equalsLowercase("received") { return true }
            if name.equalsLowercase("rport") {
                sawRPort = true
                if let rport { text += ";rport=\(rport)" } else if let value { text += ";rport=\(value)" } else { text += ";rport" }
                return true
            }
            text += ";\(name)"
            if let value { text += "=\(value)" }
            return true
        }
        _ = sawRPort
        text += ";received=\(host)"
        var rest: [Substring] = []
        var first = true
        sipForEachListElement(headers[idx].value) { element in
            if first { first = false; return }
            rest.append(element)
        }
        headers[idx].value = Substring(([text] + rest.map(String.init)).joined(separator: ", "))
        // Only the Via values changed: re-derive that view alone.
        var views = viewBox.views
        views.vias = []
        for h in headers where h.name.known == .via { try? views.index(h) }
        viewBox = SIPMessageViewBox(views)
    }

    /// Re-derives the typed views from `headers` (after a mutation).
    mutating func reindex() throws(SIPParseError) {
        var views = SIPMessageViews()
        for h in headers { try views.index(h) }
        viewBox = SIPMessageViewBox(views)
    }

    // MARK: Serialization

    /// The message on the wire: start line, headers in order (canonical names), and a
    /// Content-Length that always matches the body.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + headers.count * 48 + body.count)
        switch startLine {
        case .request(let r):
            out.appendUTF8(r.method); out.append(0x20)
            out.appendUTF8(r.uri.raw); out.append(0x20)
            out.appendUTF8(r.version)
        case .response(let s):
            out.appendUTF8(s.version); out.append(0x20)
            Self.appendDecimal(s.code, to: &out); out.append(0x20)
            out.appendUTF8(s.reason)
        }
        out.append(0x0D); out.append(0x0A)
        Self.appendHeaderLines(headers, bodyCount: body.count, to: &out)
        out.append(contentsOf: body)
        return out
    }

    /// Writes `headers` and the blank line that ends them, as the wire form has them: one
    /// Content-Length, measuring `bodyCount` whatever value it had, at the first one's place or
    /// after the others.
    static func appendHeaderLines(_ headers: [SIPHeader], bodyCount: Int, to out: inout [UInt8]) {
        var wroteLength = false
        for h in headers {
            if h.name.known == .contentLength {
                if wroteLength { continue }
                wroteLength = true
                out.append(contentsOf: "Content-Length: ".utf8)
                appendDecimal(bodyCount, to: &out)
            } else {
                appendHeaderLine(h, to: &out)
            }
            out.append(0x0D); out.append(0x0A)
        }
        if !wroteLength {
            out.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(bodyCount, to: &out)
            out.append(0x0D); out.append(0x0A)
        }
        out.append(0x0D); out.append(0x0A)
    }

    /// `Name: value`, without the line end.
    static func appendHeaderLine(_ header: SIPHeader, to out: inout [UInt8]) {
        out.append(contentsOf: header.name.name.utf8)
        out.append(0x3A); out.append(0x20)
        out.appendUTF8(header.value)
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &out) }
        out.append(UInt8(truncatingIfNeeded: 0x30 + value % 10))
    }
}

/// The typed values of the headers the edge reads on every message (see ``SIPMessage``).
struct SIPMessageViews: Sendable {
    var vias: [SIPVia] = []
    var from: SIPNameAddr?
    var to: SIPNameAddr?
    var callID: Substring?
    var cseq: SIPCSeq?
    var maxForwards: Int?
    var expires: UInt32?
    var contacts: [SIPContact] = []
    var routes: [SIPNameAddr] = []
    var recordRoutes: [SIPNameAddr] = []
    var declaredContentLength: Int?
    var repeatedSingletons: Set<SIPHeaderName.Known> = []
}

/// Immutable, so shared by every copy of a message; a mutation builds a new one.
final class SIPMessageViewBox: Sendable {
    let views: SIPMessageViews

    init(_ views: SIPMessageViews) {
        self.views = views
    }
}
