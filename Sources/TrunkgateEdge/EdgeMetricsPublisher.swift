import CoreMetrics
import SIPTransport
import Synchronization
public import TrunkgateModel

/// Publishes the edge's counters through swift-metrics (the executable bootstraps the
/// Prometheus backend): request counts by method and transport, auth outcomes by result and
/// reason, lockouts, parse errors, absorbed retransmissions, overload refusals, dropped
/// events, live transactions and registrations. The SIP path only bumps atomics;
/// ``publish()`` (called once a second, off the SIP path) adds the deltas.
public final class EdgeMetricsPublisher: Sendable {
    private struct State {
        var lastRequests: [Int]
        var lastParseErrors = 0, lastRetransmissions = 0, lastLockouts = 0, lastDropped = 0, lastOverloaded = 0
        var authCounters: [AuthOutcome: Counter] = [:]
    }

    private let handler: EdgeRequestHandler
    private let requestCounters: [(method: String, transport: SIPTransportProtocol, counter: Counter)]
    private let parseErrors = Counter(label: "trunkgate_sip_parse_errors_total")
    private let retransmissions = Counter(label: "trunkgate_sip_retransmissions_absorbed_total")
    private let lockouts = Counter(label: "trunkgate_lockouts_total")
    private let dropped = Counter(label: "trunkgate_auth_events_dropped_total")
    private let overloaded = Counter(label: "trunkgate_sip_overload_refusals_total")
    private let transactions = Gauge(label: "trunkgate_sip_server_transactions")
    private let registrations = Gauge(label: "trunkgate_registrations")
    private let state: Mutex<State>

    public init(handler: EdgeRequestHandler) {
        self.handler = handler
        var counters: [(String, SIPTransportProtocol, Counter)] = []
        for method in EdgeCounters.methods {
            for transport in EdgeCounters.transports {
                counters.append((method, transport, Counter(label: "trunkgate_sip_requests_total",
                                                            dimensions: [("method", method), ("transport", transport.rawValue)])))
            }
        }
        requestCounters = counters.map { (method: $0.0, transport: $0.1, counter: $0.2) }
        state = Mutex(State(lastRequests: Array(repeating: 0, count: counters.count)))
    }

    /// Counts auth decisions (called with each batch on its way to the store).
    public func record(_ events: [AuthEvent]) {
        guard !events.isEmpty else { return }
        var tally: [AuthOutcome: Int] = [:]
        for e in events { tally[AuthOutcome(result: e.result, reason: e.reason), default: 0] += 1 }
        state.withLock { s in
            for (outcome, n) in tally {
                let counter = s.authCounters[outcome] ?? {
                    let c = Counter(label: "trunkgate_auth_outcomes_total",
                                    dimensions: [("result", outcome.result.rawValue), ("reason", outcome.reason)])
                    s.authCounters[outcome] = c
                    return c
                }()
                counter.increment(by: n)
            }
        }
    }

    /// Adds what the atomics gained since the last call.
    public func publish() {
        let c = handler.counters
        state.withLock { s in
            for (i, entry) in requestCounters.enumerated() {
                let now = c.requests(method: entry.method, transport: entry.transport)
                if now > s.lastRequests[i] { entry.counter.increment(by: now - s.lastRequests[i]) }
                s.lastRequests[i] = now
            }
            func delta(_ value: Int, _ last: inout Int, _ counter: Counter) {
                if value > last { counter.increment(by: value - last) }
                last = value
            }
            delta(c.parseErrors.load(ordering: .relaxed), &s.lastParseErrors, parseErrors)
            delta(c.retransmissionsAbsorbed.load(ordering: .relaxed), &s.lastRetransmissions, retransmissions)
            delta(c.lockouts.load(ordering: .relaxed), &s.lastLockouts, lockouts)
            delta(c.eventsDropped.load(ordering: .relaxed), &s.lastDropped, dropped)
            delta(c.overloaded.load(ordering: .relaxed), &s.lastOverloaded, overloaded)
        }
        transactions.record(handler.transactions.count)
        registrations.record(handler.registrar.count)
    }
}

/// The labels of one auth-outcome counter.
struct AuthOutcome: Hashable {
    var result: AuthEvent.Result
    var reason: String
}
