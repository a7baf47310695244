#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization

/// Network counters of a network namespace, summed over its interfaces.
public struct NetworkStats: Sendable, Equatable {
    /// Bytes received.
    public var rxBytes: UInt64
    /// Packets received.
    public var rxPackets: UInt64
    /// Bytes sent.
    public var txBytes: UInt64
    /// Packets sent.
    public var txPackets: UInt64
    /// How many interfaces were summed.
    public var interfaces: Int

    /// Creates a value.
    public init(rxBytes: UInt64 = 0, rxPackets: UInt64 = 0, txBytes: UInt64 = 0, txPackets: UInt64 = 0, interfaces: Int = 0) {
        self.rxBytes = rxBytes
        self.rxPackets = rxPackets
        self.txBytes = txBytes
        self.txPackets = txPackets
        self.interfaces = interfaces
    }
}

/// Reads `<procRoot>/<pid>/net/dev`: the counters of the network namespace
/// the process lives in.
///
/// Docker reports the interfaces of the container's endpoints (`eth0`, …)
/// and never the loopback, so `lo` is excluded by default.  With
/// `--network none` only `lo` exists and the sums are a true zero.
public final class NetworkDeviceReader {
    /// The file read.
    public let path: String
    /// Interface names left out of the sums.
    public let excluded: Set<String>
    private var file: KernelFile?
    private let buffer = KernelReadBuffer(capacity: 4096)
    private var excludedBytes: [[UInt8]]

    /// Opens `<procRoot>/<pid>/net/dev`.
    /// - Throws: ``CgroupError/gone(path:)`` when the process does not exist.
    public init(procRoot: String = "/proc", pid: Int32, excluding excluded: Set<String> = ["lo"]) throws(CgroupError) {
        path = "\(procRoot)/\(pid)/net/dev"
        self.excluded = excluded
        excludedBytes = excluded.map { Array($0.utf8) }
        // net/dev is one record per interface: a short read is the end only while under half a page (KernelReadBuffer).
        guard let file = try KernelFile.openIfPresent(path, singleRecord: false) else { throw .gone(path: path) }
        self.file = file
    }

    deinit { close() }

    /// Closes the descriptor.  Idempotent.
    public func close() {
        file?.close()
        file = nil
    }

    /// Reads and sums the counters.
    public func read() throws(CgroupError) -> NetworkStats {
        guard let file else { throw .gone(path: path) }
        var stats = NetworkStats()
        var lineNumber = 0
        try buffer.read(file) { bytes throws(CgroupError) in
            try ByteParsing.forEachLine(bytes) { line throws(CgroupError) in
                lineNumber += 1
                guard lineNumber > 2 else { return }  // two header lines
                // "  eth0: rx_bytes rx_packets errs drop fifo frame compressed multicast tx_bytes tx_packets …";
                // wide numbers may touch the colon ("eth0:123").
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                    throw .malformed(path: file.path, detail: "line '\(ByteParsing.text(line))' has no ':'")
                }
                let name = ByteParsing.trimmed(UnsafeBufferPointer(rebasing: bytes[line.startIndex..<colon]))
                if excludedBytes.contains(where: { $0.elementsEqual(name) }) { return }
                var column = 0
                var i = colon + 1
                let end = line.endIndex
                var values: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
                while i < end && column < 10 {
                    while i < end && bytes[i] == ByteParsing.space { i += 1 }
                    let start = i
                    while i < end && bytes[i] != ByteParsing.space { i += 1 }
                    guard start < i else { break }
                    let token = bytes[start..<i]
                    switch column {
                    case 0: values.0 = try CgroupStatsReader.number(token, file)
                    case 1: values.1 = try CgroupStatsReader.number(token, file)
                    case 8: values.2 = try CgroupStatsReader.number(token, file)
                    case 9: values.3 = try CgroupStatsReader.number(token, file)
                    default: break
                    }
                    column += 1
                }
                guard column == 10 else {
                    throw .malformed(path: file.path, detail: "interface line '\(ByteParsing.text(line))' has fewer than 10 counters")
                }
                stats.rxBytes &+= values.0
                stats.rxPackets &+= values.1
                stats.txBytes &+= values.2
                stats.txPackets &+= values.3
                stats.interfaces += 1
            }
        }
        return stats
    }

    /// True when `pid` shares the network namespace of `otherPid` (pid 1 by
    /// default: the host's, for a host-network container), nil when either
    /// link cannot be read.
    public static func sharesNetworkNamespace(procRoot: String = "/proc", pid: Int32, with otherPid: Int32 = 1) -> Bool? {
        guard let mine = KernelText.readLink("\(procRoot)/\(pid)/ns/net"),
            let other = KernelText.readLink("\(procRoot)/\(otherPid)/ns/net")
        else { return nil }
        return mine == other
    }
}

/// Host-wide CPU time as Docker's daemon computes `system_cpu_usage`.
public struct HostCPUTime: Sendable, Equatable {
    /// The first seven columns of the `cpu` line of `/proc/stat` (user nice
    /// system idle iowait irq softirq) converted from USER_HZ to ns.
    public var totalNanoseconds: UInt64
    /// The number of `cpuN` lines (online CPUs).
    public var onlineCPUs: Int

    /// Creates a value.
    public init(totalNanoseconds: UInt64, onlineCPUs: Int) {
        self.totalNanoseconds = totalNanoseconds
        self.onlineCPUs = onlineCPUs
    }
}

/// Reads `<procRoot>/stat` repeatedly (kept open) for ``HostCPUTime``.
public final class HostStatReader {
    /// The file read.
    public let path: String
    /// USER_HZ.
    public let clockTicksPerSecond: UInt64
    private var file: KernelFile?
    private let buffer = KernelReadBuffer(capacity: 16 * 1024)
    private var tokens = [Range<Int>](repeating: 0..<0, count: 9)

    /// Opens `<procRoot>/stat`.
    /// - Parameter clockTicksPerSecond: USER_HZ; nil reads `sysconf(_SC_CLK_TCK)`.
    public init(procRoot: String = "/proc", clockTicksPerSecond: UInt64? = nil) throws(CgroupError) {
        path = procRoot + "/stat"
        self.clockTicksPerSecond = max(1, clockTicksPerSecond ?? UInt64(max(1, sysconf(Int32(_SC_CLK_TCK)))))
        guard let file = try KernelFile.openIfPresent(path) else { throw .gone(path: path) }
        self.file = file
    }

    deinit { close() }

    /// Closes the descriptor.  Idempotent.
    public func close() {
        file?.close()
        file = nil
    }

    /// Reads the aggregate CPU time and counts online CPUs.
    public func read() throws(CgroupError) -> HostCPUTime {
        guard let file else { throw .gone(path: path) }
        var total: UInt64?
        var online = 0
        let hz = clockTicksPerSecond
        try buffer.read(file) { bytes throws(CgroupError) in
            try ByteParsing.forEachLine(bytes) { line throws(CgroupError) in
                guard line.count > 3, bytes[line.startIndex] == UInt8(ascii: "c"), bytes[line.startIndex + 1] == UInt8(ascii: "p"),
                    bytes[line.startIndex + 2] == UInt8(ascii: "u")
                else { return }
                let next = bytes[line.startIndex + 3]
                if next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9") {
                    online += 1
                    return
                }
                guard next == ByteParsing.space, total == nil else { return }
                guard ByteParsing.tokens(line, into: &tokens) >= 8 else {
                    throw .malformed(path: file.path, detail: "the 'cpu' line has fewer than 7 counters")
                }
                var ticks: UInt64 = 0
                for index in 1...7 { ticks &+= try CgroupStatsReader.number(bytes[tokens[index]], file) }
                total = ticksToNanoseconds(ticks, clockTicksPerSecond: hz)
            }
        }
        guard let total else { throw .malformed(path: file.path, detail: "no aggregate 'cpu' line") }
        return HostCPUTime(totalNanoseconds: total, onlineCPUs: online)
    }

    /// `MemTotal` of `<procRoot>/meminfo` in bytes.
    public static func memoryTotalBytes(procRoot: String = "/proc") throws(CgroupError) -> UInt64 {
        let path = procRoot + "/meminfo"
        for line in try KernelText.read(path).split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let value = UInt64(parts[1]) else { break }
            return parts.count >= 3 && parts[2] == "kB" ? value * 1024 : value
        }
        throw .malformed(path: path, detail: "no 'MemTotal: N kB' line")
    }
}

/// `/proc/stat` read once per tick for all the containers sampled in it.
///
/// `/proc/stat` is host-wide and one of the dearest files to read (the
/// kernel formats every CPU's times and sums every interrupt counter on each
/// read), yet Docker's CPU % needs its aggregate line for every container.
/// Collector instances sampled in the same tick share one reading: the first
/// to ask for a tick reads the file, the others get the same value.  One
/// object serves a whole plugin library; it is safe to call from any thread.
public final class SharedHostStat: Sendable {
    private struct Cached {
        var reader: HostStatReader
        var tickNs: Int64
        var value: HostCPUTime?
    }

    private let cache = Mutex<[String: Cached]>([:])

    /// Creates an empty cache.
    public init() {}

    /// The reading of `<procRoot>/stat` for the tick at `tickNs` (the
    /// tick's deadline on the monotonic clock, equal for every instance of
    /// the tick); nil `tickNs` always reads afresh.
    public func read(procRoot: String, tickNs: Int64?) throws(CgroupError) -> HostCPUTime {
        try cache.withLock { (cache) throws(CgroupError) -> HostCPUTime in
            if let tickNs, let cached = cache[procRoot], cached.tickNs == tickNs, let value = cached.value { return value }
            let reader: HostStatReader
            if let existing = cache[procRoot]?.reader { reader = existing } else { reader = try HostStatReader(procRoot: procRoot) }
            do throws(CgroupError) {
                let value = try reader.read()
                cache[procRoot] = Cached(reader: reader, tickNs: tickNs ?? .min, value: value)
                return value
            } catch {
                reader.close()
                cache[procRoot] = nil
                throw error
            }
        }
    }
}
