public import NIOCore

extension SocketAddress {
    /// The IP address as text, exactly as ``SocketAddress/ipAddress`` prints it.
    ///
    /// Every request needs its source address as text (the Via `received` check, auth events,
    /// ACLs). `ipAddress` goes through `inet_ntop`, which formats IPv4 with `sprintf`; this
    /// writes the dotted quad directly into a small string (at most 15 bytes, no allocation).
    /// IPv6 and Unix addresses take the `ipAddress` path.
    public var ipText: String? {
        guard case .v4(let v4) = self else { return ipAddress }
        // s_addr is in network byte order: its first byte in memory is the first octet.
        let octets = withUnsafeBytes(of: v4.address.sin_addr.s_addr) { ($0[0], $0[1], $0[2], $0[3]) }
        return String(unsafeUninitializedCapacity: 15) { buffer in
            var at = 0
            func put(_ octet: UInt8) {
                if octet >= 100 { buffer[at] = 0x30 + octet / 100; at += 1 }
                if octet >= 10 { buffer[at] = 0x30 + octet / 10 % 10; at += 1 }
                buffer[at] = 0x30 + octet % 10; at += 1
            }
            put(octets.0); buffer[at] = 0x2E; at += 1
            put(octets.1); buffer[at] = 0x2E; at += 1
            put(octets.2); buffer[at] = 0x2E; at += 1
            put(octets.3)
            return at
        }
    }
}
