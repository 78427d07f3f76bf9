import Foundation

/// `shared/conformance/digest_vectors.json`, read in place: the repository's sibling `shared`.
struct ConformanceData: Decodable, Sendable {
    struct Expected: Decodable, Sendable {
        var ha1: String?
        var ha2: String?
        var response: String
        var userhash: String?
        var hEntityBody: String?
    }

    struct Vector: Decodable, Sendable, CustomStringConvertible {
        var id: String
        var algorithm: String
        var username: String
        var realm: String
        var password: String
        var method: String
        var uri: String
        var nonce: String
        var nc: String?
        var cnonce: String?
        var qop: String?
        var body: String?
        var userhash: Bool?
        var hEntityBody: String?
        var expected: Expected

        var description: String { id }
    }

    struct HeaderExpectation: Decodable, Sendable {
        var scheme: String
        var params: [String: String]
        var quoted: [String]
        var effectiveUsername: String?
    }

    struct HeaderCase: Decodable, Sendable, CustomStringConvertible {
        var id: String
        var header: String
        var value: String
        var valid: Bool
        var expected: HeaderExpectation?
        var vector: String?

        var description: String { id }
    }

    var format: String
    var vectors: [Vector]
    var crosscheckVectors: [Vector]
    var authorizationHeaders: [HeaderCase]

    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SIPDigestTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the package
        .deletingLastPathComponent()  // its parent, which holds `shared`
        .appendingPathComponent("shared/conformance/digest_vectors.json")

    /// Loaded once; a missing or unreadable file fails every test that uses it.
    static let shared: ConformanceData = {
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(ConformanceData.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()

    func vector(id: String) -> Vector? {
        vectors.first { $0.id == id }
    }
}
