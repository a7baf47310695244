#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// One read of a monitoring file (`mon_data/mon_L3_XX/<event>`).
public enum MonitorValue: Sendable, Equatable {
    /// Bytes: occupancy (a gauge) or cumulative bandwidth bytes.
    case bytes(UInt64)
    /// `Unavailable`: nothing readable (right after mkdir, after a BMEC
    /// change, AMD counter reassignment).  Absent for this interval.
    case unavailable
    /// `Error`: bad RMID or event.  Absent for this interval.
    case error
    /// `Unassigned`: no hardware counter (ABMC).  Absent for this interval.
    case unassigned
    /// Any other text (a future kernel word); absent, kept for the log.
    case unrecognized(String)

    /// The byte count, nil for every other case.
    public var bytes: UInt64? {
        if case .bytes(let value) = self { return value }
        return nil
    }

    /// Parses the file's bytes (`12345\n`, `Unavailable\n`, ...).
    public init(parsing bytes: UnsafeBufferPointer<UInt8>) {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x20 { end -= 1 }
        var value: UInt64 = 0
        var isNumber = end > 0
        for index in 0..<end {
            let digit = bytes[index] &- 0x30
            guard digit < 10 else {
                isNumber = false
                break
            }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 {
                isNumber = false
                break
            }
            value = sum
        }
        if isNumber {
            self = .bytes(value)
            return
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
        switch text {
        case "Unavailable": self = .unavailable
        case "Error": self = .error
        case "Unassigned": self = .unassigned
        default: self = .unrecognized(text)
        }
    }

    /// Parses text (tests, slow paths).
    public init(parsing text: String) {
        var text = text
        self = text.withUTF8 { MonitorValue(parsing: $0) }
    }
}

/// The monitoring values of one L3 domain at one moment.
public struct DomainReading: Sendable, Equatable {
    /// The L3 cache id (`mon_L3_XX`), or the NUMA node for an SNC sub-domain
    /// (`mon_sub_L3_YY`).
    public var domain: Int
    /// `llc_occupancy`, nil when the event is not monitored.
    public var occupancy: MonitorValue?
    /// `mbm_total_bytes`, nil when the event is not monitored.
    public var totalBytes: MonitorValue?
    /// `mbm_local_bytes`, nil when the event is not monitored.
    public var localBytes: MonitorValue?
    /// CLOCK_MONOTONIC ns right after this domain's files were read.
    public var monotonicNs: Int64
    /// SNC sub-domains (`mon_sub_L3_YY`), empty without SNC.  The domain's own
    /// values already sum them: never add both levels.
    public var subdomains: [DomainReading]

    /// Creates a reading.
    public init(domain: Int, occupancy: MonitorValue?, totalBytes: MonitorValue?, localBytes: MonitorValue?, monotonicNs: Int64, subdomains: [DomainReading] = []) {
        self.domain = domain
        self.occupancy = occupancy
        self.totalBytes = totalBytes
        self.localBytes = localBytes
        self.monotonicNs = monotonicNs
        self.subdomains = subdomains
    }

    /// The value of `event`.
    public func value(_ event: MonitorEvent) -> MonitorValue? {
        switch event {
        case .llcOccupancy: occupancy
        case .mbmTotalBytes: totalBytes
        case .mbmLocalBytes: localBytes
        }
    }
}

/// Reads a group's monitoring files for every L3 domain, keeping the files
/// open (each read is a `pread` from offset 0, which regenerates the value on
/// kernfs and rereads it on a fake tree).
///
/// Owned by one caller at a time (not thread-safe); ``close()`` releases the
/// descriptors.
public final class MonitorReader {
    /// The group read.
    public let group: ResctrlGroup
    /// The events read (those `info/L3_MON/mon_features` lists).
    public let events: [MonitorEvent]
    /// The L3 domains found in `mon_data/`, sorted.
    public var domains: [Int] { slots.map(\.domain) }
    /// True when the tree has SNC sub-domains.
    public var hasSubdomains: Bool { slots.contains { !$0.subslots.isEmpty } }

    private struct Slot {
        var domain: Int
        /// One descriptor per event, -1 when the event file is absent.
        var descriptors: [Int32]
        var subslots: [Slot]
    }

    private var slots: [Slot] = []
    private let directory: String
    private var buffer = [UInt8](repeating: 0, count: 64)

    /// Lists `mon_data/` of `group` and opens every event file.
    /// - Throws: ``ResctrlError/gone(path:)`` when `mon_data/` is missing
    ///   (group removed, or a fake group the test's "kernel" has not populated),
    ///   ``ResctrlError/unsupported(_:)`` when it has no `mon_L3_XX` domain.
    public init(filesystem: ResctrlFilesystem, group: ResctrlGroup, events: [MonitorEvent]) throws(ResctrlError) {
        self.group = group
        self.events = events.sorted()
        directory = filesystem.directory(of: group) + "/mon_data"
        do {
            slots = try Self.openDomains(in: directory, prefix: "mon_L3_", events: self.events, nested: true)
        } catch {
            close()
            throw error
        }
        guard !slots.isEmpty else {
            throw .unsupported("\(directory) has no mon_L3_XX domain; this system does not monitor L3")
        }
    }

    deinit { close() }

    private static func openDomains(in directory: String, prefix: String, events: [MonitorEvent], nested: Bool) throws(ResctrlError) -> [Slot] {
        let entries: [(name: String, isDirectory: Bool)]
        switch SystemFiles.list(directory) {
        case .success(let list): entries = list
        case .failure(let error): throw ResctrlFilesystem.readError(error.code, path: directory)
        }
        var slots: [Slot] = []
        for entry in entries where entry.isDirectory && entry.name.hasPrefix(prefix) {
            guard let domain = Int(entry.name.dropFirst(prefix.count)) else { continue }
            let path = directory + "/" + entry.name
            var slot = Slot(domain: domain, descriptors: [], subslots: [])
            for event in events {
                let fd = open(path + "/" + event.rawValue, O_RDONLY | O_CLOEXEC)
                if fd < 0 && errno != ENOENT {
                    let code = errno
                    for open in slots { closeSlot(open) }
                    closeSlot(slot)
                    throw ResctrlFilesystem.readError(code, path: path + "/" + event.rawValue)
                }
                slot.descriptors.append(fd)
            }
            if nested {
                slot.subslots = try openDomains(in: path, prefix: "mon_sub_L3_", events: events, nested: false)
            }
            slots.append(slot)
        }
        return slots.sorted { $0.domain < $1.domain }
    }

    private static func closeSlot(_ slot: Slot) {
        for fd in slot.descriptors where fd >= 0 { _ = Glibc.close(fd) }
        for sub in slot.subslots { closeSlot(sub) }
    }

    /// Closes every descriptor (idempotent).
    public func close() {
        for slot in slots { Self.closeSlot(slot) }
        slots = []
    }

    /// Reads every domain (and SNC sub-domain) once.
    /// - Throws: ``ResctrlError/gone(path:)`` when the group was removed.
    public func read() throws(ResctrlError) -> [DomainReading] {
        var readings: [DomainReading] = []
        readings.reserveCapacity(slots.count)
        for slot in slots {
            readings.append(try read(slot))
        }
        return readings
    }

    private func read(_ slot: Slot) throws(ResctrlError) -> DomainReading {
        var values: [MonitorValue?] = [nil, nil, nil]
        for (index, event) in events.enumerated() {
            let fd = slot.descriptors[index]
            guard fd >= 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            guard count >= 0 else {
                let code = errno
                throw ResctrlFilesystem.readError(code, path: "\(directory)/mon_L3_\(slot.domain)/\(event.rawValue)")
            }
            let value = buffer.withUnsafeBufferPointer { MonitorValue(parsing: UnsafeBufferPointer(rebasing: $0[0..<count])) }
            switch event {
            case .llcOccupancy: values[0] = value
            case .mbmTotalBytes: values[1] = value
            case .mbmLocalBytes: values[2] = value
            }
        }
        let stamp = SystemFiles.monotonicNanoseconds()
        var subdomains: [DomainReading] = []
        for sub in slot.subslots { subdomains.append(try read(sub)) }
        return DomainReading(domain: slot.domain, occupancy: values[0], totalBytes: values[1], localBytes: values[2], monotonicNs: stamp, subdomains: subdomains)
    }
}

/// Bandwidth of one domain over one interval.
public struct DomainBandwidth: Sendable, Equatable {
    /// The L3 domain.
    public var domain: Int
    /// Occupancy bytes now (nil when unavailable or not monitored).
    public var occupancyBytes: UInt64?
    /// `mbm_total_bytes` delta per second, nil when unknown this interval.
    public var totalBytesPerSecond: Double?
    /// `mbm_local_bytes` delta per second, nil when unknown this interval.
    public var localBytesPerSecond: Double?
    /// Seconds between this domain's two reads (nil on the first read).
    public var seconds: Double?
}

/// One interval's result of ``BandwidthTracker/update(_:)``.
public struct BandwidthInterval: Sendable, Equatable {
    /// Per domain, sorted by domain.
    public var domains: [DomainBandwidth]
    /// Sum of occupancy over domains; nil unless every domain gave a value.
    public var occupancyBytes: UInt64?
    /// Sum of total bandwidth; nil unless every domain gave a rate (a partial
    /// sum would understate the container's bandwidth).
    public var totalBytesPerSecond: Double?
    /// Sum of local bandwidth; nil unless every domain gave a rate.
    public var localBytesPerSecond: Double?
    /// Counters that went down this interval (a reset: group recreated, BMEC
    /// change, RMID reuse), per domain and event; their interval is dropped.
    public var resets: [(domain: Int, event: MonitorEvent)]

    /// Compares everything but the tuple list by value.
    public static func == (lhs: BandwidthInterval, rhs: BandwidthInterval) -> Bool {
        lhs.domains == rhs.domains && lhs.occupancyBytes == rhs.occupancyBytes && lhs.totalBytesPerSecond == rhs.totalBytesPerSecond
            && lhs.localBytesPerSecond == rhs.localBytesPerSecond
            && lhs.resets.map { "\($0.domain):\($0.event.rawValue)" } == rhs.resets.map { "\($0.domain):\($0.event.rawValue)" }
    }
}

/// Turns successive cumulative MBM readings into bytes per second per domain,
/// over the real time between the two reads of each domain.
///
/// A counter lower than before is a reset, never a wrap (the kernel widens
/// the hardware counter to 64 bits): that domain's interval is dropped.  A
/// value that is not a number drops the interval and the next one (no base
/// to subtract from).
public struct BandwidthTracker: Sendable {
    private var previous: [Int: (total: UInt64?, local: UInt64?, ns: Int64)] = [:]

    /// Creates a tracker with no history.
    public init() {}

    /// Forgets the history (after the group was recreated).
    public mutating func reset() { previous = [:] }

    /// Feeds one read of every domain; returns the interval since the last one.
    public mutating func update(_ readings: [DomainReading]) -> BandwidthInterval {
        var domains: [DomainBandwidth] = []
        var resets: [(domain: Int, event: MonitorEvent)] = []
        var occupancySum: UInt64? = readings.isEmpty ? nil : 0
        var totalSum: Double? = readings.isEmpty ? nil : 0
        var localSum: Double? = readings.isEmpty ? nil : 0
        var next: [Int: (total: UInt64?, local: UInt64?, ns: Int64)] = [:]
        for reading in readings {
            let before = previous[reading.domain]
            let seconds = before.map { Double(reading.monotonicNs - $0.ns) / 1e9 }
            func rate(_ now: UInt64?, _ then: UInt64?, _ event: MonitorEvent) -> Double? {
                guard let now, let then, let seconds, seconds > 0 else { return nil }
                guard now >= then else {
                    resets.append((reading.domain, event))
                    return nil
                }
                return Double(now - then) / seconds
            }
            let total = reading.totalBytes?.bytes
            let local = reading.localBytes?.bytes
            let bandwidth = DomainBandwidth(
                domain: reading.domain,
                occupancyBytes: reading.occupancy?.bytes,
                totalBytesPerSecond: rate(total, before?.total, .mbmTotalBytes),
                localBytesPerSecond: rate(local, before?.local, .mbmLocalBytes),
                seconds: seconds
            )
            next[reading.domain] = (total, local, reading.monotonicNs)
            occupancySum = bandwidth.occupancyBytes.flatMap { value in occupancySum.map { $0 + value } }
            totalSum = bandwidth.totalBytesPerSecond.flatMap { value in totalSum.map { $0 + value } }
            localSum = bandwidth.localBytesPerSecond.flatMap { value in localSum.map { $0 + value } }
            domains.append(bandwidth)
        }
        previous = next
        return BandwidthInterval(
            domains: domains,
            occupancyBytes: occupancySum,
            totalBytesPerSecond: totalSum,
            localBytesPerSecond: localSum,
            resets: resets
        )
    }
}
