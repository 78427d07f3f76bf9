import SIPDigest
import SIPMessage
import Testing

@Suite("Digest verification")
struct DigestAuthenticatorTests {
    @Test func acceptsACorrectAnswer() throws {
        let f = try Fixture()
        let result = f.verify(try f.answer(f.challenge()))
        #expect(result == .ok(user: "alice", algorithm: .sha256))
    }

    @Test func challengeHeadersFollowThePolicy() throws {
        let f = try Fixture(algorithms: [.sha256, .md5, .sha512_256Sess], qop: .authAndAuthInt, userhash: true)
        let challenge = f.authenticator.challenge(.www, policy: f.policy, binding: f.binding, stale: true)
        #expect(challenge.kind.statusCode == 401)
        #expect(challenge.kind.challengeHeaderName == "WWW-Authenticate")
        #expect(challenge.headers.map { $0["algorithm"] } == ["SHA-256", "MD5", "SHA-512-256-sess"])
        let first = challenge.headerValues[0]
        #expect(first == #"Digest realm="trunk.example.com", nonce="\#(challenge.nonce)", opaque="\#(f.policy.opaque)", algorithm=SHA-256, qop="auth,auth-int", stale=true, userhash=true"#)
        #expect(challenge.headers.allSatisfy { $0["nonce"] == challenge.nonce })
        let plain = f.authenticator.challenge(.proxy, policy: try DigestChallengePolicy(realm: "r"), binding: f.binding)
        #expect(plain.headerValues.count == 1)
        #expect(plain.headers[0]["algorithm"] == "MD5")
        #expect(plain.headers[0]["qop"] == "auth")
        #expect(plain.headers[0]["stale"] == nil && plain.headers[0]["userhash"] == nil)
    }

    /// Challenges are built from the policy's text cut around the nonce; a realm with quotes,
    /// backslashes and a fake nonce parameter must come out escaped exactly as a structured
    /// header serializes it, with the real nonce in its place.
    @Test func challengeTextMatchesTheStructuredHeaderForAnAwkwardRealm() throws {
        let realm = #"a "quoted", nonce="TrunkgateNonceMarker" \ realm"#
        for userhash in [false, true] {
            let policy = try DigestChallengePolicy(realm: realm, algorithms: [.md5, .sha256], userhash: userhash)
            let f = try Fixture()
            for stale in [false, true] {
                let challenge = f.authenticator.challenge(.www, policy: policy, binding: f.binding, stale: stale)
                let expected = policy.algorithms.map { algorithm in
                    var parameters = [
                        SIPAuthParameter(name: "realm", value: realm, quoted: true),
                        SIPAuthParameter(name: "nonce", value: challenge.nonce, quoted: true),
                        SIPAuthParameter(name: "opaque", value: policy.opaque, quoted: true),
                        SIPAuthParameter(name: "algorithm", value: algorithm.rawValue, quoted: false),
                        SIPAuthParameter(name: "qop", value: "auth", quoted: true),
                    ]
                    if stale { parameters.append(SIPAuthParameter(name: "stale", value: "true", quoted: false)) }
                    if userhash { parameters.append(SIPAuthParameter(name: "userhash", value: "true", quoted: false)) }
                    return SIPAuthHeader(scheme: "Digest", parameters: parameters).serialized
                }
                #expect(challenge.headerValues == expected)
                #expect(challenge.headers.map { $0["realm"] } == [realm, realm])
                #expect(challenge.headers.allSatisfy { $0["nonce"] == challenge.nonce })
            }
        }
    }

    @Test func challengeKindPerMethod() {
        #expect(DigestChallengeKind(method: "REGISTER") == .www)
        #expect(DigestChallengeKind(method: "INVITE") == .proxy)
        #expect(DigestChallengeKind(method: "OPTIONS")?.credentialsHeaderName == "Proxy-Authorization")
        #expect(DigestChallengeKind(method: "ACK") == nil)
        #expect(DigestChallengeKind(method: "CANCEL") == nil)
        #expect(throws: DigestPolicyError.noAlgorithms) { try DigestChallengePolicy(realm: "r", algorithms: []) }
    }

    /// One request per reason; together they must produce every ``DigestFailure``.
    @Test func everyFailureReason() throws {
        var seen: Set<DigestFailure> = []
        func expectFailure(_ reason: DigestFailure, _ result: DigestVerification, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.failureReason == reason, sourceLocation: sourceLocation)
            seen.insert(reason)
        }
        let f = try Fixture(algorithms: [.sha256])

        expectFailure(.missingCredentials, f.verify(nil))
        expectFailure(.missingCredentials, f.authenticator.verify(
            headerValues: [], request: f.request, policy: f.policy, binding: f.binding, user: { _ in nil }))

        let good = try f.answer(f.challenge())
        expectFailure(.malformedHeader, f.verify(good.setting("nonce", nil)))
        expectFailure(.malformedHeader, f.verify(good.setting("response", "not-hex")))
        expectFailure(.malformedHeader, f.verify(good.setting("nc", "1")))
        expectFailure(.malformedHeader, f.verify(good.setting("nc", "00000000")))
        expectFailure(.malformedHeader, f.verify(good.setting("cnonce", nil)))
        expectFailure(.malformedHeader, f.verify(good.setting("userhash", "maybe")))
        expectFailure(.malformedHeader, f.authenticator.verify(
            headerValues: [#"Digest username="alice" realm="x""#], request: f.request, policy: f.policy,
            binding: f.binding, user: { _ in nil }))

        expectFailure(.unsupportedScheme, f.verify(try SIPAuthHeader(parsing: "Basic YWxpY2U6cGFzcw==")))
        expectFailure(.realmMismatch, f.verify(good.setting("realm", "other.example.com")))
        expectFailure(.algorithmNotOffered, f.verify(good.setting("algorithm", "SHA-1")))
        expectFailure(.qopMismatch, f.verify(good.setting("qop", "auth-conf")))
        expectFailure(.uriMismatch, f.verify(good, request: DigestRequest(method: "INVITE", uri: "sip:+14155550000@trunk.example.com;transport=udp")))
        expectFailure(.invalidNonce, f.verify(good.setting("nonce", "f84f1cec41e6cbe5aea9c8e88d359")))
        expectFailure(.nonceBoundElsewhere, f.verify(good, binding: NonceBinding(trunk: "TK0001", sourceIP: "192.0.2.99", transport: "udp")))
        expectFailure(.unknownUser, f.verify(try f.answer(f.challenge(), username: "mallory")))
        expectFailure(.wrongPassword, f.verify(try f.answer(f.challenge(), password: "Wr0ng-Password")))
        expectFailure(.wrongPassword, f.verify(good, request: DigestRequest(method: "BYE", uri: f.request.uri)))

        // Algorithm offered by the challenge the client saw, but not by this trunk.
        let md5Fixture = try Fixture(algorithms: [.md5])
        let md5Answer = try md5Fixture.answer(md5Fixture.challenge())
        expectFailure(.algorithmNotOffered, f.verify(md5Answer))

        // qop absent although offered.
        let noQOPChallenge = try f.challenge().map { $0.setting("qop", nil) }
        expectFailure(.qopMismatch, f.verify(try f.answer(noQOPChallenge)))

        // userhash answered although not offered.
        let userhashChallenge = try f.challenge().map { $0.setting("userhash", "true", quoted: false) }
        expectFailure(.userhashNotOffered, f.verify(try f.answer(userhashChallenge)))

        // A user without a SHA-256 HA1.
        var partial = try Fixture(algorithms: [.sha256])
        partial.users["bob"] = DigestHA1Set(md5: DigestHA1.compute(DigestHashFunction.md5, username: "bob", realm: Fixture.realm, password: "x"))
        expectFailure(.noHA1ForAlgorithm, partial.verify(try partial.answer(partial.challenge(), username: "bob", password: "x")))

        // Correct answer, expired nonce.
        let late = try f.answer(f.challenge())
        f.clock.advance(by: 301)
        expectFailure(.staleNonce, f.verify(late))

        // Replay.
        let once = try f.answer(f.challenge())
        #expect(f.verify(once).isOK)
        expectFailure(.replayedNC, f.verify(once))

        #expect(seen == Set(DigestFailure.allCases))
    }

    @Test func staleOnlyForACorrectAnswerAndTheNextChallengeSaysSo() throws {
        let f = try Fixture()
        let challenge = try f.challenge()
        let right = try f.answer(challenge)
        let wrong = try f.answer(challenge, password: "Wr0ng-Password")
        let stranger = try f.answer(challenge, username: "mallory")
        f.clock.advance(by: 300)
        #expect(f.verify(right).isOK)  // the last second of its lifetime
        let later = try f.answer(challenge)
        f.clock.advance(by: 1)
        let stale = f.verify(later)
        #expect(stale.failureReason == .staleNonce)
        #expect(stale.isStale)
        #expect(f.verify(wrong).failureReason == .wrongPassword)
        #expect(f.verify(stranger).failureReason == .unknownUser)
        let renewed = try f.challenge(stale: stale.isStale)
        #expect(renewed.allSatisfy { $0["stale"] == "true" })
        #expect(f.verify(try f.answer(renewed)).isOK)
    }

    @Test func keyRotationAcrossNodes() throws {
        let secret1 = NonceKey.generateSecret()
        let clock = TestClock()
        let nodeA = try Fixture(lifetime: 3600, keys: NonceKeyRing(current: NonceKey(id: 1, secret: secret1)), clock: clock)
        let nodeB = try Fixture(lifetime: 3600, keys: NonceKeyRing(current: NonceKey(id: 1, secret: secret1)), clock: clock)
        // Issued by A, answered to B: no shared state needed.
        let beforeRotation = try nodeA.challenge()
        #expect(nodeB.verify(try nodeA.answer(beforeRotation)).isOK)

        let secret2 = NonceKey.generateSecret()
        for node in [nodeA, nodeB] {
            try node.authenticator.rotateKeys(to: NonceKey(id: 2, secret: secret2), overlapSeconds: 600)
            #expect(node.authenticator.keyRing.current.id == 2)
        }
        clock.advance(by: 600)
        #expect(nodeB.verify(try nodeA.answer(beforeRotation)).isOK)  // old key, inside the overlap
        #expect(nodeA.verify(try nodeB.answer(nodeB.challenge())).isOK)  // new key
        clock.advance(by: 1)
        #expect(nodeB.verify(try nodeA.answer(beforeRotation)).failureReason == .invalidNonce)  // overlap over
    }

    @Test func replayedAndReorderedCounts() throws {
        let f = try Fixture()
        let challenge = try f.challenge()
        let first = try f.answer(challenge)
        let second = try f.answer(challenge)
        let third = try f.answer(challenge)
        #expect(first["nc"] == "00000001" && second["nc"] == "00000002" && third["nc"] == "00000003")
        #expect(f.verify(third).isOK)
        #expect(f.verify(first).isOK)  // late but unused: fine
        #expect(f.verify(first).failureReason == .replayedNC)
        #expect(f.verify(second).isOK)
        #expect(f.verify(third).failureReason == .replayedNC)
    }

    @Test func failedAttemptsDoNotBurnCounts() throws {
        let f = try Fixture()
        let challenge = try f.challenge()
        let genuine = try f.answer(challenge)
        let forged = genuine.setting("response", String(repeating: "0", count: 64))
        #expect(f.verify(forged).failureReason == .wrongPassword)
        #expect(f.verify(genuine).isOK)
    }

    @Test func uriEquivalenceAndCaseInsensitiveResponse() throws {
        let f = try Fixture()
        let request = DigestRequest(method: "INVITE", uri: "sip:%2B14155551234@Trunk.Example.COM;transport=UDP")
        // The client hashed the Request-URI as written; the server compares per RFC 3261 §19.1.4.
        let header = try f.answer(f.challenge(), request: DigestRequest(method: "INVITE", uri: "sip:+14155551234@trunk.example.com;transport=udp"))
        #expect(f.verify(header, request: request).isOK)
        let upper = try f.answer(f.challenge())
        let shouted = upper.setting("response", upper["response"]?.uppercased())
        #expect(f.verify(shouted).isOK)
    }

    @Test func attemptNamesTheClaimedUser() throws {
        let f = try Fixture()
        let result = f.verify(try f.answer(f.challenge(), username: "mallory"))
        #expect(result == .failure(.unknownUser, DigestAttempt(username: "mallory", algorithm: .sha256)))
    }

    @Test func userhashIsResolved() throws {
        let f = try Fixture(userhash: true)
        let header = try f.answer(f.challenge())
        #expect(header["userhash"] == "true")
        #expect(header["username"] == DigestUserhash.compute(.sha256, username: "alice", realm: Fixture.realm))
        #expect(f.verify(header) == .ok(user: "alice", algorithm: .sha256))
        let stranger = try f.answer(f.challenge(), username: "mallory")
        #expect(f.verify(stranger).failureReason == .unknownUser)
    }

    @Test func headerValuesPickTheCredentialsForOurRealm() throws {
        let f = try Fixture()
        let ours = try f.answer(f.challenge())
        let theirs = ours.setting("realm", "upstream.example.net")
        let result = f.authenticator.verify(
            headerValues: ["garbage \"", Substring(theirs.serialized), Substring(ours.serialized)],
            request: f.request, policy: f.policy, binding: f.binding, user: { f.users[$0] }
        )
        #expect(result.isOK)
    }
}
