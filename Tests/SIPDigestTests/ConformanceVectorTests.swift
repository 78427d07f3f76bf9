import SIPDigest
import SIPMessage
import Testing

/// Every entry of shared/conformance/digest_vectors.json.
@Suite("Conformance vectors")
struct ConformanceVectorTests {
    static let data = ConformanceData.shared

    @Test func fileIsTheExpectedFormat() {
        #expect(Self.data.format == "sip-digest-test-vectors/1")
        #expect(Self.data.vectors.count >= 46)
        #expect(Self.data.crosscheckVectors.count == 5)
        #expect(Self.data.authorizationHeaders.count >= 22)
    }

    @Test(arguments: data.vectors)
    func vector(_ v: ConformanceData.Vector) throws {
        let algorithm = try #require(DigestAlgorithm(token: v.algorithm))
        let hash = algorithm.hash
        let qop = try v.qop.map { try #require(DigestQOP(token: $0)) }

        let ha1 = DigestHA1.compute(algorithm, username: v.username, realm: v.realm, password: v.password)
        let effectiveHA1 = algorithm.isSession
            ? DigestHA1.session(hash, ha1: ha1, nonce: v.nonce, cnonce: v.cnonce ?? "")
            : ha1
        #expect(effectiveHA1 == v.expected.ha1)

        let bodyHash = qop == .authInt ? DigestResponse.entityBodyHash(hash, body: Array((v.body ?? "").utf8)) : nil
        #expect(bodyHash == v.expected.hEntityBody)
        #expect(DigestResponse.ha2(hash, method: v.method, uri: v.uri, entityBodyHash: bodyHash) == v.expected.ha2)

        let fromHA1 = DigestResponse.compute(
            algorithm: algorithm, ha1: ha1, nonce: v.nonce, nc: v.nc, cnonce: v.cnonce,
            qop: qop, method: v.method, uri: v.uri, entityBodyHash: bodyHash
        )
        #expect(fromHA1 == v.expected.response)

        if v.userhash == true {
            #expect(DigestUserhash.compute(hash, username: v.username, realm: v.realm) == v.expected.userhash)
        } else {
            #expect(v.expected.userhash == nil)
        }
    }

    /// The function `trunkgate digest response` prints, fed the CLI's inputs.
    @Test(arguments: data.vectors)
    func cliComputation(_ v: ConformanceData.Vector) throws {
        let algorithm = try #require(DigestAlgorithm(token: v.algorithm))
        let response = DigestResponse.compute(
            algorithm: algorithm, username: v.username, realm: v.realm, password: v.password,
            method: v.method, uri: v.uri, nonce: v.nonce,
            qop: v.qop.flatMap { DigestQOP(token: $0) }, nc: v.nc, cnonce: v.cnonce,
            body: v.body.map { Array($0.utf8) }
        )
        #expect(response == v.expected.response)
    }

    /// Published SIP responses (draft-smith-sipping-auth-examples-01); auth-int gives only H(body).
    @Test(arguments: data.crosscheckVectors)
    func crosscheck(_ v: ConformanceData.Vector) throws {
        let algorithm = try #require(DigestAlgorithm(token: v.algorithm))
        let ha1 = DigestHA1.compute(algorithm, username: v.username, realm: v.realm, password: v.password)
        if let expectedHA1 = v.expected.ha1 { #expect(ha1 == expectedHA1) }
        let response = DigestResponse.compute(
            algorithm: algorithm, ha1: ha1, nonce: v.nonce, nc: v.nc, cnonce: v.cnonce,
            qop: v.qop.flatMap { DigestQOP(token: $0) }, method: v.method, uri: v.uri,
            entityBodyHash: v.hEntityBody
        )
        #expect(response == v.expected.response)
    }

    @Test(arguments: data.authorizationHeaders)
    func authorizationHeader(_ c: ConformanceData.HeaderCase) throws {
        guard c.valid else {
            #expect(throws: SIPParseError.self) { try SIPAuthHeader(parsing: c.value, headerName: c.header) }
            return
        }
        let header = try SIPAuthHeader(parsing: c.value, headerName: c.header)
        let expected = try #require(c.expected)
        #expect(header.scheme == expected.scheme)
        #expect(Dictionary(uniqueKeysWithValues: header.parameters.map { ($0.name, $0.value) }) == expected.params)
        #expect(Set(header.parameters.filter(\.quoted).map(\.name)) == Set(expected.quoted))

        // Effective user name: username* decoded, or a userhash resolved against the vector's user.
        let credentials = try DigestCredentials(header)
        if credentials.userhash {
            let vector = try #require(c.vector.flatMap(Self.data.vector(id:)))
            let algorithm = try #require(credentials.algorithm)
            #expect(DigestUserhash.compute(algorithm.hash, username: vector.username, realm: credentials.realm) == credentials.username)
            #expect(expected.effectiveUsername == nil || expected.effectiveUsername == vector.username)
        } else {
            #expect(header.effectiveUsername == (expected.effectiveUsername ?? expected.params["username"]))
        }

        // The header's response is right for its vector's password.
        guard let vector = c.vector.flatMap(Self.data.vector(id:)) else { return }
        let algorithm = try #require(credentials.algorithm)
        let ha1 = DigestHA1.compute(algorithm, username: vector.username, realm: credentials.realm, password: vector.password)
        let recomputed = DigestResponse.compute(
            algorithm: algorithm, ha1: ha1, nonce: credentials.nonce, nc: credentials.ncText,
            cnonce: credentials.cnonce, qop: credentials.qop, method: vector.method, uri: credentials.uri,
            entityBodyHash: credentials.qop == .authInt
                ? DigestResponse.entityBodyHash(algorithm.hash, body: Array((vector.body ?? "").utf8)) : nil
        )
        #expect(recomputed == credentials.response)
    }
}
