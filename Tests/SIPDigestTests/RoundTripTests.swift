import SIPDigest
import SIPMessage
import Testing

/// The client answers the challenges the server issues: every algorithm, every qop.
@Suite("Client/server round trip")
struct RoundTripTests {
    static let offers: [DigestQOPOffer] = [.auth, .authAndAuthInt, .authInt, .none]
    static let sdp = Array("v=0\r\no=- 1 1 IN IP4 198.51.100.10\r\ns=-\r\nc=IN IP4 198.51.100.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n".utf8)

    @Test(arguments: DigestAlgorithm.allCases, offers)
    func roundTrip(_ algorithm: DigestAlgorithm, _ offer: DigestQOPOffer) throws {
        for userhash in [false, true] {
            let f = try Fixture(algorithms: [algorithm], qop: offer, userhash: userhash)
            let request = DigestRequest(method: "INVITE", uri: "sip:+14155551234@trunk.example.com;transport=udp", body: Self.sdp)
            let challenge = try f.challenge()
            let answer = try f.answer(challenge, request: request)

            let expectedQOP: DigestQOP? = switch offer {
            case .none: nil
            case .auth, .authAndAuthInt: .auth
            case .authInt: .authInt
            }
            #expect(answer["qop"] == expectedQOP?.rawValue)
            #expect(answer["algorithm"] == algorithm.rawValue)
            #expect(answer["opaque"] == f.policy.opaque)
            #expect(answer["userhash"] == (userhash ? "true" : nil))
            #expect(f.verify(answer, request: request) == .ok(user: "alice", algorithm: algorithm))

            // The same answer again is a replay, with or without nc.
            #expect(f.verify(answer, request: request).failureReason == .replayedNC)
            // With qop the nonce is reusable at the next nc; without, it was single-use.
            let next = try f.answer(challenge, request: request)
            #expect(f.verify(next, request: request).failureReason == (offer == .none ? .replayedNC : nil))
            // auth-int covers the body.
            if expectedQOP == .authInt {
                var tampered = request
                tampered.body = Array("v=0\r\n".utf8)
                #expect(f.verify(try f.answer(challenge, request: request), request: tampered).failureReason == .wrongPassword)
            }
        }
    }

    @Test(arguments: [DigestChallengeKind.www, .proxy])
    func bothHeaderPairs(_ kind: DigestChallengeKind) throws {
        let f = try Fixture()
        let challenge = f.authenticator.challenge(kind, policy: f.policy, binding: f.binding)
        let received = try challenge.headerValues.map { try SIPAuthHeader(parsing: $0, headerName: kind.challengeHeaderName) }
        let answer = try f.client.authorization(
            answering: received, username: "alice", password: Fixture.password,
            method: f.request.method, uri: f.request.uri
        )
        let parsed = try SIPAuthHeader(parsing: answer.serialized, headerName: kind.credentialsHeaderName)
        #expect(f.verify(parsed).isOK)
    }
}

@Suite("Digest client")
struct DigestClientTests {
    func challenge(_ text: String) throws -> SIPAuthHeader { try SIPAuthHeader(parsing: text) }

    @Test func picksTheStrongestAlgorithmOffered() throws {
        let client = DigestClient()
        let offers = try [
            challenge(#"Digest realm="r", nonce="n1", algorithm=MD5, qop="auth""#),
            challenge(#"Digest realm="r", nonce="n1", algorithm=SHA-512-256, qop="auth""#),
            challenge(#"Digest realm="r", nonce="n1", algorithm=SHA-256, qop="auth""#),
            challenge(#"Digest realm="r", nonce="n1", algorithm=AKAv1-MD5, qop="auth""#),
        ]
        for order in [offers, offers.reversed()] {
            let answer = try client.authorization(answering: order, username: "u", password: "p", method: "INVITE", uri: "sip:x@r")
            #expect(answer["algorithm"] == "SHA-512-256")
        }
        let sha256 = try client.authorization(answering: [offers[0], offers[2]], username: "u", password: "p", method: "INVITE", uri: "sip:x@r")
        #expect(sha256["algorithm"] == "SHA-256")
    }

    @Test func qopChoiceAndCounters() throws {
        let client = DigestClient()
        let both = try challenge(#"Digest realm="r", nonce="n2", qop="auth-int, auth", opaque="xyz""#)
        let first = try client.authorization(answering: [both], username: "u", password: "p", method: "INVITE", uri: "sip:x@r")
        let second = try client.authorization(answering: [both], username: "u", password: "p", method: "INVITE", uri: "sip:x@r")
        #expect(first["qop"] == "auth")
        #expect(first["algorithm"] == "MD5")  // absent means MD5
        #expect(first["opaque"] == "xyz")
        #expect(first["nc"] == "00000001" && second["nc"] == "00000002")
        #expect(first["cnonce"] != second["cnonce"])
        #expect(first["cnonce"]?.utf8.count == 32)
        #expect(first["uri"] == "sip:x@r")

        let other = try challenge(#"Digest realm="r", nonce="n3", qop="auth-int""#)
        let authInt = try client.authorization(answering: [other], username: "u", password: "p", method: "INVITE", uri: "sip:x@r", body: [1, 2])
        #expect(authInt["qop"] == "auth-int")
        #expect(authInt["nc"] == "00000001")

        let legacy = try challenge(#"Digest realm="r", nonce="n4""#)
        let none = try client.authorization(answering: [legacy], username: "u", password: "p", method: "INVITE", uri: "sip:x@r")
        #expect(none["qop"] == nil && none["nc"] == nil && none["cnonce"] == nil && none["opaque"] == nil)
        #expect(none["response"] == DigestResponse.compute(
            algorithm: .md5, username: "u", realm: "r", password: "p", method: "INVITE", uri: "sip:x@r",
            nonce: "n4", qop: nil, nc: nil, cnonce: nil, body: nil))
    }

    @Test func refusesWhatItCannotAnswer() throws {
        let client = DigestClient()
        for text in [#"Digest realm="r", nonce="n", algorithm=AKAv1-MD5"#, #"Digest realm="r", nonce="n", qop="auth-conf""#,
                     #"Digest nonce="n""#, #"Digest realm="r""#, "Basic realm=\"r\""] {
            #expect(throws: DigestClientError.noUsableChallenge) {
                try client.authorization(answering: [try challenge(text)], username: "u", password: "p", method: "INVITE", uri: "sip:x@r")
            }
        }
        #expect(throws: DigestClientError.noUsableChallenge) {
            try client.authorization(answering: [], username: "u", password: "p", method: "INVITE", uri: "sip:x@r")
        }
    }

    @Test func nonceCountersAreBounded() throws {
        let client = DigestClient(trackedNonces: 2)
        func nc(_ nonce: String) throws -> String? {
            try client.authorization(
                answering: [challenge("Digest realm=\"r\", nonce=\"\(nonce)\", qop=\"auth\"")],
                username: "u", password: "p", method: "OPTIONS", uri: "sip:r"
            )["nc"]
        }
        #expect(try nc("a") == "00000001")
        #expect(try nc("a") == "00000002")
        #expect(try nc("b") == "00000001")
        #expect(try nc("c") == "00000001")  // forgets "a"
        #expect(try nc("a") == "00000001")
    }
}
