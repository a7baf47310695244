/// Why InfluxDB cannot be written to (now or at all).
public struct InfluxWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the caller should do.
    public enum Kind: Sendable, Hashable {
        /// Transient (server down, throttled, timeout): try again later.
        case retry
        /// The configuration cannot work (unknown database or bucket, bad URL).
        case config
        /// Authentication or authorisation refused.
        case permission
        /// Anything else that will not get better by retrying.
        case fatal
    }

    /// The class of failure.
    public var kind: Kind
    /// A message naming the server and database or bucket (never a password or token).
    public var message: String
    /// The HTTP status, 0 when there was no response.
    public var httpStatus: Int
    /// How long the server asked to wait (`Retry-After`), 0 when it did not say.
    public var retryAfterNanoseconds: Int64

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, httpStatus: Int = 0, retryAfterNanoseconds: Int64 = 0) {
        self.kind = kind
        self.message = message
        self.httpStatus = httpStatus
        self.retryAfterNanoseconds = retryAfterNanoseconds
    }

    public var description: String { message }
}

/// What happened to a ``LineBatch`` written with ``InfluxWriter/write(_:)``.
public struct InfluxWriteReport: Sendable, Equatable {
    /// Lines `[0, processedCount)` were handled: written or rejected for good.
    /// The rest were not confirmed and must be sent again.
    public var processedCount: Int
    /// Lines refused for good, with InfluxDB's reason, ascending (all `< processedCount`).
    public var rejected: [RejectedLine]
    /// Why the lines from `processedCount` on were not handled; nil when all were.
    public var stop: InfluxWriteError?
    /// The last HTTP status seen (0 when no response came).
    public var httpStatus: Int
    /// HTTP requests made for this batch (more than one after a split or bisection).
    public var requests: Int

    /// A refused line.
    public struct RejectedLine: Sendable, Equatable {
        /// Index in the batch.
        public var index: Int
        /// InfluxDB's reason.
        public var reason: String
    }

    /// Creates a report.
    public init(processedCount: Int, rejected: [RejectedLine], stop: InfluxWriteError?, httpStatus: Int, requests: Int) {
        self.processedCount = processedCount
        self.rejected = rejected
        self.stop = stop
        self.httpStatus = httpStatus
        self.requests = requests
    }

    /// A one-line summary of the rejections (the first few distinct reasons).
    public var rejectionSummary: String? {
        guard !rejected.isEmpty else { return nil }
        var reasons: [String] = []
        for line in rejected where !reasons.contains(line.reason) {
            reasons.append(line.reason)
            if reasons.count == 3 { break }
        }
        return "InfluxDB rejected \(rejected.count) line(s): " + reasons.joined(separator: "; ")
    }
}
