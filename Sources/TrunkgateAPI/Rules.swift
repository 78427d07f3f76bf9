import Foundation
import TrunkgateModel

/// Field rules the API adds to ``Validation`` (which it uses for everything SPEC §1 names).
/// Lengths are also checked in Unicode scalars, which is how JSON Schema's `maxLength`
/// counts, so nothing the OpenAPI document forbids is ever accepted.
enum Rules {
    static func text(_ s: String, max: Int, field: String, required: Bool = false) throws(ValidationError) -> String {
        let v = try Validation.text(s, max: max, field: field, required: required)
        guard v.unicodeScalars.count <= max else {
            throw ValidationError("invalid_\(field)", "\(field) must be at most \(max) characters", field: field)
        }
        return v
    }

    /// An IP ACL's `name`: 1-120 characters without control characters.
    static func aclName(_ s: String) throws(ValidationError) -> String {
        guard !s.isEmpty else { throw ValidationError("invalid_name", "name must be 1-120 characters", field: "name") }
        return try text(s, max: 120, field: "name")
    }

    static func password(_ s: String) throws(ValidationError) {
        try Validation.password(s)
        guard (12...128).contains(s.unicodeScalars.count) else {
            throw ValidationError("invalid_password", "password must be 12-128 characters long", field: "password")
        }
    }

    /// A digest realm: 1-128 printable ASCII characters without `"` and `\` (it is sent as a
    /// quoted string in every challenge).
    static func realm(_ s: String) throws(ValidationError) -> String {
        let u = s.utf8
        guard (1...128).contains(u.count), u.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) else {
            throw ValidationError("invalid_realm", "realm must be 1-128 printable ASCII characters without '\"' and '\\'", field: "realm")
        }
        return s
    }

    static let digestAlgorithms: Set<String> = ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"]

    static func digestAlgorithms(_ list: [String]) throws(ValidationError) -> [String] {
        guard !list.isEmpty, list.allSatisfy(digestAlgorithms.contains), Set(list).count == list.count else {
            throw ValidationError(
                "invalid_digest_algorithms",
                "digest_algorithms must be a non-empty list without repeats of MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256, SHA-512-256-sess",
                field: "digest_algorithms")
        }
        return list
    }

    /// A webhook URL: absolute http(s), a host, no user info (it would be a secret in logs), no
    /// fragment, at most 2048 characters. Private addresses are checked at delivery, where the
    /// name is resolved.
    static func webhookURL(_ s: String) throws(ValidationError) -> String {
        let invalid = ValidationError("invalid_webhook_url", "webhook_url must be an absolute http:// or https:// URL with a host, without user info or fragment, at most 2048 characters", field: "webhook_url")
        guard s.utf8.count <= 2048, s.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }),
              let c = URLComponents(string: s), let scheme = c.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = c.host, !host.isEmpty, c.user == nil, c.password == nil, c.fragment == nil else { throw invalid }
        return s
    }

    static func webhookEvents(_ list: [String]) throws(ValidationError) -> [WebhookEventType] {
        let types = list.compactMap(WebhookEventType.init(rawValue:))
        guard !list.isEmpty, types.count == list.count, Set(types).count == types.count else {
            throw ValidationError("invalid_webhook_events", "webhook_events must be a non-empty list without repeats of " +
                                  WebhookEventType.allCases.map(\.rawValue).joined(separator: ", "), field: "webhook_events")
        }
        return types
    }

    static func authType(_ s: String) throws(ValidationError) -> AuthType {
        guard let t = AuthType(rawValue: s) else {
            throw ValidationError("invalid_auth_type", "auth_type must be credential, ip_acl or ip_acl_and_credential", field: "auth_type")
        }
        return t
    }

    /// A destination URI: `[sip:|sips:]host[:port][;transport=udp|tcp|tls]` where host is a DNS
    /// name, an IPv4 address or a bracketed IPv6 address.
    static func destination(_ raw: String) throws(ValidationError) -> String {
        let bad = ValidationError(
            "invalid_destination",
            "destination must look like host[:port][;transport=udp|tcp|tls], e.g. agent.example.com:5061;transport=tls",
            field: "destination")
        guard (1...255).contains(raw.utf8.count), raw.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw bad }
        var rest = Substring(raw)
        for scheme in ["sip:", "sips:"] where rest.lowercased().hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
        }
        let parts = rest.split(separator: ";", omittingEmptySubsequences: false)
        guard let hostport = parts.first, !hostport.isEmpty else { throw bad }
        var sawTransport = false
        for p in parts.dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, kv[0].lowercased() == "transport", ["udp", "tcp", "tls"].contains(kv[1].lowercased()), !sawTransport else {
                throw bad
            }
            sawTransport = true
        }
        var host: Substring, port: Substring?
        if hostport.hasPrefix("[") {
            guard let close = hostport.firstIndex(of: "]") else { throw bad }
            host = hostport[hostport.index(after: hostport.startIndex)..<close]
            let after = hostport[hostport.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad }
                port = after.dropFirst()
            }
            guard host.contains(":"), IPAddress(host) != nil else { throw bad }
        } else {
            let hp = hostport.split(separator: ":", omittingEmptySubsequences: false)
            guard hp.count <= 2 else { throw bad }
            host = hp[0]
            if hp.count == 2 { port = hp[1] }
            if IPAddress(host) == nil {
                do { _ = try Validation.domainName(String(host), field: "destination") } catch { throw bad }
            }
        }
        if let port {
            guard (1...5).contains(port.utf8.count), port.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(port), (1...65535).contains(n) else {
                throw bad
            }
        }
        return raw
    }

    /// An outbound auth user name: 1-64 characters allowed unescaped in a SIP user part.
    static func authUsername(_ s: String) throws(ValidationError) -> String {
        let extra = Set("._~!$&'()*+,;=-%".utf8)
        guard (1...64).contains(s.utf8.count),
              s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || extra.contains($0) }) else {
            throw ValidationError("invalid_auth_username", "auth_username must be 1-64 characters of letters, digits and ._~!$&'()*+,;=-%", field: "auth_username")
        }
        return s
    }

    static func authPassword(_ s: String) throws(ValidationError) -> String {
        guard (1...128).contains(s.unicodeScalars.count), !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ValidationError("invalid_auth_password", "auth_password must be 1-128 characters without control characters", field: "auth_password")
        }
        return s
    }

    /// A CIDR block from address + optional prefix, with the error naming the API's fields.
    static func cidr(address: String, prefix: Int?, addressField: String, prefixField: String) throws(ValidationError) -> CIDR {
        do {
            return try CIDR(address: address, prefix: prefix)
        } catch {
            var e = error
            if e.field == "ip_address" { e.field = addressField }
            if e.field == "cidr_prefix_length" {
                e.field = prefixField
                e.message = e.message.replacingOccurrences(of: "cidr_prefix_length", with: prefixField)
            }
            if addressField != "ip_address" { e.message = e.message.replacingOccurrences(of: "ip_address", with: addressField) }
            throw e
        }
    }
}
