public import SIPMessage

/// The server side of Digest authentication: issues challenges with stateless nonces and
/// verifies credentials against stored HA1 values. Pure logic; time comes from the injected
/// clock, replay state from the injected ``NonceCountStore``.
public final class DigestAuthenticator: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// After this a nonce is stale: a correct answer gets a new challenge with `stale=true`.
        public var nonceLifetimeSeconds: Int64
        /// How far in the future another node's issue time may lie (clocks of the cluster).
        public var maximumClockSkewSeconds: Int64

        public init(nonceLifetimeSeconds: Int64 = 300, maximumClockSkewSeconds: Int64 = 30) {
            self.nonceLifetimeSeconds = nonceLifetimeSeconds
            self.maximumClockSkewSeconds = maximumClockSkewSeconds
        }
    }

    public let configuration: Configuration
    /// Read per challenge and per answer, replaced when keys rotate.
    private let keys: ReadMostly<NonceKeyRing>
    private let nonceCounts: any NonceCountStore
    private let clock: any DigestClock
    /// Random HA1s, unknown to anyone, that unknown users are checked against so that they cost
    /// the same work as a wrong password.
    private let decoyHA1: DigestHA1Set
    private let bindingDigests = BindingDigestCache()

    public init(
        keys: NonceKeyRing,
        nonceCounts: any NonceCountStore = SlidingWindowNonceCountStore(),
        clock: any DigestClock = SystemDigestClock(),
        configuration: Configuration = Configuration()
    ) {
        self.keys = ReadMostly(keys)
        self.nonceCounts = nonceCounts
        self.clock = clock
        self.configuration = configuration
        decoyHA1 = DigestHA1Set(
            md5: Hex.random(byteCount: DigestHashFunction.md5.hexLength / 2),
            sha256: Hex.random(byteCount: DigestHashFunction.sha256.hexLength / 2),
            sha512_256: Hex.random(byteCount: DigestHashFunction.sha512_256.hexLength / 2)
        )
    }

    /// The keys in use.
    public var keyRing: NonceKeyRing { keys.value }

    /// Installs a new key ring (e.g. loaded from the shared configuration).
    public func replaceKeys(_ ring: NonceKeyRing) {
        keys.replace(ring)
    }

    /// Makes `key` current now; the previous current key verifies for `overlapSeconds` more.
    public func rotateKeys(to key: NonceKey, overlapSeconds: Int64) throws(NonceKeyError) {
        let now = clock.unixSeconds()
        let result: Result<Void, NonceKeyError> = keys.update { ring in
            do throws(NonceKeyError) {
                ring = try ring.rotated(to: key, now: now, overlapSeconds: overlapSeconds)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    // MARK: - Challenges

    /// A fresh challenge for a request on the trunk described by `policy` and `binding`.
    /// - Parameter stale: true when answering ``DigestFailure/staleNonce``.
    public func challenge(
        _ kind: DigestChallengeKind, policy: DigestChallengePolicy, binding: NonceBinding, stale: Bool = false
    ) -> DigestChallenge {
        let nonce = StatelessNonce.issue(
            keys: keyRing, binding: binding, now: clock.unixSeconds(), layout: StatelessNonce.current,
            bindingDigest: { bindingDigests.digest(realm: policy.realm, binding: binding, flags: $0) })
        return DigestChallenge(kind: kind, nonce: nonce, policy: policy, stale: stale)
    }

    // MARK: - Verification

    /// Verifies one credentials header.
    ///
    /// Checks, in this order: scheme and form, realm, algorithm offered, qop, `uri` against the
    /// Request-URI, the nonce (ours, this binding), the user and the response (in constant time,
    /// with the same work for an unknown user as for a wrong password), then expiry (`stale`
    /// only for an otherwise correct answer) and finally the nonce-count, recorded only once the
    /// response proved the request genuine.
    ///
    /// - Parameters:
    ///   - user: the stored HA1s of a user name on this trunk, nil when there is no such user.
    ///   - userhash: the user whose `H(username:realm)` is the given lower-case hex for that
    ///     hash function; consulted only when the policy offers userhash.
    public func verify(
        _ header: SIPAuthHeader?,
        request: DigestRequest,
        policy: DigestChallengePolicy,
        binding: NonceBinding,
        user: (String) -> DigestHA1Set?,
        userhash: (String, DigestHashFunction) -> DigestUser? = { _, _ in nil }
    ) -> DigestVerification {
        guard let header else { return .failure(.missingCredentials, DigestAttempt()) }
        guard header.isDigest else {
            return .failure(.unsupportedScheme, DigestAttempt(username: header.effectiveUsername))
        }
        var storage: [UInt8] = []
        let slots = DigestParameterSlots(header, storage: &storage)
        return storage.withUnsafeBufferPointer { bytes in
            verify(slots, in: DigestText(bytes: bytes), request: request, policy: policy, binding: binding, user: user, userhash: userhash)
        }
    }

    /// Everything after the scheme, shared by both entry points.
    private func verify(
        _ slots: DigestParameterSlots,
        in text: DigestText,
        request: DigestRequest,
        policy: DigestChallengePolicy,
        binding: NonceBinding,
        user: (String) -> DigestHA1Set?,
        userhash: (String, DigestHashFunction) -> DigestUser?
    ) -> DigestVerification {
        let credentials: DigestFields
        do {
            credentials = try DigestFields(slots, in: text)
        } catch {
            return .failure(error, DigestAttempt(username: slots.username.map(text.string)))
        }
        let claimedName = text.string(credentials.username)
        var attempt = DigestAttempt(username: claimedName, algorithm: credentials.algorithm)
        guard text.equals(credentials.realm, policy.realm) else { return .failure(.realmMismatch, attempt) }
        guard let algorithm = credentials.algorithm, policy.algorithms.contains(algorithm) else {
            return .failure(.algorithmNotOffered, attempt)
        }
        guard credentials.qop != nil || credentials.qopToken == nil, policy.qop.accepts(credentials.qop) else {
            return .failure(.qopMismatch, attempt)
        }
        // Identical text is the common case; anything else is compared as URIs.
        guard text.equals(credentials.uri, request.uri) || urisMatch(text.string(credentials.uri), request.uri) else {
            return .failure(.uriMismatch, attempt)
        }

        let now = clock.unixSeconds()
        let nonceCheck = StatelessNonce.check(
            text[credentials.nonce], key: { id in keys.value.verifyingKey(id: id, now: now) },
            bindingDigest: { bindingDigests.digest(realm: policy.realm, binding: binding, flags: $0) }, now: now,
            lifetimeSeconds: configuration.nonceLifetimeSeconds,
            maximumClockSkewSeconds: configuration.maximumClockSkewSeconds
        )
        let identity: NonceIdentity
        let issuedAt: Int64
        let expired: Bool
        switch nonceCheck {
        case .invalid: return .failure(.invalidNonce, attempt)
        case .boundElsewhere: return .failure(.nonceBoundElsewhere, attempt)
        case .valid(let id, let issued): (identity, issuedAt, expired) = (id, issued, false)
        case .expired(let id, let issued): (identity, issuedAt, expired) = (id, issued, true)
        }

        // Resolve the user; from here on, every path does the same hashing and comparison.
        let hash = algorithm.hash
        var lookupFailure: DigestFailure?
        var userName = claimedName
        var stored: DigestHA1Set?
        if credentials.userhash {
            if policy.userhash, let match = userhash(claimedName.lowercased(), hash) {
                userName = match.name
                stored = match.ha1
                attempt.username = match.name
            } else {
                lookupFailure = policy.userhash ? .unknownUser : .userhashNotOffered
            }
        } else {
            stored = user(claimedName)
            if stored == nil { lookupFailure = .unknownUser }
        }
        var ha1 = decoyHA1[hash] ?? ""
        if let stored, lookupFailure == nil {
            if let candidate = stored[hash], ASCII.isLowerHex(candidate, count: hash.hexLength) {
                ha1 = candidate
            } else {
                lookupFailure = .noHA1ForAlgorithm
            }
        }
        let matches = DigestExpectedResponse.withExpected(
            algorithm: algorithm, ha1: ha1, fields: credentials, text: text, method: request.method, body: request.body
        ) { expected in
            // The client's hex may be upper case; folding it depends only on what the client sent.
            ConstantTime.equals(expected, text[credentials.response].lazy.map(ASCII.lowercased))
        }
        if let lookupFailure { return .failure(lookupFailure, attempt) }
        guard matches else { return .failure(.wrongPassword, attempt) }
        guard !expired else { return .failure(.staleNonce, attempt) }

        let verdict = nonceCounts.use(
            count: credentials.nc ?? 0, of: identity, issuedAt: issuedAt,
            expiresAt: issuedAt + configuration.nonceLifetimeSeconds, now: now
        )
        switch verdict {
        case .accepted: return .ok(user: userName, algorithm: algorithm)
        case .replayed: return .failure(.replayedNC, attempt)
        case .forgotten: return .failure(.staleNonce, attempt)
        }
    }

    /// Verifies the credentials headers of a request given as raw field values (a request may
    /// carry several, one per realm, RFC 3261 §22.3): the first Digest one for the policy's realm
    /// is verified. No value → ``DigestFailure/missingCredentials``; none parses →
    /// ``DigestFailure/malformedHeader``.
    ///
    /// A single value (the usual case) is read in place, without building a ``SIPAuthHeader``;
    /// the result is the same.
    public func verify(
        headerValues: [Substring],
        request: DigestRequest,
        policy: DigestChallengePolicy,
        binding: NonceBinding,
        user: (String) -> DigestHA1Set?,
        userhash: (String, DigestHashFunction) -> DigestUser? = { _, _ in nil }
    ) -> DigestVerification {
        guard !headerValues.isEmpty else { return .failure(.missingCredentials, DigestAttempt()) }
        if headerValues.count == 1 {
            var value = headerValues[0]
            let verified = value.withUTF8 { bytes -> DigestVerification? in
                guard let slots = DigestParameterSlots.scanning(bytes) else { return nil }
                return verify(slots, in: DigestText(bytes: bytes), request: request, policy: policy, binding: binding, user: user, userhash: userhash)
            }
            if let verified { return verified }
        }
        return verifyParsing(headerValues: headerValues, request: request, policy: policy, binding: binding, user: user, userhash: userhash)
    }

    /// ``verify(headerValues:request:policy:binding:user:userhash:)`` through fully parsed
    /// headers: the general path (several values, escapes, `username*`, other schemes, errors).
    func verifyParsing(
        headerValues: [Substring],
        request: DigestRequest,
        policy: DigestChallengePolicy,
        binding: NonceBinding,
        user: (String) -> DigestHA1Set?,
        userhash: (String, DigestHashFunction) -> DigestUser? = { _, _ in nil }
    ) -> DigestVerification {
        guard !headerValues.isEmpty else { return .failure(.missingCredentials, DigestAttempt()) }
        let parsed = headerValues.compactMap { try? SIPAuthHeader(parsing: $0) }
        guard let chosen = parsed.first(where: { $0.isDigest && $0["realm"] == policy.realm })
            ?? parsed.first(where: \.isDigest) ?? parsed.first
        else { return .failure(.malformedHeader, DigestAttempt()) }
        return verify(chosen, request: request, policy: policy, binding: binding, user: user, userhash: userhash)
    }
}
