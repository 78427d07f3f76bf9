/// The SIP transport protocol of a listener or of a received message (RFC 3261 §18).
public enum SIPTransportProtocol: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case udp
    case tcp
    case tls

    /// Stream transports frame messages by Content-Length; datagrams carry one message each.
    public var isStream: Bool { self != .udp }

    /// The token used in a Via header (`SIP/2.0/UDP`).
    public var viaToken: String { rawValue.uppercased() }

    public var description: String { rawValue }
}

/// One listening address as given to `trunkgate serve --sip`: `udp:0.0.0.0:5060`,
/// `tcp:[::]:5060`, `tls:127.0.0.1:5061`.
///
/// The host must be an IP literal (IPv6 in brackets): a listener binds to an address, and name
/// resolution at bind time would make the set of sockets depend on DNS.
public struct SIPListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var transport: SIPTransportProtocol
    /// The IP address without brackets: `0.0.0.0`, `::1`.
    public var host: String
    /// 0 binds an ephemeral port (useful in tests).
    public var port: Int

    public init(transport: SIPTransportProtocol, host: String, port: Int) {
        self.transport = transport
        self.host = host
        self.port = port
    }

    /// Parses `TRANSPORT:HOST:PORT`; an IPv6 host is written in brackets (`tcp:[::1]:5060`).
    public init(parsing text: String) throws(SIPListenAddressError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw SIPListenAddressError(text, "expected TRANSPORT:HOST:PORT, e.g. udp:0.0.0.0:5060")
        }
        guard let transport = SIPTransportProtocol(rawValue: text[..<colon].lowercased()) else {
            throw SIPListenAddressError(text, "transport must be udp, tcp or tls")
        }
        let rest = text[text.index(after: colon)...]
        let hostPart: Substring
        let portPart: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw SIPListenAddressError(text, "missing ']' after IPv6 address")
            }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let afterBracket = rest[rest.index(after: close)...]
            guard afterBracket.hasPrefix(":") else {
                throw SIPListenAddressError(text, "expected ':PORT' after ']'")
            }
            portPart = afterBracket.dropFirst()
            guard hostPart.contains(":") else {
                throw SIPListenAddressError(text, "brackets are for IPv6 addresses only")
            }
        } else {
            guard let lastColon = rest.lastIndex(of: ":") else {
                throw SIPListenAddressError(text, "missing ':PORT'")
            }
            hostPart = rest[..<lastColon]
            portPart = rest[rest.index(after: lastColon)...]
            if hostPart.contains(":") {
                throw SIPListenAddressError(text, "an IPv6 address must be written in brackets, e.g. tcp:[::]:5060")
            }
        }
        guard !hostPart.isEmpty else { throw SIPListenAddressError(text, "missing host") }
        guard hostPart.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) else {
            throw SIPListenAddressError(text, "host must be an IPv4 or IPv6 address, not a name")
        }
        guard portPart.count <= 5, portPart.allSatisfy(\.isASCIIDigit), let port = Int(portPart), port <= 65535 else {
            throw SIPListenAddressError(text, "port must be a number from 0 to 65535")
        }
        self.init(transport: transport, host: String(hostPart), port: port)
    }

    /// The defaults of `trunkgate serve` (SPEC §4): UDP and TCP on `0.0.0.0:5060` and `[::]:5060`.
    public static let defaults: [SIPListenAddress] = [
        .init(transport: .udp, host: "0.0.0.0", port: 5060),
        .init(transport: .tcp, host: "0.0.0.0", port: 5060),
        .init(transport: .udp, host: "::", port: 5060),
        .init(transport: .tcp, host: "::", port: 5060),
    ]

    /// Written back in the form `--sip` accepts.
    public var description: String {
        host.contains(":") ? "\(transport):[\(host)]:\(port)" : "\(transport):\(host):\(port)"
    }
}

/// A `--sip` value that is not a listening address.
public struct SIPListenAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    public var input: String
    public var reason: String

    init(_ input: String, _ reason: String) {
        self.input = input
        self.reason = reason
    }

    public var description: String { "invalid listen address '\(input)': \(reason)" }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
