public import SIPMessage

/// How the caller of a forwarded INVITE was authenticated; becomes the `X-Auth-*` headers
/// (SPEC §3 "Calls") that tell the far end who is calling.
public struct CallerAuthentication: Sendable, Hashable {
    /// `ip_acl`, `credential` or `ip_acl_and_credential`.
    public var authType: String
    /// The digest user name, when digest authentication took place.
    public var user: String?
    public var sourceIP: String

    public init(authType: String, user: String?, sourceIP: String) {
        self.authType = authType
        self.user = user
        self.sourceIP = sourceIP
    }
}

/// The B leg's own identity: a B2BUA starts a new dialog toward the far end (RFC 7092 §3.1),
/// so nothing of the A leg's Call-ID, tags, Via or CSeq leaks across.
public struct CallLegIdentity: Sendable, Hashable {
    public var callID: String
    public var localTag: String
    public var branch: String
    public var cseq: UInt32
    /// Where the far end sends responses and in-dialog requests: `host:port` of our listener.
    public var sentBy: String
    /// `UDP`, `TCP` or `TLS`.
    public var transport: String

    public init(callID: String, localTag: String, branch: String, cseq: UInt32 = 1, sentBy: String, transport: String) {
        self.callID = callID
        self.localTag = localTag
        self.branch = branch
        self.cseq = cseq
        self.sentBy = sentBy
        self.transport = transport
    }

    /// Fresh random identifiers for a new leg.
    public static func fresh(sentBy: String, transport: String) -> CallLegIdentity {
        CallLegIdentity(callID: "\(random())\(random())@trunkgate", localTag: random(),
                        branch: freshBranch(), sentBy: sentBy, transport: transport)
    }

    /// A new RFC 3261 branch (magic cookie + 128 random bits), for each request the edge sends.
    public static func freshBranch() -> String { "z9hG4bK" + random() + random() }

    private static func random() -> String { String(UInt64.random(in: .min ... .max), radix: 36) }
}

/// Why an INVITE cannot be forwarded, as the SIP answer to send back.
public struct CallRoutingRefusal: Error, Sendable, Hashable {
    public var status: Int
    public var reason: String
}

/// Rewrites requests and responses between the two legs of a call (SPEC §3 "Calls"): the
/// signaling B2BUA's pure half. Headers that describe the A leg's dialog or its authentication
/// never cross; the SDP and the headers describing the session do, unchanged.
public enum CallLegRewriter {
    /// A leg headers that are not copied to the B leg: they are the leg's own (dialog, routing,
    /// transport), its credentials, or ours to set (`X-Auth-*` cannot be spoofed by a caller).
    static func isLegLocal(_ header: SIPHeader) -> Bool {
        switch header.name.known {
        case .via, .from, .to, .callID, .cseq, .contact, .maxForwards, .contentLength,
             .route, .recordRoute, .authorization, .proxyAuthorization, .proxyRequire:
            return true
        default:
            let name = header.name.name.lowercased()
            return name.hasPrefix("x-auth-") || name == "x-source-ip"
        }
    }

    /// The B leg INVITE for an authenticated A leg INVITE: to `target` (the carrier, or a
    /// destination URI), with the called party as Request-URI user, a decremented Max-Forwards
    /// (483 when it would reach below zero), `X-Auth-*` headers, and the body untouched.
    public static func forwardInvite(
        _ invite: SIPMessage, to target: SIPURI, calledUser: String?, leg: CallLegIdentity,
        caller: CallerAuthentication, fromDomain: String
    ) throws(CallRoutingRefusal) -> SIPMessage {
        let maxForwards = invite.maxForwards ?? 70
        guard maxForwards > 0 else {
            throw CallRoutingRefusal(status: 483, reason: "Too Many Hops")
        }
        let called = calledUser ?? invite.requestURI?.user.map(String.init) ?? invite.to?.uri.user.map(String.init)
        let scheme = target.scheme == .sips ? "sips" : "sip"
        let hostPort = target.port.map { "\(bracketed(target.host)):\($0)" } ?? bracketed(target.host)
        var requestURI = "\(scheme):" + (called.map { "\($0)@" } ?? "") + hostPort
        if let transport = target.transportParameter { requestURI += ";transport=\(transport)" }
        if called.map(isTelephoneNumber) == true { requestURI += ";user=phone" }

        let callerUser = invite.from?.uri.user.map(String.init)
        var from = ""
        if let display = invite.from?.displayNameRaw { from += "\(display) " }
        from += "<sip:" + (callerUser.map { "\($0)@" } ?? "") + "\(fromDomain)>;tag=\(leg.localTag)"
        let to = "<\(scheme):" + (called.map { "\($0)@" } ?? "") + "\(hostPort)>"

        var headers: [(String, String)] = [
            ("Via", "SIP/2.0/\(leg.transport) \(leg.sentBy);branch=\(leg.branch);rport"),
            ("Max-Forwards", String(maxForwards - 1)),
            ("From", from),
            ("To", to),
            ("Call-ID", leg.callID),
            ("CSeq", "\(leg.cseq) INVITE"),
            ("Contact", "<sip:trunkgate@\(leg.sentBy);transport=\(leg.transport.lowercased())>"),
        ]
        for h in invite.headers where !isLegLocal(h) {
            headers.append((h.name.name, String(h.value)))
        }
        headers.append(("X-Auth-Type", caller.authType))
        if let user = caller.user { headers.append(("X-Auth-User", user)) }
        headers.append(("X-Source-IP", caller.sourceIP))
        do {
            return try SIPMessage.build(startLine: "INVITE \(requestURI) SIP/2.0", headers: headers, body: Array(invite.body))
        } catch {
            // Every copied value was validated when the A leg was parsed; the new ones are ours.
            throw CallRoutingRefusal(status: 500, reason: "Server Internal Error")
        }
    }

    /// The A leg's answer for a response that came back on the B leg: the A request's Via,
    /// From, Call-ID and CSeq, the A leg's To tag, our Contact, and the far end's status, reason,
    /// session headers and body.
    public static func relayResponse(
        _ response: SIPMessage, toRequest request: SIPMessage, aLegTag: String, contact: String
    ) -> SIPMessage {
        let status = response.statusCode ?? 500
        var out = request.makeResponse(status: status, reason: response.statusLine.map { String($0.reason) }, toTag: aLegTag)
        if status > 100 { try? out.append(SIPHeader(.contact, contact)) }
        for h in response.headers where !isLegLocal(h) && !isHopByHopResponseHeader(h) {
            try? out.append(h)
        }
        out.body = response.body
        return out
    }

    /// Response headers that concern only the hop they came over.
    static func isHopByHopResponseHeader(_ header: SIPHeader) -> Bool {
        switch header.name.known {
        case .wwwAuthenticate, .proxyAuthenticate, .authenticationInfo, .server: true
        default: false
        }
    }

    static func isTelephoneNumber(_ user: String) -> Bool {
        let digits = user.hasPrefix("+") ? user.dropFirst() : Substring(user)
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    static func bracketed(_ host: Substring) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : String(host)
    }
}
