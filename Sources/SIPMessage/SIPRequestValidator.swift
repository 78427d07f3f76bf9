/// Message-level checks a SIP element makes after a request parses and before it acts on it
/// (RFC 3261 §8.2, §16.3): the cross-field and semantic errors RFC 4475 §3.1.2.16–18 and §3.3
/// describe. Authentication, routing and registrar rules belong to the edge.
public struct SIPRequestValidator: Sendable {
    /// Methods this element implements; others get 501 (RFC 3261 §8.2.1).
    public var knownMethods: Set<String>
    /// Option tags accepted in Require / Proxy-Require (none by default: 420 for any).
    public var supportedExtensions: Set<String>
    /// Body types accepted in session-carrying requests (415 otherwise).
    public var acceptedContentTypes: Set<String>

    public init(
        knownMethods: Set<String> = ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "UPDATE", "INFO", "MESSAGE", "NOTIFY", "SUBSCRIBE", "REFER"],
        supportedExtensions: Set<String> = ["100rel", "timer", "replaces", "path", "outbound", "gruu"],
        acceptedContentTypes: Set<String> = ["application/sdp", "multipart/mixed", "multipart/alternative"]
    ) {
        self.knownMethods = knownMethods
        self.supportedExtensions = supportedExtensions
        self.acceptedContentTypes = acceptedContentTypes
    }

    public struct Rejection: Sendable, Hashable, CustomStringConvertible {
        public var status: Int
        public var reason: String
        /// Extra header the response must carry (e.g. `Unsupported` for 420, `Allow` for 501).
        public var header: SIPHeader?

        public var description: String { "\(status) \(reason)" }
    }

    private static let extensionHeaders: [SIPHeaderName.Known] = [.require, .proxyRequire]
    /// Requests whose body is a session description.
    private static func carriesSession(_ method: String) -> Bool {
        switch method {
        case "INVITE", "UPDATE", "PRACK", "ACK": true
        default: false
        }
    }

    /// The type/subtype of a media type or range, without parameters or white space, as a
    /// slice (read byte-wise: Character iteration costs grapheme breaking).
    static func mediaRange(_ value: Substring) -> Substring {
        let u = value.utf8
        let end = u.firstIndex(of: UInt8(ascii: ";")) ?? u.endIndex
        return Substring(u[u.startIndex..<end]).trimmingWSP()
    }

    /// nil when the request may proceed.
    public func check(_ request: SIPMessage) -> Rejection? {
        guard let line = request.requestLine else { return nil }
        if !line.version.equalsLowercase("sip/2.0") {
            return Rejection(status: 505, reason: "Version Not Supported")
        }
        // Without Via, From, To, Call-ID and CSeq no proper response can even be formed. The
        // views are read in place: `request.from` would copy a name-addr out to test it.
        let views = request.viewBox
        var missing: [String] = []
        if views.views.vias.isEmpty { missing.append("Via") }
        if views.views.from == nil { missing.append("From") }
        if views.views.to == nil { missing.append("To") }
        if views.views.callID == nil { missing.append("Call-ID") }
        if views.views.cseq == nil { missing.append("CSeq") }
        if !missing.isEmpty {
            return Rejection(status: 400, reason: "Missing \(missing.joined(separator: ", "))")
        }
        if !views.views.repeatedSingletons.isEmpty, let repeated = views.views.repeatedSingletons.map(\.canonicalName).sorted().first {
            return Rejection(status: 400, reason: "Multiple \(repeated) values")
        }
        let method = String(line.method)
        if !knownMethods.contains(method) {
            return Rejection(status: 501, reason: "Not Implemented",
                             header: SIPHeader(.allow, knownMethods.sorted().joined(separator: ", ")))
        }
        if let cseq = views.views.cseq, cseq.method != line.method {
            return Rejection(status: 400, reason: "CSeq method does not match the Request-Line")
        }
        guard line.uri.isSIP || line.uri.scheme == .tel else {
            return Rejection(status: 416, reason: "Unsupported URI Scheme")
        }
        if views.views.maxForwards == 0 {
            return Rejection(status: 483, reason: "Too Many Hops")
        }
        // One pass over the headers finds Require, Proxy-Require, Content-Type and Accept.
        var hasExtensionHeader = false
        var contentType: Substring?
        var accept: Substring?
        for h in request.headers {
            switch h.name.known {
            case .require?, .proxyRequire?: hasExtensionHeader = true
            case .contentType?: if contentType == nil { contentType = h.value }
            case .accept?: if accept == nil { accept = h.value }
            default: break
            }
        }
        for known in Self.extensionHeaders where hasExtensionHeader && method != "ACK" && method != "CANCEL" {
            var unsupported: [String] = []
            for value in request.headers(known) {
                sipForEachListElement(value) { tag in
                    if !supportedExtensions.contains(tag.lowercased()) { unsupported.append(String(tag)) }
                }
            }
            if !unsupported.isEmpty {
                return Rejection(status: 420, reason: "Bad Extension",
                                 header: SIPHeader(.unsupported, unsupported.joined(separator: ", ")))
            }
        }
        if method == "REGISTER", views.views.to?.uri.isSIP == false {
            return Rejection(status: 400, reason: "To must be a SIP or SIPS address of record")
        }
        if Self.carriesSession(method), !request.body.isEmpty, let type = contentType {
            let media = Self.mediaRange(type)
            if !acceptedContentTypes.contains(where: { SIPLexical.equalsIgnoringCase($0.utf8, media.utf8) }) {
                return Rejection(status: 415, reason: "Unsupported Media Type",
                                 header: SIPHeader(.accept, acceptedContentTypes.sorted().joined(separator: ", ")))
            }
        }
        if method == "INVITE", let accept {
            var acceptsSDP = false
            sipForEachListElement(accept) { item in
                let media = Self.mediaRange(item)
                if media.equalsLowercase("application/sdp") || media.equalsLowercase("application/*") || media == "*/*" { acceptsSDP = true }
            }
            if !acceptsSDP {
                return Rejection(status: 406, reason: "Not Acceptable",
                                 header: SIPHeader(.warning, "399 trunkgate \"Only application/sdp answers are possible\""))
            }
        }
        return nil
    }
}
