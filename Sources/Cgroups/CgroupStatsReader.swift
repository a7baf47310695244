#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Reads CPU, memory, pids and block I/O statistics of one cgroup, cheaply
/// and repeatedly.
///
/// `init` opens every file it will need once (a file the kernel does not
/// provide is remembered as absent); each ``read()`` re-reads them from
/// offset 0 into one shared buffer and parses the bytes in place — no
/// allocation per read.  For each resource it uses the v1 hierarchy when one
/// carries the controller, else the unified v2 directory.
///
/// Not thread-safe: one owner calls it at a time.  Call ``close()`` (or let
/// it deinitialise) to release the descriptors.
public final class CgroupStatsReader {
    /// Where the files are.
    public let location: CgroupLocation
    /// USER_HZ, for v1 `cpuacct.stat`.
    public let clockTicksPerSecond: UInt64

    private enum Version { case v1, v2, none }
    private let cpuVersion: Version
    private let memoryVersion: Version
    private let pidsVersion: Version
    private let ioVersion: Version

    // v1 files.
    private var cpuacctUsage: KernelFile?
    private var cpuacctStat: KernelFile?
    private var cpuStatV1: KernelFile?
    private var memoryUsage: KernelFile?
    private var memoryLimit: KernelFile?
    private var memoryStatV1: KernelFile?
    private var memswUsage: KernelFile?
    private var blkioBytes: KernelFile?
    private var blkioOps: KernelFile?
    // v2 files.
    private var cpuStatV2: KernelFile?
    private var memoryCurrent: KernelFile?
    private var memoryMax: KernelFile?
    private var memoryStatV2: KernelFile?
    private var swapCurrent: KernelFile?
    private var ioStat: KernelFile?
    // Both.
    private var pidsCurrent: KernelFile?
    private var pidsMax: KernelFile?

    private let buffer = KernelReadBuffer()
    private var tokens = [Range<Int>](repeating: 0..<0, count: 8)
    private var isClosed = false

    /// Opens the statistics files of `location`.
    /// - Parameter clockTicksPerSecond: USER_HZ; nil reads `sysconf(_SC_CLK_TCK)`.
    /// - Throws: ``CgroupError/gone(path:)`` when a directory vanished,
    ///   other ``CgroupError``s when a file exists but cannot be opened.
    public init(location: CgroupLocation, clockTicksPerSecond: UInt64? = nil) throws(CgroupError) {
        self.location = location
        self.clockTicksPerSecond = max(1, clockTicksPerSecond ?? UInt64(max(1, sysconf(Int32(_SC_CLK_TCK)))))
        let unified = location.unifiedDirectory
        func pick(_ controller: String) -> (Version, String?) {
            if let directory = location.v1Directory(controller) { return (.v1, directory) }
            if let unified { return (.v2, unified) }
            return (.none, nil)
        }
        var opened: [KernelFile] = []
        func open(_ directory: String?, _ names: String...) throws(CgroupError) -> KernelFile? {
            guard let directory else { return nil }
            for name in names {
                if let file = try KernelFile.openIfPresent(directory + "/" + name) {
                    opened.append(file)
                    return file
                }
            }
            return nil
        }
        do {
            let (cpu, cpuDirectory) = pick("cpuacct")
            cpuVersion = cpu
            if cpu == .v1 {
                cpuacctUsage = try open(cpuDirectory, "cpuacct.usage")
                cpuacctStat = try open(cpuDirectory, "cpuacct.stat")
                cpuStatV1 = try open(location.v1Directory("cpu"), "cpu.stat")
            } else {
                cpuStatV2 = try open(cpuDirectory, "cpu.stat")
            }
            let (memory, memoryDirectory) = pick("memory")
            memoryVersion = memory
            if memory == .v1 {
                memoryUsage = try open(memoryDirectory, "memory.usage_in_bytes")
                memoryLimit = try open(memoryDirectory, "memory.limit_in_bytes")
                memoryStatV1 = try open(memoryDirectory, "memory.stat")
                memswUsage = try open(memoryDirectory, "memory.memsw.usage_in_bytes")
            } else {
                memoryCurrent = try open(memoryDirectory, "memory.current")
                memoryMax = try open(memoryDirectory, "memory.max")
                memoryStatV2 = try open(memoryDirectory, "memory.stat")
                swapCurrent = try open(memoryDirectory, "memory.swap.current")
            }
            let (pids, pidsDirectory) = pick("pids")
            pidsVersion = pids
            pidsCurrent = try open(pidsDirectory, "pids.current")
            pidsMax = try open(pidsDirectory, "pids.max")
            let (io, ioDirectory) = pick("blkio")
            ioVersion = io
            if io == .v1 {
                blkioBytes = try open(ioDirectory, "blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes")
                blkioOps = try open(ioDirectory, "blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced")
            } else {
                ioStat = try open(ioDirectory, "io.stat")
            }
        } catch {
            for file in opened { file.close() }
            isClosed = true
            throw error
        }
    }

    deinit { close() }

    /// Closes every descriptor; later reads return absent values.  Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        let files = [
            cpuacctUsage, cpuacctStat, cpuStatV1, memoryUsage, memoryLimit, memoryStatV1, memswUsage, blkioBytes, blkioOps,
            cpuStatV2, memoryCurrent, memoryMax, memoryStatV2, swapCurrent, ioStat, pidsCurrent, pidsMax,
        ]
        for case let file? in files { file.close() }
        (cpuacctUsage, cpuacctStat, cpuStatV1, memoryUsage, memoryLimit, memoryStatV1, memswUsage, blkioBytes, blkioOps) =
            (nil, nil, nil, nil, nil, nil, nil, nil, nil)
        (cpuStatV2, memoryCurrent, memoryMax, memoryStatV2, swapCurrent, ioStat, pidsCurrent, pidsMax) = (nil, nil, nil, nil, nil, nil, nil, nil)
    }

    /// Reads everything.
    /// - Parameter pidsLimit: also read `pids.max` (one more file; a caller
    ///   that does not report the limit passes false).
    /// - Throws: ``CgroupError/gone(path:)`` once the cgroup was removed.
    public func read(pidsLimit: Bool = true) throws(CgroupError) -> CgroupStats {
        CgroupStats(cpu: try readCPU(), memory: try readMemory(), pids: try readPids(limit: pidsLimit), blockIO: try readBlockIO())
    }

    // MARK: CPU

    /// Reads CPU time and throttling.
    public func readCPU() throws(CgroupError) -> CPUStats {
        var stats = CPUStats()
        switch cpuVersion {
        case .v1:
            if let file = cpuacctUsage {
                let usage = try stamped { () throws(CgroupError) in try readUnsigned(file) }
                (stats.usageNanoseconds, stats.usageMonotonicNanoseconds) = (usage.value, usage.monotonicNanoseconds)
            }
            if let file = cpuacctStat {
                let hz = clockTicksPerSecond
                try buffer.read(file) { bytes throws(CgroupError) in
                    try ByteParsing.forEachLine(bytes) { line throws(CgroupError) in
                        let (key, value) = ByteParsing.keyAndValue(line)
                        if ByteParsing.equals(key, "user") {
                            stats.userNanoseconds = ticksToNanoseconds(try Self.number(value, file), clockTicksPerSecond: hz)
                        } else if ByteParsing.equals(key, "system") {
                            stats.systemNanoseconds = ticksToNanoseconds(try Self.number(value, file), clockTicksPerSecond: hz)
                        }
                    }
                }
            }
            if let file = cpuStatV1 {
                try buffer.read(file) { bytes throws(CgroupError) in
                    try ByteParsing.forEachLine(bytes) { line throws(CgroupError) in
                        let (key, value) = ByteParsing.keyAndValue(line)
                        if ByteParsing.equals(key, "nr_periods") {
                            stats.periods = try Self.number(value, file)
                        } else if ByteParsing.equals(key, "nr_throttled") {
                            stats.throttledPeriods = try Self.number(value, file)
                        } else if ByteParsing.equals(key, "throttled_time") {
                            stats.throttledNanoseconds = try Self.number(value, file)
                        }
                    }
                }
            }
        case .v2:
            if let file = cpuStatV2 {
                let stamp = try stamped { () throws(CgroupError) in
                    try buffer.read(file) { bytes throws(CgroupError) in
                        try ByteParsing.forEachLine(bytes) { line throws(CgroupError) in
                            let (key, value) = ByteParsing.keyAndValue(line)
                            if ByteParsing.equals(key, "usage_usec") {
                                stats.usageNanoseconds = try Self.number(value, file) &* 1000
                            } else if ByteParsing.equals(key, "user_usec") {
                                stats.userNanoseconds = try Self.number(value, file) &* 1000
                            } else if ByteParsing.equals(key, "system_usec") {
                                stats.systemNanoseconds = try Self.number(value, file) &* 1000
                            } else if ByteParsing.equals(key, "nr_periods") {
                                stats.periods = try Self.number(value, file)
                            } else if ByteParsing.equals(key, "nr_throttled") {
                                stats.throttledPeriods = try Self.number(value, file)
                            } else if ByteParsing.equals(key, "throttled_usec") {
                                stats.throttledNanoseconds = try Self.number(value, file) &* 1000
                            }
                        }
                    }
                }
                stats.usageMonotonicNanoseconds = stats.usageNanoseconds == nil ? nil : stamp.monotonicNanoseconds
            }
        case .none:
            break
        }
        return stats
    }

    // MARK: Memory

    /// Reads the memory usage alone (v1 `memory.usage_in_bytes`; v2
    /// `memory.current`): one small file instead of the three or four
    /// ``readMemory()`` reads.
    public func readMemoryUsage() throws(CgroupError) -> UInt64? {
        switch memoryVersion {
        case .v1: try readUnsigned(memoryUsage)
        case .v2: try readUnsigned(memoryCurrent)
        case .none: nil
        }
    }

    /// Reads memory usage, limit and breakdown.
    public func readMemory() throws(CgroupError) -> MemoryStats {
        var stats = MemoryStats()
        switch memoryVersion {
        case .v1:
            stats.usageBytes = try readUnsigned(memoryUsage)
            stats.limit = try readLimit(memoryLimit)
            if let file = memoryStatV1 {
                // Prefer the hierarchical total_* keys (usage_in_bytes includes children too).
                var cache: UInt64?, totalCache: UInt64?, rss: UInt64?, totalRSS: UInt64?
                var inactive: UInt64?, totalInactive: UInt64?, swap: UInt64?, totalSwap: UInt64?
                try buffer.read(file) { bytes throws(CgroupError) in
                    try ByteParsing.forEachLine(bytes) { line throws(CgroupError) in
                        let (key, value) = ByteParsing.keyAndValue(line)
                        if key.first == UInt8(ascii: "t") {
                            if ByteParsing.equals(key, "total_cache") {
                                totalCache = try Self.number(value, file)
                            } else if ByteParsing.equals(key, "total_rss") {
                                totalRSS = try Self.number(value, file)
                            } else if ByteParsing.equals(key, "total_inactive_file") {
                                totalInactive = try Self.number(value, file)
                            } else if ByteParsing.equals(key, "total_swap") {
                                totalSwap = try Self.number(value, file)
                            }
                        } else if ByteParsing.equals(key, "cache") {
                            cache = try Self.number(value, file)
                        } else if ByteParsing.equals(key, "rss") {
                            rss = try Self.number(value, file)
                        } else if ByteParsing.equals(key, "inactive_file") {
                            inactive = try Self.number(value, file)
                        } else if ByteParsing.equals(key, "swap") {
                            swap = try Self.number(value, file)
                        }
                    }
                }
                stats.cacheBytes = totalCache ?? cache
                stats.rssBytes = totalRSS ?? rss
                stats.inactiveFileBytes = totalInactive ?? inactive
                stats.swapBytes = totalSwap ?? swap
            }
            if stats.swapBytes == nil, let memsw = try readUnsigned(memswUsage), let usage = stats.usageBytes {
                stats.swapBytes = memsw > usage ? memsw - usage : 0
            }
        case .v2:
            stats.usageBytes = try readUnsigned(memoryCurrent)
            stats.limit = try readLimit(memoryMax)
            stats.swapBytes = try readUnsigned(swapCurrent)
            if let file = memoryStatV2 {
                try buffer.read(file) { bytes throws(CgroupError) in
                    try ByteParsing.forEachLine(bytes) { line throws(CgroupError) in
                        let (key, value) = ByteParsing.keyAndValue(line)
                        if ByteParsing.equals(key, "file") {
                            stats.cacheBytes = try Self.number(value, file)
                        } else if ByteParsing.equals(key, "anon") {
                            stats.rssBytes = try Self.number(value, file)
                        } else if ByteParsing.equals(key, "inactive_file") {
                            stats.inactiveFileBytes = try Self.number(value, file)
                        }
                    }
                }
            }
        case .none:
            break
        }
        return stats
    }

    // MARK: Pids

    /// Reads the task count and, unless `limit` is false, the limit.
    public func readPids(limit: Bool = true) throws(CgroupError) -> PidsStats {
        PidsStats(current: try readUnsigned(pidsCurrent), limit: limit ? try readLimit(pidsMax) : nil)
    }

    // MARK: Block I/O

    /// Reads block I/O bytes and operations, summed over devices.
    public func readBlockIO() throws(CgroupError) -> BlockIOStats {
        var stats = BlockIOStats()
        switch ioVersion {
        case .v1:
            if let file = blkioBytes { (stats.readBytes, stats.writeBytes) = try readBlkioV1(file) }
            if let file = blkioOps { (stats.readOps, stats.writeOps) = try readBlkioV1(file) }
        case .v2:
            guard let file = ioStat else { break }
            var sums: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            try buffer.read(file) { bytes throws(CgroupError) in
                try ByteParsing.forEachLine(bytes) { line throws(CgroupError) in
                    // "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N"
                    let count = ByteParsing.tokens(line, into: &tokens)
                    guard count >= 2 else { return }
                    for index in 1..<count {
                        let token = bytes[tokens[index]]
                        guard let equals = token.firstIndex(of: UInt8(ascii: "=")) else { continue }
                        let key = bytes[token.startIndex..<equals]
                        let value = bytes[(equals + 1)..<token.endIndex]
                        if ByteParsing.equals(key, "rbytes") {
                            sums.0 &+= try Self.number(value, file)
                        } else if ByteParsing.equals(key, "wbytes") {
                            sums.1 &+= try Self.number(value, file)
                        } else if ByteParsing.equals(key, "rios") {
                            sums.2 &+= try Self.number(value, file)
                        } else if ByteParsing.equals(key, "wios") {
                            sums.3 &+= try Self.number(value, file)
                        }
                    }
                }
            }
            stats = BlockIOStats(readBytes: sums.0, writeBytes: sums.1, readOps: sums.2, writeOps: sums.3)
        case .none:
            break
        }
        return stats
    }

    /// Sums the `Read` and `Write` lines of a v1 blkio file
    /// (`MAJ:MIN Read N` … `Total N`).
    private func readBlkioV1(_ file: KernelFile) throws(CgroupError) -> (UInt64, UInt64) {
        var read: UInt64 = 0
        var write: UInt64 = 0
        try buffer.read(file) { bytes throws(CgroupError) in
            try ByteParsing.forEachLine(bytes) { line throws(CgroupError) in
                // Device lines have three tokens; the closing "Total N" has two.
                guard ByteParsing.tokens(line, into: &tokens) == 3 else { return }
                let op = bytes[tokens[1]]
                if ByteParsing.equals(op, "Read") {
                    read &+= try Self.number(bytes[tokens[2]], file)
                } else if ByteParsing.equals(op, "Write") {
                    write &+= try Self.number(bytes[tokens[2]], file)
                }
            }
        }
        return (read, write)
    }

    // MARK: Helpers

    /// A bracket wider than this means the reading thread was preempted (or
    /// the read stalled) between the clock and the file; the read is repeated.
    private static let stampTolerance: Int64 = 200_000

    /// Runs `read` between two CLOCK_MONOTONIC readings and returns its value
    /// with their midpoint.  When the readings are more than
    /// ``stampTolerance`` apart the read is repeated, at most twice more, and
    /// the value with the narrowest bracket is kept (the counter only grows,
    /// so a repeated read is as valid as the first).
    private func stamped<R>(_ read: () throws(CgroupError) -> R) throws(CgroupError) -> (value: R, monotonicNanoseconds: Int64) {
        func attempt() throws(CgroupError) -> (value: R, monotonicNanoseconds: Int64, width: Int64) {
            let before = Self.monotonicNanoseconds()
            let value = try read()
            let width = Self.monotonicNanoseconds() - before
            return (value, before + width / 2, width)
        }
        var best = try attempt()
        for _ in 0..<2 where best.width > Self.stampTolerance {
            let next = try attempt()
            if next.width < best.width { best = next }
        }
        return (best.value, best.monotonicNanoseconds)
    }

    private static func monotonicNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    private func readUnsigned(_ file: KernelFile?) throws(CgroupError) -> UInt64? {
        guard let file else { return nil }
        return try buffer.read(file) { bytes throws(CgroupError) in try Self.number(ByteParsing.trimmed(bytes), file) }
    }

    /// "max" (v2) or a number; v1 memory limits at or near 2^63 (and -1) mean none.
    private func readLimit(_ file: KernelFile?) throws(CgroupError) -> CgroupLimit? {
        guard let file else { return nil }
        return try buffer.read(file) { bytes throws(CgroupError) in
            let token = ByteParsing.trimmed(bytes)
            if ByteParsing.equals(token, "max") || ByteParsing.equals(token, "-1") { return .unlimited }
            let value = try Self.number(token, file)
            // v1 reports "no limit" as LONG_MAX rounded down to the page size.
            return value >= Self.v1UnlimitedThreshold ? .unlimited : .limited(value)
        }
    }

    /// LONG_MAX rounded down to 64 KiB pages: every v1 "unlimited" is at or above it.
    static let v1UnlimitedThreshold: UInt64 = UInt64(Int64.max) & ~0xFFFF

    @inline(__always)
    static func number(_ token: KernelBytes.SubSequence, _ file: KernelFile) throws(CgroupError) -> UInt64 {
        guard let value = ByteParsing.unsigned(token) else {
            throw .malformed(path: file.path, detail: "expected a non-negative integer, read '\(ByteParsing.text(token))'")
        }
        return value
    }
}
