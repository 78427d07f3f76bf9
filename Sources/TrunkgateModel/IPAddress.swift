/// An IPv4 or IPv6 address, parsed strictly (no host names, no zone ids).
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    case v6(hi: UInt64, lo: UInt64)

    public init?(_ text: some StringProtocol) {
        let s = String(text)
        if s.contains(":") {
            guard let v = Self.parseV6(s) else { return nil }
            self = v
        } else {
            guard let v = Self.parseV4(Substring(s)) else { return nil }
            self = .v4(v)
        }
    }

    /// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 address; others unchanged.
    public var unmapped: IPAddress {
        if case .v6(let hi, let lo) = self, hi == 0, lo >> 32 == 0xFFFF { return .v4(UInt32(truncatingIfNeeded: lo)) }
        return self
    }

    public var bitWidth: Int {
        if case .v4 = self { return 32 }
        return 128
    }

    public var description: String {
        switch self {
        case .v4(let v):
            return "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF)"
        case .v6(let hi, let lo):
            var groups: [UInt16] = []
            for i in 0..<4 { groups.append(UInt16(truncatingIfNeeded: hi >> (48 - 16 * UInt64(i)))) }
            for i in 0..<4 { groups.append(UInt16(truncatingIfNeeded: lo >> (48 - 16 * UInt64(i)))) }
            // RFC 5952: compress the longest run (length ≥ 2) of zero groups.
            var bestStart = -1, bestLen = 0, i = 0
            while i < 8 {
                if groups[i] == 0 {
                    var j = i
                    while j < 8, groups[j] == 0 { j += 1 }
                    if j - i > bestLen, j - i >= 2 { bestStart = i; bestLen = j - i }
                    i = j
                } else { i += 1 }
            }
            func hex(_ r: ArraySlice<UInt16>) -> String { r.map { String($0, radix: 16) }.joined(separator: ":") }
            if bestStart < 0 { return hex(groups[...]) }
            return hex(groups[..<bestStart]) + "::" + hex(groups[(bestStart + bestLen)...])
        }
    }

    static func parseV4(_ s: Substring) -> UInt32? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard (1...3).contains(p.utf8.count), p.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let n = UInt32(p), n <= 255, !(p.utf8.count > 1 && p.utf8.first == 0x30) else { return nil }
            v = v << 8 | n
        }
        return v
    }

    static func parseV6(_ s: String) -> IPAddress? {
        guard s.utf8.count <= 45 else { return nil }
        var head: [UInt16] = [], tail: [UInt16] = []
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowV4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let items = part.split(separator: ":", omittingEmptySubsequences: false)
            for (idx, item) in items.enumerated() {
                if allowV4, idx == items.count - 1, item.contains(".") {
                    guard let v4 = parseV4(item) else { return nil }
                    out.append(UInt16(v4 >> 16)); out.append(UInt16(v4 & 0xFFFF))
                } else {
                    guard (1...4).contains(item.utf8.count), let g = UInt16(item, radix: 16) else { return nil }
                    out.append(g)
                }
            }
            return out
        }
        if halves.count == 2 {
            guard let h = groups(halves[0], allowV4: false), let t = groups(halves[1], allowV4: true), h.count + t.count <= 7 else { return nil }
            head = h; tail = t
        } else {
            guard let h = groups(halves[0], allowV4: true), h.count == 8 else { return nil }
            head = h
        }
        let all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<4 { hi = hi << 16 | UInt64(all[i]) }
        for i in 4..<8 { lo = lo << 16 | UInt64(all[i]) }
        return .v6(hi: hi, lo: lo)
    }
}

/// An address block: `address/prefix`, host bits zero (SPEC §1 IP ACL entries).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefix: Int

    /// Validates address and prefix; host bits must be zero and host names are refused.
    public init(address text: String, prefix: Int?) throws(ValidationError) {
        guard let ip = IPAddress(text) else {
            throw ValidationError("invalid_ip_address", "ip_address must be an IPv4 or IPv6 address (host names are not accepted)", field: "ip_address")
        }
        let p = prefix ?? ip.bitWidth
        guard (0...ip.bitWidth).contains(p) else {
            throw ValidationError("invalid_cidr_prefix", "cidr_prefix_length must be 0-\(ip.bitWidth) for this address", field: "cidr_prefix_length")
        }
        guard CIDR.masked(ip, p) == ip else {
            throw ValidationError("invalid_cidr", "\(ip)/\(p) has host bits set; did you mean \(CIDR.masked(ip, p))/\(p)?", field: "ip_address")
        }
        address = ip
        self.prefix = p
    }

    /// Parses `a.b.c.d/nn`, `v6/nn`, or a bare address (a /32 or /128).
    public init(parsing text: String) throws(ValidationError) {
        let parts = text.split(separator: "/", maxSplits: 1)
        var prefix: Int?
        if parts.count == 2 {
            guard let p = Int(parts[1]) else { throw ValidationError("invalid_cidr_prefix", "prefix must be a number", field: "cidr_prefix_length") }
            prefix = p
        }
        try self.init(address: String(parts.first ?? ""), prefix: prefix)
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        let ip = candidate.unmapped
        switch (address, ip) {
        case (.v4, .v4), (.v6, .v6):
            return CIDR.masked(ip, prefix) == address
        default:
            return false
        }
    }

    public var description: String { "\(address)/\(prefix)" }

    static func masked(_ ip: IPAddress, _ prefix: Int) -> IPAddress {
        switch ip {
        case .v4(let v):
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
            return .v4(v & mask)
        case .v6(let hi, let lo):
            let hiMask: UInt64 = prefix >= 64 ? ~0 : (prefix == 0 ? 0 : ~UInt64(0) << UInt64(64 - prefix))
            let loMask: UInt64 = prefix <= 64 ? 0 : (prefix == 128 ? ~0 : ~UInt64(0) << UInt64(128 - prefix))
            return .v6(hi: hi & hiMask, lo: lo & loMask)
        }
    }
}
