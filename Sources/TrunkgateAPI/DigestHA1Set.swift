import Crypto
import _CryptoExtras
import Foundation

/// HA1 = H(user_name ":" realm ":" password) for the three digest hashes a credential is kept
/// as (RFC 7616 §3.4.2), lower-case hex. The password is used here and nowhere else.
enum CredentialDigests {
    static func ha1(userName: String, realm: String, password: String) -> (md5: String, sha256: String, sha512_256: String) {
        let input = Data("\(userName):\(realm):\(password)".utf8)
        return (
            hex(Insecure.MD5.hash(data: input)),
            hex(SHA256.hash(data: input)),
            hex(SHA512256.hash(data: input))
        )
    }

    private static func hex(_ digest: some Sequence<UInt8>) -> String {
        var s = ""
        for b in digest {
            s += (b < 16 ? "0" : "") + String(b, radix: 16)
        }
        return s
    }
}
