public import NIOCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Locating a SIP server (RFC 3263 §4) for the B2BUA's outbound legs.
///
/// - An IP address: that address; the given transport, else TLS for `sips:` and UDP otherwise;
///   the given port, else 5060 (5061 for TLS).
/// - A name with a port: A/AAAA of the name, transport as above.
/// - A name with a transport but no port: SRV `_sip._udp` / `_sip._tcp` / `_sips._tcp`,
///   targets by priority and weight (RFC 2782), then A/AAAA; no SRV record → A/AAAA, default port.
/// - A name with neither: NAPTR (services `SIP+D2U`, `SIP+D2T`, `SIPS+D2T` this edge can use,
///   by order and preference) → SRV → A/AAAA; no NAPTR → SRV for each transport (TLS first for
///   `sips:`; UDP, then TCP otherwise); nothing → A/AAAA over UDP (TLS for `sips:`).
///
/// Queries go over UDP to ``nameservers`` (default: `/etc/resolv.conf`), 2 s per try, one retry;
/// A/AAAA fall back to the system resolver (`/etc/hosts`). Lookups block: call off the event loops.
public struct SIPLocator: Sendable {
    public struct Found: Sendable, Hashable {
        public var address: SocketAddress
        public var transport: SIPTransportProtocol
        /// The name a TLS certificate must carry: the SRV target's domain per RFC 3263 §4.1
        /// uses the original domain, so this stays nil and the caller uses the URI host.
        public var tlsName: String?
    }

    public var nameservers: [SocketAddress]
    /// The transports the edge can send over (listeners exist); others are skipped.
    public var supported: Set<SIPTransportProtocol>
    public var timeout: TimeAmount = .seconds(2)

    public init(nameservers: [SocketAddress], supported: Set<SIPTransportProtocol> = [.udp, .tcp, .tls]) {
        self.nameservers = nameservers
        self.supported = supported
    }

    /// The nameservers of `/etc/resolv.conf` (port 53).
    public static func systemNameservers(path: String = "/etc/resolv.conf") -> [SocketAddress] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver" else { return nil }
            return try? SocketAddress(ipAddress: String(words[1]), port: 53)
        }
    }

    public func locate(host: String, port: Int?, transport: SIPTransportProtocol?, secure: Bool) -> [Found] {
        let fallbackTransport = transport ?? (secure ? .tls : .udp)
        func defaultPort(_ t: SIPTransportProtocol) -> Int { t == .tls ? 5061 : 5060 }
        if IPLiteral.isLiteral(host) {
            guard supported.contains(fallbackTransport), let a = try? SocketAddress(ipAddress: host, port: port ?? defaultPort(fallbackTransport)) else { return [] }
            return [Found(address: a, transport: fallbackTransport)]
        }
        if let port {
            guard supported.contains(fallbackTransport) else { return [] }
            return addresses(of: host, port: port).map { Found(address: $0, transport: fallbackTransport) }
        }
        if let transport {
            guard supported.contains(transport) else { return [] }
            let viaSRV = srvTargets(Self.srvName(host, transport)).flatMap { t in addresses(of: t.target, port: t.port).map { Found(address: $0, transport: transport) } }
            if !viaSRV.isEmpty { return viaSRV }
            return addresses(of: host, port: defaultPort(transport)).map { Found(address: $0, transport: transport) }
        }
        // Neither port nor transport: NAPTR, then SRV, then A/AAAA.
        var found: [Found] = []
        let naptrs = naptrRecords(host)
        for n in naptrs {
            guard n.flags.lowercased() == "s", let t = Self.transport(forService: n.service), supported.contains(t), !secure || t == .tls else { continue }
            for target in srvTargets(n.replacement) {
                found += addresses(of: target.target, port: target.port).map { Found(address: $0, transport: t) }
            }
        }
        if !found.isEmpty || !naptrs.isEmpty { return found }
        let order: [SIPTransportProtocol] = secure ? [.tls] : [.udp, .tcp, .tls]
        for t in order where supported.contains(t) {
            let targets = srvTargets(Self.srvName(host, t))
            if targets.isEmpty { continue }
            return targets.flatMap { target in addresses(of: target.target, port: target.port).map { Found(address: $0, transport: t) } }
        }
        guard supported.contains(fallbackTransport) else { return [] }
        return addresses(of: host, port: defaultPort(fallbackTransport)).map { Found(address: $0, transport: fallbackTransport) }
    }

    static func srvName(_ host: String, _ t: SIPTransportProtocol) -> String {
        switch t {
        case .udp: "_sip._udp.\(host)"
        case .tcp: "_sip._tcp.\(host)"
        case .tls: "_sips._tcp.\(host)"
        }
    }

    static func transport(forService service: String) -> SIPTransportProtocol? {
        switch service.uppercased() {
        case "SIP+D2U": .udp
        case "SIP+D2T": .tcp
        case "SIPS+D2T": .tls
        default: nil
        }
    }

    // MARK: Records

    struct NAPTR: Hashable { var order: Int; var preference: Int; var flags: String; var service: String; var replacement: String }
    struct SRV: Hashable { var priority: Int; var weight: Int; var port: Int; var target: String }

    func naptrRecords(_ name: String) -> [NAPTR] {
        query(name, type: DNSMessage.naptr).compactMap { $0.naptr }.sorted { ($0.order, $0.preference) < ($1.order, $1.preference) }
    }

    /// SRV targets in the order to try: ascending priority, weighted random within one (RFC 2782).
    func srvTargets(_ name: String) -> [SRV] {
        let records = query(name, type: DNSMessage.srv).compactMap { $0.srv }.filter { $0.target != "." && !$0.target.isEmpty }
        var out: [SRV] = []
        for priority in Set(records.map(\.priority)).sorted() {
            var pool = records.filter { $0.priority == priority }
            while !pool.isEmpty {
                let total = pool.reduce(0) { $0 + $1.weight }
                var pick = 0
                if total > 0 {
                    var r = Int.random(in: 0...total)
                    for (i, s) in pool.enumerated() {
                        r -= s.weight
                        if r <= 0 { pick = i; break }
                    }
                }
                out.append(pool.remove(at: pick))
            }
        }
        return out
    }

    /// A and AAAA records (IPv4 first), or the system resolver when the DNS has none.
    func addresses(of name: String, port: Int) -> [SocketAddress] {
        let fromDNS = (query(name, type: DNSMessage.a) + query(name, type: DNSMessage.aaaa)).compactMap { $0.address(port: port) }
        if !fromDNS.isEmpty { return fromDNS }
        return (try? SocketAddress.makeAddressResolvingHost(name, port: port)).map { [$0] } ?? []
    }

    func query(_ name: String, type: UInt16) -> [DNSMessage.Record] {
        guard !nameservers.isEmpty, let packet = DNSMessage.query(name: name, type: type) else { return [] }
        for server in nameservers {
            for _ in 0..<2 {
                if let answer = Self.exchange(packet.bytes, with: server, timeout: timeout),
                   let records = DNSMessage.answers(answer, id: packet.id, type: type) {
                    return records
                }
            }
        }
        return []
    }

    /// One UDP request/response with a receive timeout.
    static func exchange(_ request: [UInt8], with server: SocketAddress, timeout: TimeAmount) -> [UInt8]? {
        let family = server.protocol == .inet6 ? AF_INET6 : AF_INET
        #if canImport(Glibc)
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        #else
        let fd = socket(family, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout.nanoseconds / 1_000_000_000), tv_usec: Int((timeout.nanoseconds % 1_000_000_000) / 1000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let sent = server.withSockAddr { addr, length in
            request.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, addr, socklen_t(length)) }
        }
        guard sent == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard received > 0 else { return nil }
        return Array(buffer[0..<received])
    }
}

/// Tells IP literals from names.
enum IPLiteral {
    static func isLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
