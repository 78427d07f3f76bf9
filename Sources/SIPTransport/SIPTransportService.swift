public import Logging
public import NIOCore
public import NIOPosix
public import ServiceLifecycle

/// The SIP listeners as a ServiceLifecycle `Service`: `run()` binds them, logs one line naming
/// every listening address, serves until graceful shutdown (SIGTERM in a `ServiceGroup`) or
/// cancellation, then stops listening and closes open connections before returning.
public struct SIPTransportService: Service, CustomStringConvertible {
    public let configuration: SIPTransportConfiguration
    public let handler: any SIPMessageHandler
    public let group: any EventLoopGroup
    public let logger: Logger
    /// Called once the listeners are bound, with what they are bound to.
    public let onListening: (@Sendable ([SIPBoundListener]) -> Void)?
    /// Receives the UDP listener sockets, for requests the edge sends itself.
    public let outbound: SIPOutboundSockets?
    /// Runs at graceful shutdown while the listeners are still open (the B2BUA ends its calls).
    public let beforeClose: (@Sendable () async -> Void)?

    public init(
        configuration: SIPTransportConfiguration,
        handler: any SIPMessageHandler,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        onListening: (@Sendable ([SIPBoundListener]) -> Void)? = nil,
        outbound: SIPOutboundSockets? = nil,
        beforeClose: (@Sendable () async -> Void)? = nil
    ) {
        self.outbound = outbound
        self.beforeClose = beforeClose
        self.configuration = configuration
        self.handler = handler
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    public var description: String {
        "SIPTransportService(\(configuration.addresses.map(\.description).joined(separator: ", ")))"
    }

    public func run() async throws {
        let listeners = try await SIPListeners.bind(
            configuration: configuration, handler: handler, group: group, logger: logger, outbound: outbound)
        logger.info("SIP listening on \(listeners.listeners.map(\.description).joined(separator: ", "))")
        onListening?(listeners.listeners)
        do {
            try await gracefulShutdown()
            await beforeClose?()
            logger.info("SIP shutting down: closing listeners and \(listeners.openConnections) connection(s)")
        } catch {
            // Cancelled: stop all the same.
        }
        await listeners.close()
        logger.info("SIP stopped")
    }
}
