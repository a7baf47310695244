#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CPerfEvent

/// Where one copy of every event is opened: the `pid` and `cpu` arguments of
/// `perf_event_open`.
struct CounterSlot: Sendable, Equatable {
    /// A thread id, -1 (every task on `cpu`) or an open cgroup directory fd.
    var pid: Int32
    /// A CPU number, or -1 (any CPU; per-task events only).
    var cpu: Int32
    /// For messages: "cpu 1", "thread 1234".
    var label: String
}

/// How the events of one counter set are opened.
struct CounterOpenOptions: Sendable, Equatable {
    /// `pid` is a cgroup fd (`PERF_FLAG_PID_CGROUP`).
    var cgroup = false
    /// Per-task events that follow children created after the open.
    var inherit = false
    /// Read each group with one `read` (`PERF_FORMAT_GROUP`); false opens every
    /// event as its own leader (older kernels refuse `inherit` with group reads).
    var groupReads = true
    /// Most hardware events in one group (a group larger than the PMU's
    /// counters never runs).
    var maxHardwareGroup = 4

    var readFormat: UInt64 {
        UInt64(CPERFEVENT_FORMAT_TOTAL_TIME_ENABLED | CPERFEVENT_FORMAT_TOTAL_TIME_RUNNING | CPERFEVENT_FORMAT_ID)
            | (groupReads ? UInt64(CPERFEVENT_FORMAT_GROUP) : 0)
    }
    var openFlags: UInt { cgroup ? UInt(CPERFEVENT_FLAG_PID_CGROUP) : 0 }

    func attribute(for event: PerfEventSpec, leader: Bool, readFormat: UInt64? = nil) -> perf_event_attr {
        var attr = perf_event_attr()
        var bits: UInt32 = 0
        if leader { bits |= CPERFEVENT_ATTR_DISABLED }
        if inherit { bits |= CPERFEVENT_ATTR_INHERIT }
        CPerfEvent_attr_init(&attr, event.type, event.config, 0, 0, readFormat ?? self.readFormat, bits)
        return attr
    }
}

/// A `perf_event_open` that failed.
struct CounterOpenError: Error, Equatable {
    /// The errno.
    var code: Int32
    /// The event that failed.
    var event: PerfEventSpec
    /// Where.
    var slot: CounterSlot
    /// "leader", "member" or "probe".
    var role: String
}

/// Cumulative counts of one event on one slot, as last read.
struct CounterReading: Equatable, Sendable {
    var value: UInt64 = 0
    var enabled: UInt64 = 0
    var running: UInt64 = 0
    /// False when the slot is not open or its read failed.
    var valid = false
}

/// One event over one interval, summed over slots.
struct EventDelta: Equatable, Sendable {
    /// The count scaled for multiplexing; nil when the event was enabled but
    /// never scheduled on some slot (not counted — never reported as 0).
    var scaled: Double?
    /// Raw count (unscaled).
    var raw: UInt64
    /// Time enabled, ns (summed over slots).
    var enabled: UInt64
    /// Time running on a counter, ns (summed over slots).
    var running: UInt64
    /// False when a slot's reading was missing or went backwards, so the
    /// sums above are incomplete.
    var timesKnown: Bool
}

/// The arithmetic of multiplexed counting, kept free of system calls.
enum CounterMath {
    /// Interval delta of one event from per-slot cumulative readings: each
    /// slot's raw delta is scaled by its Δenabled / Δrunning and the slots are
    /// summed.  A slot enabled but never running makes the whole value
    /// unknown (nil); a slot never enabled (a cgroup that did not run there)
    /// contributes 0.  A slot whose reading is invalid on either side, or went
    /// backwards, makes the value unknown too.
    static func delta(previous: ArraySlice<CounterReading>, current: ArraySlice<CounterReading>) -> EventDelta {
        var result = EventDelta(scaled: 0, raw: 0, enabled: 0, running: 0, timesKnown: true)
        var known = true
        var sawSlot = false
        for (before, now) in zip(previous, current) {
            guard before.valid || now.valid else { continue }
            sawSlot = true
            guard before.valid, now.valid, now.value >= before.value, now.enabled >= before.enabled, now.running >= before.running else {
                known = false
                result.timesKnown = false
                continue
            }
            let value = now.value - before.value
            let enabled = now.enabled - before.enabled
            let running = now.running - before.running
            result.raw &+= value
            result.enabled &+= enabled
            result.running &+= running
            if running == 0 {
                if enabled > 0 { known = false }
                // else: not enabled at all in the interval: 0 events.
            } else if running >= enabled {
                result.scaled! += Double(value)
            } else {
                result.scaled! += Double(value) * Double(enabled) / Double(running)
            }
        }
        if !known || !sawSlot { result.scaled = nil }
        if !sawSlot { result.timesKnown = false }
        return result
    }
}

/// The open perf events of one target: groups of events, each opened on
/// every slot, read leader by leader.
///
/// A class (not a struct) because it owns file descriptors: `close()` (and
/// `deinit` as a safety net) closes each exactly once.
final class PerfCounterSet {
    /// The events, in reading order (index = event index of `readings`).
    let events: [PerfEventSpec]
    /// Where they are open.
    let slots: [CounterSlot]
    /// Options used.
    let options: CounterOpenOptions
    /// Slots skipped because the CPU went offline or the thread exited while opening.
    private(set) var skippedSlots: [String] = []
    private var groups: [CounterGroup] = []

    /// Opens `events` on every slot and enables them.
    ///
    /// Software events form one group, hardware events groups of at most
    /// `maxHardwareGroup`; a member the kernel will not add to a group is
    /// moved to a group of its own.  A slot whose CPU is offline (ENODEV) or
    /// whose thread is gone (ESRCH) is skipped; if no slot is left, ESRCH or
    /// ENODEV is thrown.
    init(events: [PerfEventSpec], slots: [CounterSlot], options: CounterOpenOptions) throws(CounterOpenError) {
        self.events = events
        self.slots = slots
        self.options = options
        var queue: [[Int]] = []
        if options.groupReads {
            let software = events.indices.filter { events[$0].family == .software }
            let hardware = events.indices.filter { events[$0].family == .hardware }
            if !software.isEmpty { queue.append(software) }
            var start = 0
            while start < hardware.count {
                let end = min(hardware.count, start + max(1, options.maxHardwareGroup))
                queue.append(Array(hardware[start..<end]))
                start = end
            }
        } else {
            queue = events.indices.map { [$0] }
        }
        var skipped = Set<Int>()
        while !queue.isEmpty {
            let members = queue.removeFirst()
            switch CounterGroup.open(members: members, events: events, slots: slots, options: options) {
            case .opened(let group, let skippedHere):
                groups.append(group)
                skipped.formUnion(skippedHere)
            case .memberRefused(let member):
                queue.insert(members.filter { $0 != member }, at: 0)
                queue.append([member])
            case .failed(let error):
                close()
                throw error
            }
        }
        skippedSlots = skipped.sorted().map { slots[$0].label }
        if skipped.count == slots.count, let first = events.first, let slot = slots.first {
            close()
            throw CounterOpenError(code: options.cgroup || slot.pid == -1 ? ENODEV : ESRCH, event: first, slot: slot, role: "leader")
        }
        for group in groups { group.resetAndEnable() }
    }

    deinit { close() }

    /// Number of open file descriptors.
    var openDescriptors: Int { groups.reduce(0) { $0 + $1.openCount } }

    /// Reads every event on every slot into `readings` (index
    /// `event * slots.count + slot`; resized as needed).
    func read(into readings: inout [CounterReading]) {
        let needed = events.count * slots.count
        if readings.count != needed { readings = Array(repeating: CounterReading(), count: needed) }
        for group in groups { group.read(into: &readings, slotCount: slots.count, groupReads: options.groupReads) }
    }

    /// Closes every descriptor (idempotent).
    func close() {
        for group in groups { group.close() }
        groups = []
    }

    /// Opens `event` alone on `slot` (disabled) and closes it again.
    /// - Returns: 0 when the kernel accepts the event there, else the errno.
    static func probe(_ event: PerfEventSpec, on slot: CounterSlot, options: CounterOpenOptions) -> Int32 {
        let format = UInt64(CPERFEVENT_FORMAT_TOTAL_TIME_ENABLED | CPERFEVENT_FORMAT_TOTAL_TIME_RUNNING | CPERFEVENT_FORMAT_ID)
        var attr = options.attribute(for: event, leader: true, readFormat: format)
        let fd = CPerfEvent_open(&attr, slot.pid, slot.cpu, -1, options.openFlags)
        guard fd >= 0 else { return errno }
        Glibc.close(fd)
        return 0
    }
}

/// One group: a leader and members, open on every slot.
final class CounterGroup {
    /// Event indices; the first is the leader.
    let members: [Int]
    /// `fds[slot * members.count + member]`, -1 where skipped.
    private var fds: [Int32]
    /// Kernel ids, same layout.
    private var ids: [UInt64]
    /// Read buffer: nr, enabled, running, {value, id} × members (group
    /// format), or value, enabled, running, id.
    private var buffer: [UInt64]

    enum OpenOutcome {
        case opened(CounterGroup, skippedSlots: Set<Int>)
        case memberRefused(Int)
        case failed(CounterOpenError)
    }

    private init(members: [Int], slotCount: Int) {
        self.members = members
        fds = Array(repeating: -1, count: slotCount * members.count)
        ids = Array(repeating: 0, count: slotCount * members.count)
        buffer = Array(repeating: 0, count: 3 + 2 * members.count + 1)
    }

    deinit { close() }

    var openCount: Int { fds.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    static func open(members: [Int], events: [PerfEventSpec], slots: [CounterSlot], options: CounterOpenOptions) -> OpenOutcome {
        let group = CounterGroup(members: members, slotCount: slots.count)
        var skipped = Set<Int>()
        slotLoop: for (slotIndex, slot) in slots.enumerated() {
            var leaderFD: Int32 = -1
            for (memberIndex, eventIndex) in members.enumerated() {
                let isLeader = memberIndex == 0
                var attr = options.attribute(for: events[eventIndex], leader: isLeader)
                let fd = CPerfEvent_open(&attr, slot.pid, slot.cpu, isLeader ? -1 : leaderFD, options.openFlags)
                if fd < 0 {
                    let code = errno
                    let error = CounterOpenError(code: code, event: events[eventIndex], slot: slot, role: isLeader ? "leader" : "member")
                    if code == ENODEV || code == ESRCH {
                        group.closeSlot(slotIndex)
                        skipped.insert(slotIndex)
                        continue slotLoop
                    }
                    if !isLeader, [EINVAL, ENOSPC, EOPNOTSUPP, ENOENT].contains(code) {
                        group.close()
                        return .memberRefused(eventIndex)
                    }
                    group.close()
                    return .failed(error)
                }
                if isLeader { leaderFD = fd }
                group.fds[slotIndex * members.count + memberIndex] = fd
                var id: UInt64 = 0
                if CPerfEvent_id(fd, &id) == 0 { group.ids[slotIndex * members.count + memberIndex] = id }
            }
        }
        return .opened(group, skippedSlots: skipped)
    }

    func resetAndEnable() {
        for slot in 0..<(fds.count / members.count) {
            let leader = fds[slot * members.count]
            guard leader >= 0 else { continue }
            _ = CPerfEvent_reset(leader, 1)
            _ = CPerfEvent_enable(leader, 1)
        }
    }

    func read(into readings: inout [CounterReading], slotCount: Int, groupReads: Bool) {
        let width = members.count
        for slot in 0..<slotCount {
            let leader = fds[slot * width]
            guard leader >= 0 else {
                for eventIndex in members { readings[eventIndex * slotCount + slot].valid = false }
                continue
            }
            let bytes = buffer.withUnsafeMutableBytes { raw -> Int in
                var count: Int
                repeat {
                    count = Glibc.read(leader, raw.baseAddress, raw.count)
                } while count < 0 && errno == EINTR
                return count
            }
            for eventIndex in members { readings[eventIndex * slotCount + slot].valid = false }
            if groupReads {
                guard bytes >= 24 else { continue }
                let count = min(Int(buffer[0]), width, (bytes / 8 - 3) / 2)
                let enabled = buffer[1]
                let running = buffer[2]
                for k in 0..<count {
                    let value = buffer[3 + 2 * k]
                    let id = buffer[4 + 2 * k]
                    var member = k
                    if ids[slot * width + k] != id, let found = (0..<width).first(where: { ids[slot * width + $0] == id }) { member = found }
                    readings[members[member] * slotCount + slot] = CounterReading(value: value, enabled: enabled, running: running, valid: true)
                }
            } else {
                guard bytes >= 24 else { continue }
                readings[members[0] * slotCount + slot] = CounterReading(value: buffer[0], enabled: buffer[1], running: buffer[2], valid: true)
            }
        }
    }

    private func closeSlot(_ slot: Int) {
        for member in 0..<members.count where fds[slot * members.count + member] >= 0 {
            Glibc.close(fds[slot * members.count + member])
            fds[slot * members.count + member] = -1
        }
    }

    func close() {
        for index in fds.indices where fds[index] >= 0 {
            Glibc.close(fds[index])
            fds[index] = -1
        }
    }
}
