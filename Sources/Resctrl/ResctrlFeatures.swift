/// What the resctrl tree offers, read from `info/`.
public struct ResctrlFeatures: Sendable, Equatable {
    /// Cache allocation resources, keyed by schemata name (`L3`, `L3CODE`,
    /// `L3DATA`, `L2`, `L2CODE`, `L2DATA`), sorted by name.
    public var caches: [CacheAllocation]
    /// Memory bandwidth allocation (`info/MB`), if present.
    public var memoryBandwidth: MemoryBandwidthAllocation?
    /// L3 monitoring (`info/L3_MON`), if present.
    public var monitoring: L3Monitoring?

    /// Creates features.
    public init(caches: [CacheAllocation], memoryBandwidth: MemoryBandwidthAllocation?, monitoring: L3Monitoring?) {
        self.caches = caches
        self.memoryBandwidth = memoryBandwidth
        self.monitoring = monitoring
    }

    /// The cache resource with schemata name `name`.
    public func cache(_ name: String) -> CacheAllocation? {
        caches.first { $0.resource == name }
    }

    /// The number of CTRL_MON groups (root included) the system allows: the
    /// minimum `num_closids` over all allocation resources, MB included; nil
    /// on monitoring-only systems.
    public var closidLimit: Int? {
        let limits = caches.map(\.numCLOSIDs) + (memoryBandwidth.map { [$0.numCLOSIDs] } ?? [])
        return limits.min()
    }

    /// True when allocation (CAT or MBA) is available, so CTRL_MON groups can
    /// be created at the top level.
    public var hasAllocation: Bool { !caches.isEmpty || memoryBandwidth != nil }
}

/// One cache allocation resource (`info/L3/`, `info/L3CODE/`, ...).
public struct CacheAllocation: Sendable, Equatable {
    /// Schemata name (`L3`, `L3DATA`, ...).
    public var resource: String
    /// `cbm_mask`: the 100 % mask.
    public var cbmMask: UInt64
    /// `min_cbm_bits`.
    public var minCBMBits: Int
    /// `num_closids`.
    public var numCLOSIDs: Int
    /// `shareable_bits`.
    public var shareableBits: UInt64
    /// Whether non-contiguous masks are allowed: `sparse_masks` when the
    /// kernel has the file; otherwise inferred from `min_cbm_bits` (0 only on
    /// AMD, which allows sparse masks; Intel does not).
    public var sparseMasks: Bool

    /// Creates a resource description.
    public init(resource: String, cbmMask: UInt64, minCBMBits: Int, numCLOSIDs: Int, shareableBits: UInt64, sparseMasks: Bool) {
        self.resource = resource
        self.cbmMask = cbmMask
        self.minCBMBits = minCBMBits
        self.numCLOSIDs = numCLOSIDs
        self.shareableBits = shareableBits
        self.sparseMasks = sparseMasks
    }

    /// Bits in the mask (`cbm_len`).
    public var cbmLength: Int { 64 - cbmMask.leadingZeroBitCount }
}

/// Memory bandwidth allocation (`info/MB/`).
public struct MemoryBandwidthAllocation: Sendable, Equatable {
    /// `min_bandwidth`.
    public var minBandwidth: Int
    /// `bandwidth_gran`.
    public var granularity: Int
    /// `delay_linear`.
    public var delayLinear: Bool
    /// `num_closids`.
    public var numCLOSIDs: Int
    /// `thread_throttle_mode` (Intel), nil when absent.
    public var throttleMode: String?
    /// The largest value the kernel accepts: 100 (percent, Intel), 2048
    /// (1/8 GB/s, AMD), or `UInt32.max` with the `mba_MBps` mount option.
    public var maxBandwidth: UInt64
    /// True with the `mba_MBps` mount option (values in MiB/s, no range check).
    public var isMBps: Bool

    /// Creates a description.
    public init(minBandwidth: Int, granularity: Int, delayLinear: Bool, numCLOSIDs: Int, throttleMode: String?, maxBandwidth: UInt64, isMBps: Bool) {
        self.minBandwidth = minBandwidth
        self.granularity = granularity
        self.delayLinear = delayLinear
        self.numCLOSIDs = numCLOSIDs
        self.throttleMode = throttleMode
        self.maxBandwidth = maxBandwidth
        self.isMBps = isMBps
    }

    /// AMD's MB is absolute (1/8 GB/s, max 2048); Intel's is a percentage.
    /// Told apart by the info files: AMD has `min_bandwidth` 0 and no
    /// `thread_throttle_mode`.
    static func inferredMax(minBandwidth: Int, throttleMode: String?, isMBps: Bool) -> UInt64 {
        if isMBps { return UInt64(UInt32.max) }
        return minBandwidth == 0 && throttleMode == nil ? 2048 : 100
    }
}

/// L3 monitoring (`info/L3_MON/`).
public struct L3Monitoring: Sendable, Equatable {
    /// `num_rmids`.
    public var numRMIDs: Int
    /// `mon_features`: event file names (`llc_occupancy`, `mbm_total_bytes`,
    /// `mbm_local_bytes`; `*_config` lines are left out).
    public var events: [String]
    /// `max_threshold_occupancy` in bytes, nil when absent.
    public var maxThresholdOccupancy: UInt64?

    /// Creates a description.
    public init(numRMIDs: Int, events: [String], maxThresholdOccupancy: UInt64?) {
        self.numRMIDs = numRMIDs
        self.events = events
        self.maxThresholdOccupancy = maxThresholdOccupancy
    }

    /// True when `event` is listed in `mon_features`.
    public func supports(_ event: MonitorEvent) -> Bool { events.contains(event.rawValue) }
}

/// A monitoring event file in `mon_data/mon_L3_XX/`.
public enum MonitorEvent: String, Sendable, CaseIterable, Comparable {
    /// Cache occupancy, bytes (a gauge).
    case llcOccupancy = "llc_occupancy"
    /// Total memory bandwidth, cumulative bytes.
    case mbmTotalBytes = "mbm_total_bytes"
    /// Local-node memory bandwidth, cumulative bytes.
    case mbmLocalBytes = "mbm_local_bytes"

    /// Orders by declaration.
    public static func < (lhs: MonitorEvent, rhs: MonitorEvent) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
