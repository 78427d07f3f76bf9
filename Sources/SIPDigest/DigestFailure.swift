/// Why a request's credentials were not accepted. Raw values are the reason codes of auth
/// events and logs.
///
/// To the client, ``unknownUser`` and ``wrongPassword`` must look identical (same status, same
/// timing); only the operator sees which it was.
public enum DigestFailure: String, Error, Sendable, Hashable, CaseIterable {
    /// No Authorization / Proxy-Authorization header: answer with a challenge.
    case missingCredentials = "missing_credentials"
    /// The header does not parse, or lacks or garbles a required parameter.
    case malformedHeader = "malformed_header"
    /// Not the Digest scheme (e.g. Basic).
    case unsupportedScheme = "unsupported_scheme"
    /// `realm` is not the trunk's realm.
    case realmMismatch = "realm_mismatch"
    /// `algorithm` is unknown or not one this trunk offers.
    case algorithmNotOffered = "algorithm_not_offered"
    /// `qop` absent although offered, present although not offered, or unknown.
    case qopMismatch = "qop_mismatch"
    /// `uri` does not match the Request-URI (RFC 3261 §19.1.4 equality).
    case uriMismatch = "uri_mismatch"
    /// The nonce is not one of ours (forged, altered, or signed with a key no longer accepted).
    case invalidNonce = "invalid_nonce"
    /// The nonce is ours but was issued for another trunk, realm, source IP or transport.
    case nonceBoundElsewhere = "nonce_bound_elsewhere"
    /// The response is right but the nonce has expired (or its counts were forgotten under
    /// load): challenge again with `stale=true`.
    case staleNonce = "stale_nonce"
    /// `userhash=true` although the trunk does not offer userhash.
    case userhashNotOffered = "userhash_not_offered"
    /// No such user on this trunk.
    case unknownUser = "unknown_user"
    /// The user exists but has no stored HA1 for the algorithm used.
    case noHA1ForAlgorithm = "no_ha1_for_algorithm"
    /// The response does not match.
    case wrongPassword = "wrong_password"
    /// This nonce-count was already used with this nonce.
    case replayedNC = "replayed_nc"
}
