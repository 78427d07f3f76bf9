public import Foundation

/// A call detail record (SPEC §3 "Call records and events"): one per call, written when it ends.
/// Never carries a secret: the caller is named by auth type, digest user and source address.
public struct CallRecord: Sendable, Hashable, Codable {
    public enum Direction: String, Sendable, Hashable, Codable, CaseIterable {
        case inbound, outbound
    }

    public var sid: String
    public var accountSid: String
    public var trunkSid: String?
    public var direction: Direction
    public var from: String
    public var to: String
    public var startTime: Date
    public var answerTime: Date?
    public var endTime: Date
    /// Seconds from answer to end (0 when never answered).
    public var duration: Int
    /// e.g. `normal_clearing`, `busy`, `originator_cancel`, `no_answer`, `sip_auth_failed`.
    public var hangupCause: String
    /// The SIP status that ended the call, or one of the auth causes 4210/4240/4250.
    public var hangupCauseCode: Int?
    public var authType: String?
    public var authUser: String?
    public var sourceIP: String?

    public init(sid: String = SID.make(.call), accountSid: String, trunkSid: String?, direction: Direction, from: String, to: String,
                startTime: Date, answerTime: Date?, endTime: Date, hangupCause: String, hangupCauseCode: Int?,
                authType: String?, authUser: String?, sourceIP: String?) {
        self.sid = sid
        self.accountSid = accountSid
        self.trunkSid = trunkSid
        self.direction = direction
        self.from = from
        self.to = to
        self.startTime = startTime
        self.answerTime = answerTime
        self.endTime = endTime
        self.duration = answerTime.map { max(0, Int(endTime.timeIntervalSince($0).rounded())) } ?? 0
        self.hangupCause = hangupCause
        self.hangupCauseCode = hangupCauseCode
        self.authType = authType
        self.authUser = authUser
        self.sourceIP = sourceIP
    }

    enum CodingKeys: String, CodingKey {
        case sid
        case accountSid = "account_sid"
        case trunkSid = "trunk_sid"
        case direction, from, to
        case startTime = "start_time"
        case answerTime = "answer_time"
        case endTime = "end_time"
        case duration
        case hangupCause = "hangup_cause"
        case hangupCauseCode = "hangup_cause_code"
        case authType = "auth_type"
        case authUser = "auth_user"
        case sourceIP = "source_ip"
    }
}

/// Filters for `GET …/calls`.
public struct CallRecordQuery: Sendable, Hashable {
    public var accountSid: String
    public var trunkSid: String?
    public var direction: CallRecord.Direction?
    public var since: Date?
    public var until: Date?

    public init(accountSid: String, trunkSid: String? = nil, direction: CallRecord.Direction? = nil, since: Date? = nil, until: Date? = nil) {
        self.accountSid = accountSid
        self.trunkSid = trunkSid
        self.direction = direction
        self.since = since
        self.until = until
    }
}
