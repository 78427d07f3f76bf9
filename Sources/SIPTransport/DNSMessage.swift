import NIOCore

/// DNS wire format (RFC 1035), only what ``SIPLocator`` needs: a query for one name and type,
/// and the answer section's A, AAAA, SRV (RFC 2782) and NAPTR (RFC 3403) records. Every read
/// is bounds-checked; a malformed answer is nil, never a crash.
enum DNSMessage {
    static let a: UInt16 = 1
    static let aaaa: UInt16 = 28
    static let srv: UInt16 = 33
    static let naptr: UInt16 = 35

    enum Record: Hashable {
        case a([UInt8])
        case aaaa([UInt8])
        case srv(SIPLocator.SRV)
        case naptr(SIPLocator.NAPTR)

        var srv: SIPLocator.SRV? { if case .srv(let s) = self { s } else { nil } }
        var naptr: SIPLocator.NAPTR? { if case .naptr(let n) = self { n } else { nil } }

        func address(port: Int) -> SocketAddress? {
            switch self {
            case .a(let b): return try? SocketAddress(ipAddress: b.map(String.init).joined(separator: "."), port: port)
            case .aaaa(let b):
                let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
                return try? SocketAddress(ipAddress: groups.joined(separator: ":"), port: port)
            default: return nil
            }
        }
    }

    static func query(name: String, type: UInt16) -> (id: UInt16, bytes: [UInt8])? {
        let id = UInt16.random(in: 0...UInt16.max)
        var out: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]  // RD; one question
        for label in name.split(separator: ".") {
            let bytes = Array(label.utf8)
            guard (1...63).contains(bytes.count) else { return nil }
            out.append(UInt8(bytes.count))
            out += bytes
        }
        out += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        guard out.count <= 512 else { return nil }
        return (id, out)
    }

    /// The records of `type` in the answer section; nil when the message is not the answer
    /// to query `id` or is malformed. NXDOMAIN and empty answers are `[]`.
    static func answers(_ m: [UInt8], id: UInt16, type: UInt16) -> [Record]? {
        guard m.count >= 12, UInt16(m[0]) << 8 | UInt16(m[1]) == id, m[2] & 0x80 != 0 else { return nil }
        let rcode = m[3] & 0x0F
        if rcode == 3 { return [] }  // NXDOMAIN
        guard rcode == 0 else { return nil }
        let qd = Int(m[4]) << 8 | Int(m[5])
        let an = Int(m[6]) << 8 | Int(m[7])
        var i = 12
        for _ in 0..<qd {
            guard let (_, next) = name(m, at: i), next + 4 <= m.count else { return nil }
            i = next + 4
        }
        var out: [Record] = []
        for _ in 0..<an {
            guard let (_, next) = name(m, at: i), next + 10 <= m.count else { return nil }
            let rtype = UInt16(m[next]) << 8 | UInt16(m[next + 1])
            let length = Int(m[next + 8]) << 8 | Int(m[next + 9])
            let start = next + 10
            guard start + length <= m.count else { return nil }
            defer { i = start + length }
            guard rtype == type else { continue }  // e.g. a CNAME before the A records
            switch rtype {
            case a where length == 4: out.append(.a(Array(m[start..<start + 4])))
            case aaaa where length == 16: out.append(.aaaa(Array(m[start..<start + 16])))
            case srv where length >= 7:
                guard let (target, _) = name(m, at: start + 6) else { return nil }
                out.append(.srv(.init(priority: u16(m, start), weight: u16(m, start + 2), port: u16(m, start + 4), target: target)))
            case naptr where length >= 7:
                var j = start + 4
                var strings: [String] = []
                for _ in 0..<3 {
                    guard j < start + length else { return nil }
                    let n = Int(m[j])
                    guard j + 1 + n <= start + length else { return nil }
                    strings.append(String(decoding: m[(j + 1)..<(j + 1 + n)], as: UTF8.self))
                    j += 1 + n
                }
                guard let (replacement, _) = name(m, at: j) else { return nil }
                out.append(.naptr(.init(order: u16(m, start), preference: u16(m, start + 2), flags: strings[0], service: strings[1],
                                        replacement: replacement)))
            default: continue
            }
        }
        return out
    }

    private static func u16(_ m: [UInt8], _ i: Int) -> Int { Int(m[i]) << 8 | Int(m[i + 1]) }

    /// A possibly compressed name at `offset`: the dotted name and the offset after it (after
    /// the first pointer when compressed). At most 128 labels or pointers, so no loop.
    static func name(_ m: [UInt8], at offset: Int) -> (String, Int)? {
        var labels: [String] = []
        var i = offset
        var end: Int?
        for _ in 0..<128 {
            guard i < m.count else { return nil }
            let length = Int(m[i])
            if length == 0 {
                return (labels.isEmpty ? "." : labels.joined(separator: "."), end ?? i + 1)
            }
            if length & 0xC0 == 0xC0 {
                guard i + 1 < m.count else { return nil }
                if end == nil { end = i + 2 }
                i = (length & 0x3F) << 8 | Int(m[i + 1])
                continue
            }
            guard length <= 63, i + 1 + length <= m.count else { return nil }
            labels.append(String(decoding: m[(i + 1)..<(i + 1 + length)], as: UTF8.self))
            i += 1 + length
        }
        return nil
    }
}
