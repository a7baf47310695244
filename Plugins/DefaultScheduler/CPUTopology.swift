import PluginABI
import PluginKit

/// One logical CPU as sysfs describes it.
struct LogicalCPU: Equatable {
    var id: Int
    var socket: Int
    var core: Int
}

/// The online CPUs of the machine, from `/sys/devices/system/cpu`.
struct CPUTopology: Equatable {
    var cpus: [LogicalCPU]

    /// Reads `online` and each CPU's `topology/{physical_package_id,core_id}`.
    init(sysfsRoot: String) throws(PluginError) {
        let base = "\(sysfsRoot)/devices/system/cpu"
        guard let onlineText = ProcFiles.read("\(base)/online") else {
            throw .unsupported("cannot read \(base)/online: \(ProcFiles.lastErrorDescription())")
        }
        let online: CPUList
        do {
            online = try CPUList(parsing: onlineText)
        } catch {
            throw .fatal("\(base)/online: \(error)")
        }
        var cpus: [LogicalCPU] = []
        for id in online.cpus {
            func number(_ file: String) -> Int? {
                ProcFiles.read("\(base)/cpu\(id)/topology/\(file)").flatMap { Int($0.filter { !$0.isWhitespace }) }
            }
            // Without topology files (some containers, old kernels) every CPU is its own core.
            cpus.append(LogicalCPU(id: id, socket: number("physical_package_id") ?? 0, core: number("core_id") ?? id))
        }
        guard !cpus.isEmpty else { throw .unsupported("\(base)/online lists no CPUs") }
        self.cpus = cpus
    }

    init(cpus: [LogicalCPU]) { self.cpus = cpus }

    /// Physical cores as (socket, core) → their logical CPUs.
    var cores: [[LogicalCPU]] {
        var byCore: [String: [LogicalCPU]] = [:]
        for cpu in cpus { byCore["\(cpu.socket)/\(cpu.core)", default: []].append(cpu) }
        return byCore.values
            .map { $0.sorted { $0.id < $1.id } }
            .sorted { ($0[0].socket, $0[0].id) < ($1[0].socket, $1[0].id) }
    }
}

/// Chooses CPUs for containers that did not pin themselves: whole idle
/// physical cores first (one hyperthread per core), then remaining sibling
/// threads, lowest socket and CPU number first.  Never hands out a CPU that
/// is already in use unless sharing is allowed.
struct CPUAllocator {
    let topology: CPUTopology
    let pool: Set<Int>
    private(set) var owners: [Int: Set<String>] = [:]

    init(topology: CPUTopology, pool: Set<Int>? = nil) {
        self.topology = topology
        self.pool = pool ?? Set(topology.cpus.map(\.id))
    }

    /// CPUs in use by anyone.
    var busy: Set<Int> { Set(owners.filter { !$0.value.isEmpty }.keys) }

    /// Picks `count` free CPUs, or nil when not enough are free.
    func choose(count: Int) -> [Int]? {
        let busy = self.busy
        let cores = topology.cores.map { $0.filter { pool.contains($0.id) } }.filter { !$0.isEmpty }
        // Pass 1: one thread of each core with no busy thread at all.
        var chosen: [Int] = []
        for core in cores where chosen.count < count && core.allSatisfy({ !busy.contains($0.id) }) {
            chosen.append(core[0].id)
        }
        // Pass 2: any remaining free thread.
        if chosen.count < count {
            for core in cores {
                for cpu in core where chosen.count < count && !busy.contains(cpu.id) && !chosen.contains(cpu.id) {
                    chosen.append(cpu.id)
                }
            }
        }
        return chosen.count == count ? chosen.sorted() : nil
    }

    /// Marks `cpus` as used by `owner`.
    mutating func claim(_ cpus: [Int], for owner: String) {
        for cpu in cpus { owners[cpu, default: []].insert(owner) }
    }

    /// Frees everything `owner` held.
    mutating func release(_ owner: String) {
        for cpu in owners.keys { owners[cpu]?.remove(owner) }
    }

    /// Owners other than `owner` that hold any of `cpus`.
    func conflicts(_ cpus: [Int], excluding owner: String) -> [String] {
        Set(cpus.flatMap { owners[$0] ?? [] }).subtracting([owner]).sorted()
    }
}
