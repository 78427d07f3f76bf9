import SIPMessage
import SIPTransport

/// The request policy of `trunkgate serve` until the real edge (`TrunkgateEdge`) replaces it:
/// it parses and answers, and does nothing else — no trunks, no authentication, no registrar,
/// no transactions.
///
/// - Bytes that do not parse → `400` with the parse error as reason phrase, when a response is
///   possible (see ``SIPBadRequest``). Responses are dropped: there are no client transactions.
/// - `ACK` → nothing (RFC 3261 §17.2.1).
/// - The message-level checks of ``SIPRequestValidator`` (505, 400, 416, 483, 420, …), with
///   `OPTIONS`, `ACK` and `CANCEL` as the only methods: any other → `501` with `Allow`.
/// - `OPTIONS` → `200 OK` with `Allow` and `Accept`; `CANCEL` → `481` (nothing to cancel).
struct MinimalEdge: SIPMessageHandler {
    static let validator = SIPRequestValidator(knownMethods: ["OPTIONS", "ACK", "CANCEL"])
    static let allow = validator.knownMethods.sorted().joined(separator: ", ")

    func handle(_ message: SIPMessage, context: SIPRequestContext) {
        guard let method = message.method, method != "ACK" else { return }
        if let rejection = Self.validator.check(message) {
            var response = message.makeResponse(status: rejection.status, reason: rejection.reason)
            if let header = rejection.header { try? response.append(header) }
            context.send(response)
            return
        }
        switch method {
        case "OPTIONS":
            var response = message.makeResponse(status: 200)
            try? response.append(SIPHeader(.allow, Self.allow))
            try? response.append(SIPHeader(.accept, "application/sdp"))
            context.send(response)
        default:  // CANCEL
            context.send(message.makeResponse(status: 481))
        }
    }

    func handleUnparseable(_ bytes: [UInt8], error: SIPParseError, context: SIPRequestContext) {
        if let response = SIPBadRequest.response(to: bytes, error: error) {
            context.send(bytes: response)
        }
    }
}
