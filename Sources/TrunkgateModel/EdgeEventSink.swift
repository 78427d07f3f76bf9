/// Receives the edge's events after they are stored, off the SIP path; the webhook dispatcher
/// implements it. Both methods must return at once: they only enqueue.
public protocol EdgeEventSink: Sendable {
    func deliver(authEvents: [AuthEvent], callRecords: [CallRecord])
    /// An account's settings changed (e.g. its webhook): forget what was cached about it.
    func accountChanged(_ accountSid: String)
}
