import Foundation
public import TrunkgateModel

/// API key credentials.
///
/// A key is `(key, token)`: `key` is the public key sid (`SK…`), `token` the secret shown once.
/// Tokens issued by ``issue(accountSid:)`` are *self-identifying*: `tg_<key sid>_<64 hex>`, so
/// `Authorization: Bearer <token>` alone names the key to check (the store keeps only a salted
/// HMAC of the whole token, so the key cannot be found from the token any other way). The
/// embedded sid is public information; the 256 random bits after it are the secret, and the
/// whole string is what is hashed and compared (in constant time, ``APIToken/verify(_:against:)``).
///
/// Accepted forms:
/// - `Authorization: Basic base64(key:token)` — any token.
/// - `Authorization: Bearer <token>` — a self-identifying token.
/// - `Authorization: Bearer <key>:<token>` — any token (for tokens made without an embedded key).
public enum APICredentials {
    /// A new API key for `accountSid` and its token (to be shown once, then forgotten).
    public static func issue(accountSid: String) -> (key: APIKey, token: String) {
        let sid = SID.make(.apiKey)
        let token = "tg_\(sid)_\(APIToken.randomHex(32))"
        var key = APIToken.makeKey(accountSid: accountSid, token: token)
        key.sid = sid
        return (key, token)
    }

    /// The key sid embedded in a self-identifying token, if any.
    public static func embeddedKeySid(_ token: String) -> String? {
        guard token.hasPrefix("tg_") else { return nil }
        let rest = token.dropFirst(3)
        guard let sep = rest.firstIndex(of: "_") else { return nil }
        let sid = String(rest[..<sep])
        return SID.isValid(sid, .apiKey) ? sid : nil
    }

    /// (key sid, token) from an `Authorization` header value; nil when absent or malformed.
    static func parse(authorization header: String?) -> (key: String, token: String)? {
        guard let header else { return nil }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else { return nil }
        let scheme = trimmed[..<space].lowercased()
        let value = trimmed[space...].trimmingCharacters(in: .whitespaces)
        switch scheme {
        case "basic":
            guard value.utf8.count <= 1024, let data = Data(base64Encoded: value),
                  let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return nil }
            let key = String(text[..<colon]), token = String(text[text.index(after: colon)...])
            guard !key.isEmpty, !token.isEmpty else { return nil }
            return (key, token)
        case "bearer":
            guard !value.isEmpty, value.utf8.count <= 1024 else { return nil }
            if let colon = value.firstIndex(of: ":") {
                let key = String(value[..<colon]), token = String(value[value.index(after: colon)...])
                guard !key.isEmpty, !token.isEmpty else { return nil }
                return (key, token)
            }
            guard let key = embeddedKeySid(value) else { return nil }
            return (key, value)
        default:
            return nil
        }
    }
}
