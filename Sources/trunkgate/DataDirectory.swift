import Foundation
import SIPDigest
import TrunkgateModel

/// The `--data` directory: created on first start; holds the SQLite file (by default) and the
/// server's secrets, each in its own file with mode 0600, created on first use.
struct DataDirectory {
    let path: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(_ path: String) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure(description: "cannot create the data directory \(path): \(error.localizedDescription)")
        }
    }

    /// 32 random bytes kept in `name`, or from the environment variable `override` (hex), so that
    /// several nodes can share one secret.
    func secret(named name: String, override: String? = nil) throws -> [UInt8] {
        if let override, let hex = ProcessInfo.processInfo.environment[override], !hex.isEmpty {
            guard let bytes = Self.bytes(hex: hex), bytes.count >= 32 else {
                throw Failure(description: "\(override) must be at least 64 hexadecimal digits")
            }
            return bytes
        }
        let file = (path as NSString).appendingPathComponent(name)
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            guard let bytes = Self.bytes(hex: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count >= 32 else {
                throw Failure(description: "\(file) is damaged: expected at least 64 hexadecimal digits")
            }
            return bytes
        }
        var generated = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in generated.indices { generated[i] = UInt8.random(in: 0...255, using: &rng) }
        let hex = generated.map { String(format: "%02x", $0) }.joined() + "\n"
        // Written with mode 0600 from the start: the secret never sits in a readable file.
        guard FileManager.default.createFile(atPath: file, contents: Data(hex.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Failure(description: "cannot write \(file)")
        }
        return generated
    }

    static func bytes(hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let h = nibble(u[i]), let l = nibble(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The key that seals destination passwords.
    func sealer() throws -> SecretSealer {
        SecretSealer(keyData: Data(try secret(named: "secret.key", override: "TRUNKGATE_SECRET_KEY")))
    }

    /// The nonce key ring: id 1 from `nonce.key` (or TRUNKGATE_NONCE_KEY, shared by the nodes
    /// of a cluster so that any node verifies any node's nonce).
    func nonceKeys() throws -> NonceKeyRing {
        let secret = try secret(named: "nonce.key", override: "TRUNKGATE_NONCE_KEY")
        return try NonceKeyRing(current: NonceKey(id: 1, secret: secret))
    }
}
