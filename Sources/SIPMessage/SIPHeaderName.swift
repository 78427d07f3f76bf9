/// A header field name. Known names are recognised in long and compact form and carry their
/// canonical spelling; unknown names keep the spelling they arrived with. Equality is
/// case-insensitive (RFC 3261 §7.3.1).
public struct SIPHeaderName: Sendable, Hashable, CustomStringConvertible {
    /// Canonical long form for known headers; the received spelling otherwise.
    public let name: String
    public let known: Known?

    public enum Known: UInt8, Sendable, Hashable, CaseIterable {
        case accept, acceptEncoding, acceptLanguage, alertInfo, allow, allowEvents, authenticationInfo
        case authorization, callID, callInfo, contact, contentDisposition, contentEncoding
        case contentLanguage, contentLength, contentType, cseq, date, errorInfo, event, expires
        case from, identity, inReplyTo, maxForwards, mimeVersion, minExpires, organization, path
        case priority, proxyAuthenticate, proxyAuthorization, proxyRequire, rack, reason, recordRoute
        case referTo, referredBy, replyTo, require, retryAfter, route, rseq, server, serviceRoute
        case sessionExpires, subject, subscriptionState, supported, timestamp, to, unsupported
        case userAgent, via, warning, wwwAuthenticate

        public var canonicalName: String {
            switch self {
            case .accept: "Accept"
            case .acceptEncoding: "Accept-Encoding"
            case .acceptLanguage: "Accept-Language"
            case .alertInfo: "Alert-Info"
            case .allow: "Allow"
            case .allowEvents: "Allow-Events"
            case .authenticationInfo: "Authentication-Info"
            case .authorization: "Authorization"
            case .callID: "Call-ID"
            case .callInfo: "Call-Info"
            case .contact: "Contact"
            case .contentDisposition: "Content-Disposition"
            case .contentEncoding: "Content-Encoding"
            case .contentLanguage: "Content-Language"
            case .contentLength: "Content-Length"
            case .contentType: "Content-Type"
            case .cseq: "CSeq"
            case .date: "Date"
            case .errorInfo: "Error-Info"
            case .event: "Event"
            case .expires: "Expires"
            case .from: "From"
            case .identity: "Identity"
            case .inReplyTo: "In-Reply-To"
            case .maxForwards: "Max-Forwards"
            case .mimeVersion: "MIME-Version"
            case .minExpires: "Min-Expires"
            case .organization: "Organization"
            case .path: "Path"
            case .priority: "Priority"
            case .proxyAuthenticate: "Proxy-Authenticate"
            case .proxyAuthorization: "Proxy-Authorization"
            case .proxyRequire: "Proxy-Require"
            case .rack: "RAck"
            case .reason: "Reason"
            case .recordRoute: "Record-Route"
            case .referTo: "Refer-To"
            case .referredBy: "Referred-By"
            case .replyTo: "Reply-To"
            case .require: "Require"
            case .retryAfter: "Retry-After"
            case .route: "Route"
            case .rseq: "RSeq"
            case .server: "Server"
            case .serviceRoute: "Service-Route"
            case .sessionExpires: "Session-Expires"
            case .subject: "Subject"
            case .subscriptionState: "Subscription-State"
            case .supported: "Supported"
            case .timestamp: "Timestamp"
            case .to: "To"
            case .unsupported: "Unsupported"
            case .userAgent: "User-Agent"
            case .via: "Via"
            case .warning: "Warning"
            case .wwwAuthenticate: "WWW-Authenticate"
            }
        }

        /// The compact form (RFC 3261 §7.3.3 and the extensions that define one).
        public var compactForm: Character? {
            switch self {
            case .callID: "i"
            case .contact: "m"
            case .contentEncoding: "e"
            case .contentLength: "l"
            case .contentType: "c"
            case .from: "f"
            case .subject: "s"
            case .supported: "k"
            case .to: "t"
            case .via: "v"
            case .event: "o"
            case .allowEvents: "u"
            case .referTo: "r"
            case .referredBy: "b"
            case .identity: "y"
            case .sessionExpires: "x"
            case .acceptLanguage, .accept, .acceptEncoding, .alertInfo, .allow, .authenticationInfo,
                .authorization, .callInfo, .contentDisposition, .contentLanguage, .cseq, .date,
                .errorInfo, .expires, .inReplyTo, .maxForwards, .mimeVersion, .minExpires,
                .organization, .path, .priority, .proxyAuthenticate, .proxyAuthorization,
                .proxyRequire, .rack, .reason, .recordRoute, .replyTo, .require, .retryAfter,
                .route, .rseq, .server, .serviceRoute, .subscriptionState, .timestamp,
                .unsupported, .userAgent, .warning, .wwwAuthenticate:
                nil
            }
        }

        /// Headers whose value is a comma-separated list (RFC 3261 §7.3.1).
        public var isList: Bool {
            switch self {
            case .via, .contact, .route, .recordRoute, .allow, .supported, .require, .proxyRequire,
                .unsupported, .accept, .acceptEncoding, .acceptLanguage, .contentEncoding,
                .contentLanguage, .alertInfo, .callInfo, .errorInfo, .inReplyTo, .warning, .path,
                .serviceRoute, .allowEvents:
                true
            default:
                false
            }
        }

        /// Lookup table keyed by lower-cased long and compact names.
        struct NameEntry {
            var first: UInt8
            var offset: Int
            var known: Known
        }

        /// Every full and compact name in lower case, back to back.
        static let lowercasedNames: [UInt8] = names.pool
        /// For each length, the names of that length: their first byte and offset in the pool.
        static let namesByLength: [[NameEntry]] = names.byLength

        private static let names: (pool: [UInt8], byLength: [[NameEntry]]) = {
            var pool: [UInt8] = []
            var byLength = [[NameEntry]](repeating: [], count: 20)
            for known in Known.allCases {
                for name in [known.canonicalName.lowercased()] + (known.compactForm.map { [String($0)] } ?? []) {
                    let bytes = Array(name.utf8)
                    precondition(bytes.count < byLength.count)
                    byLength[bytes.count].append(NameEntry(first: bytes[0], offset: pool.count, known: known))
                    pool += bytes
                }
            }
            return (pool, byLength)
        }()
    }

    public init(_ known: Known) {
        self.name = known.canonicalName
        self.known = known
    }

    /// Recognises a header name as received (any case, long or compact).
    public init(_ text: Substring) {
        if let k = Self.lookup(text) {
            self.name = k.canonicalName
            self.known = k
        } else {
            self.name = String(text)
            self.known = nil
        }
    }

    public init(_ text: String) { self.init(Substring(text)) }

    /// A name ``lookup(_:_:_:)`` did not find, kept as sent.
    init(unknown name: String) {
        self.name = name
        self.known = nil
    }

    @usableFromInline
    static func lookup(_ text: Substring) -> Known? {
        text.withUTF8Bytes { lookup($0, 0, $0.count) }
    }

    /// The known header named by `bytes[start..<end]`, ignoring case: a handful of byte
    /// comparisons among the names of that length with that first letter (no hashing, no string).
    static func lookup(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Known? {
        let count = end - start
        guard count > 0, count < Known.namesByLength.count else { return nil }
        let first = bytes[start] | 0x20
        return Known.lowercasedNames.withUnsafeBufferPointer { pool in
            for entry in Known.namesByLength[count] where entry.first == first {
                let name = UnsafeBufferPointer(rebasing: pool[entry.offset..<(entry.offset + count)])
                if SIPBytes.equalsLowercase(bytes, start, count, name) { return entry.known }
            }
            return nil
        }
    }

    public var description: String { name }

    public static func == (a: Self, b: Self) -> Bool {
        if let ka = a.known, let kb = b.known { return ka == kb }
        if a.known != nil || b.known != nil { return false }
        return SIPLexical.equalsIgnoringCase(a.name.utf8, b.name.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        if let known { hasher.combine(known) } else { hasher.combine(name.lowercased()) }
    }
}

/// One header field: its name and its value with line folding already undone.
public struct SIPHeader: Sendable, Hashable {
    public var name: SIPHeaderName
    public var value: Substring

    public init(name: SIPHeaderName, value: Substring) {
        self.name = name
        self.value = value
    }

    public init(_ known: SIPHeaderName.Known, _ value: String) {
        self.name = SIPHeaderName(known)
        self.value = Substring(value)
    }

    public init(_ name: String, _ value: String) {
        self.name = SIPHeaderName(name)
        self.value = Substring(value)
    }
}
