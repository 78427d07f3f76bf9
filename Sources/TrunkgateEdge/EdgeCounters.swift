public import SIPTransport
public import Synchronization

/// What the edge counts on the SIP path: plain relaxed atomics (no lookup, no lock per
/// request). ``EdgeMetricsPublisher`` turns them into swift-metrics counters once a second.
public final class EdgeCounters: Sendable {
    /// Methods counted by name; anything else is `other`.
    public static let methods = ["REGISTER", "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "other"]
    public static let transports = SIPTransportProtocol.allCases

    private final class Cell: Sendable { let value = Atomic<Int>(0) }
    private let requestsByMethodTransport: [Cell]
    public let parseErrors = Atomic<Int>(0)
    public let retransmissionsAbsorbed = Atomic<Int>(0)
    public let lockouts = Atomic<Int>(0)
    public let eventsDropped = Atomic<Int>(0)
    public let overloaded = Atomic<Int>(0)

    public init() {
        requestsByMethodTransport = (0..<(Self.methods.count * Self.transports.count)).map { _ in Cell() }
    }

    func countRequest(method: Substring, transport: SIPTransportProtocol) {
        let m: Int
        switch method {
        case "REGISTER": m = 0
        case "INVITE": m = 1
        case "ACK": m = 2
        case "BYE": m = 3
        case "CANCEL": m = 4
        case "OPTIONS": m = 5
        default: m = 6
        }
        let t = Self.transports.firstIndex(of: transport) ?? 0
        requestsByMethodTransport[m * Self.transports.count + t].value.add(1, ordering: .relaxed)
    }

    /// Requests so far by (method, transport).
    public func requests(method: String, transport: SIPTransportProtocol) -> Int {
        guard let m = Self.methods.firstIndex(of: method), let t = Self.transports.firstIndex(of: transport) else { return 0 }
        return requestsByMethodTransport[m * Self.transports.count + t].value.load(ordering: .relaxed)
    }

    public var totalRequests: Int { requestsByMethodTransport.reduce(0) { $0 + $1.value.load(ordering: .relaxed) } }
}
