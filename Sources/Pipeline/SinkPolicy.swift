/// How the host buffers, batches and retries for one sink.
public struct SinkPolicy: Sendable, Equatable {
    /// What happens when a sink's buffer is full.
    public enum Overflow: String, Sendable, Equatable, CaseIterable {
        /// Append the excess to a spool file in the results directory and
        /// replay it when the sink recovers (nothing lost). The default.
        case spool
        /// Drop the oldest buffered samples, counted and reported.
        case dropOldest = "drop_oldest"
        /// Fail the run.
        case fail
    }

    /// Samples held in memory per sink.
    public var bufferLimit: Int
    /// Samples per write.
    public var batchSize: Int
    /// Longest a sample waits before a write is attempted.
    public var flushIntervalNs: Int64
    /// Overflow policy.
    public var overflow: Overflow
    /// Where spooled samples go (line protocol); required for `.spool`.
    public var spoolPath: String?
    /// Cap of the retry backoff.
    public var maximumBackoffNs: Int64
    /// How long `finish` keeps retrying before it spools what is left.
    public var finalFlushTimeoutNs: Int64

    /// Defaults: 10,000 samples buffered, batches of 5,000 or every second,
    /// spool on overflow, backoff capped at 30 s, 10 s final flush.
    public init(
        bufferLimit: Int = 10_000,
        batchSize: Int = 5_000,
        flushIntervalNs: Int64 = 1_000_000_000,
        overflow: Overflow = .spool,
        spoolPath: String? = nil,
        maximumBackoffNs: Int64 = 30_000_000_000,
        finalFlushTimeoutNs: Int64 = 10_000_000_000
    ) {
        self.bufferLimit = bufferLimit
        self.batchSize = batchSize
        self.flushIntervalNs = flushIntervalNs
        self.overflow = overflow
        self.spoolPath = spoolPath
        self.maximumBackoffNs = maximumBackoffNs
        self.finalFlushTimeoutNs = finalFlushTimeoutNs
    }
}

/// What became of one sink's samples, for the end-of-run summary.
public struct SinkSummary: Sendable, Equatable, CustomStringConvertible {
    /// The sink's name (plugin id or instance name).
    public var sink: String
    /// Samples offered to this sink.
    public var received = 0
    /// Stored by the sink.
    public var written = 0
    /// Refused for good by the sink.
    public var rejected = 0
    /// The first few reasons for rejections.
    public var rejectReasons: [String] = []
    /// Samples that went to the spool file (ever).
    public var spooled = 0
    /// Spooled samples written to the sink later.
    public var replayed = 0
    /// Dropped by the drop_oldest policy.
    public var dropped = 0
    /// Not stored at the end: still in memory (lost with the process) or in the spool file.
    public var pendingInMemory = 0
    public var pendingInSpool = 0
    /// Write attempts that asked to be retried.
    public var retries = 0
    /// Set when the sink failed for good (bad credentials, unknown database...).
    public var failure: String?

    public var description: String {
        var text = "\(sink): \(written) written, \(rejected) rejected, \(spooled) spooled (\(replayed) replayed), \(dropped) dropped, \(pendingInMemory + pendingInSpool) pending"
        if pendingInSpool > 0 { text += " (\(pendingInSpool) in the spool file: load it with 'rdt4nn upload')" }
        if !rejectReasons.isEmpty { text += "; first rejections: " + rejectReasons.joined(separator: "; ") }
        if let failure { text += "; sink failed: \(failure)" }
        return text
    }
}
