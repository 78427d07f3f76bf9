public import Foundation
public import Logging
public import Prometheus
public import TrunkgateModel

/// Everything the API needs besides the store.
public struct APIOptions: Sendable {
    /// Trunks created without `domain_name` get `<trunk_sid lower-cased>.<edgeDomain>`.
    public var edgeDomain: String
    /// Seals destination URIs' outbound passwords (the server key under `--data`).
    public var sealer: SecretSealer
    /// Per-account limits (SPEC §1 defaults).
    public var limits: AccountLimits
    /// Requests per minute per API key (token bucket: bursts up to this many, refilled evenly).
    public var rateLimitPerMinute: Int
    /// Largest accepted request body in bytes (413 above).
    public var maxBodyBytes: Int
    /// Page size when `page_size` is not given; `page_size` may be 1…`maxPageSize`.
    public var defaultPageSize: Int
    public var maxPageSize: Int
    /// `GET /metrics` renders this registry; API request counters and durations are added to
    /// it. Nil: `/metrics` answers with an empty exposition.
    public var prometheus: PrometheusCollectorRegistry?
    /// Readiness of everything besides the store (e.g. "the SIP listeners are bound"),
    /// checked by `GET /readyz`.
    public var readiness: @Sendable () async -> Bool
    public var logger: Logger
    /// The clock for lockout expiry (tests may move it).
    public var now: @Sendable () -> Date

    public init(
        edgeDomain: String,
        sealer: SecretSealer,
        limits: AccountLimits = .default,
        rateLimitPerMinute: Int = 200,
        maxBodyBytes: Int = 64 * 1024,
        defaultPageSize: Int = 50,
        maxPageSize: Int = 1000,
        prometheus: PrometheusCollectorRegistry? = nil,
        readiness: @escaping @Sendable () async -> Bool = { true },
        logger: Logger = Logger(label: "trunkgate.api"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.edgeDomain = edgeDomain
        self.sealer = sealer
        self.limits = limits
        self.rateLimitPerMinute = rateLimitPerMinute
        self.maxBodyBytes = maxBodyBytes
        self.defaultPageSize = defaultPageSize
        self.maxPageSize = min(maxPageSize, 1000)
        self.prometheus = prometheus
        self.readiness = readiness
        self.logger = logger
        self.now = now
    }
}
