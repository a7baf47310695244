/// A limit that may be absent ("max" in v2, ≈2^63 in v1).
public enum CgroupLimit: Sendable, Equatable {
    /// A finite limit.
    case limited(UInt64)
    /// No limit is set.
    case unlimited

    /// The finite value, nil when unlimited.
    public var value: UInt64? {
        if case .limited(let value) = self { return value }
        return nil
    }
}

/// CPU time of a cgroup, cumulative since it was created.  `nil` means the
/// kernel does not provide the value here (never a stand-in zero).
public struct CPUStats: Sendable, Equatable {
    /// Total CPU time, ns (v1 `cpuacct.usage`; v2 `cpu.stat usage_usec` × 1000).
    public var usageNanoseconds: UInt64?
    /// When ``usageNanoseconds`` was read: CLOCK_MONOTONIC ns, the midpoint of
    /// two clock readings taken right around the `read(2)` of its file.  A
    /// rate computed against this time is not skewed by the other files read
    /// in the same collection or by a preemption of the reading thread.
    public var usageMonotonicNanoseconds: Int64?
    /// User-mode CPU time, ns (v1 `cpuacct.stat user` in USER_HZ; v2 `user_usec` × 1000).
    public var userNanoseconds: UInt64?
    /// Kernel-mode CPU time, ns (v1 `cpuacct.stat system`; v2 `system_usec` × 1000).
    public var systemNanoseconds: UInt64?
    /// CFS enforcement periods that elapsed (`nr_periods`).
    public var periods: UInt64?
    /// Periods in which the cgroup was throttled (`nr_throttled`).
    public var throttledPeriods: UInt64?
    /// Time spent throttled, ns (v1 `throttled_time`; v2 `throttled_usec` × 1000).
    public var throttledNanoseconds: UInt64?

    /// Creates a value; every field defaults to absent.
    public init(
        usageNanoseconds: UInt64? = nil, usageMonotonicNanoseconds: Int64? = nil, userNanoseconds: UInt64? = nil,
        systemNanoseconds: UInt64? = nil, periods: UInt64? = nil, throttledPeriods: UInt64? = nil, throttledNanoseconds: UInt64? = nil
    ) {
        self.usageNanoseconds = usageNanoseconds
        self.usageMonotonicNanoseconds = usageMonotonicNanoseconds
        self.userNanoseconds = userNanoseconds
        self.systemNanoseconds = systemNanoseconds
        self.periods = periods
        self.throttledPeriods = throttledPeriods
        self.throttledNanoseconds = throttledNanoseconds
    }
}

/// Memory of a cgroup, bytes.  `nil` means not provided here.
public struct MemoryStats: Sendable, Equatable {
    /// Charged memory (v1 `memory.usage_in_bytes`; v2 `memory.current`).
    public var usageBytes: UInt64?
    /// The limit (v1 `memory.limit_in_bytes`; v2 `memory.max`).
    public var limit: CgroupLimit?
    /// Page cache (v1 `total_cache`, else `cache`; v2 `file`).
    public var cacheBytes: UInt64?
    /// Anonymous memory (v1 `total_rss`, else `rss`; v2 `anon`).
    public var rssBytes: UInt64?
    /// Swap in use (v1 `total_swap`/`swap`, else `memsw.usage − usage`; v2 `memory.swap.current`).
    public var swapBytes: UInt64?
    /// Inactive page cache (v1 `total_inactive_file`, else `inactive_file`; v2 `inactive_file`).
    public var inactiveFileBytes: UInt64?

    /// Creates a value; every field defaults to absent.
    public init(
        usageBytes: UInt64? = nil, limit: CgroupLimit? = nil, cacheBytes: UInt64? = nil, rssBytes: UInt64? = nil,
        swapBytes: UInt64? = nil, inactiveFileBytes: UInt64? = nil
    ) {
        self.usageBytes = usageBytes
        self.limit = limit
        self.cacheBytes = cacheBytes
        self.rssBytes = rssBytes
        self.swapBytes = swapBytes
        self.inactiveFileBytes = inactiveFileBytes
    }

    /// Usage minus inactive page cache, as the docker CLI computes "MEM USAGE":
    /// `usage − inactive_file` when inactive_file is known and below usage, else usage.
    public var workingSetBytes: UInt64? {
        guard let usage = usageBytes else { return nil }
        if let inactive = inactiveFileBytes, inactive < usage { return usage - inactive }
        return usage
    }
}

/// Process count of a cgroup.
public struct PidsStats: Sendable, Equatable {
    /// Tasks (threads included) in the cgroup (`pids.current`).
    public var current: UInt64?
    /// The limit (`pids.max`).
    public var limit: CgroupLimit?

    /// Creates a value.
    public init(current: UInt64? = nil, limit: CgroupLimit? = nil) {
        self.current = current
        self.limit = limit
    }
}

/// Block I/O of a cgroup, summed over devices, cumulative.
public struct BlockIOStats: Sendable, Equatable {
    /// Bytes read (v1 `Read` lines of `blkio.throttle.io_service_bytes[_recursive]`; v2 `rbytes`).
    public var readBytes: UInt64?
    /// Bytes written (v1 `Write`; v2 `wbytes`).
    public var writeBytes: UInt64?
    /// Read operations (v1 `Read` of `blkio.throttle.io_serviced[_recursive]`; v2 `rios`).
    public var readOps: UInt64?
    /// Write operations (v1 `Write`; v2 `wios`).
    public var writeOps: UInt64?

    /// Creates a value.
    public init(readBytes: UInt64? = nil, writeBytes: UInt64? = nil, readOps: UInt64? = nil, writeOps: UInt64? = nil) {
        self.readBytes = readBytes
        self.writeBytes = writeBytes
        self.readOps = readOps
        self.writeOps = writeOps
    }
}

/// Everything ``CgroupStatsReader/read()`` returns.
public struct CgroupStats: Sendable, Equatable {
    /// CPU time and throttling.
    public var cpu: CPUStats
    /// Memory.
    public var memory: MemoryStats
    /// Tasks.
    public var pids: PidsStats
    /// Block I/O.
    public var blockIO: BlockIOStats

    /// Creates a value.
    public init(cpu: CPUStats = CPUStats(), memory: MemoryStats = MemoryStats(), pids: PidsStats = PidsStats(), blockIO: BlockIOStats = BlockIOStats()) {
        self.cpu = cpu
        self.memory = memory
        self.pids = pids
        self.blockIO = blockIO
    }
}

/// Converts USER_HZ ticks to ns without overflow.
@inline(__always)
func ticksToNanoseconds(_ ticks: UInt64, clockTicksPerSecond: UInt64) -> UInt64 {
    let perSecond: UInt64 = 1_000_000_000
    return (ticks / clockTicksPerSecond) * perSecond + (ticks % clockTicksPerSecond) * perSecond / clockTicksPerSecond
}
