import PluginABI
import PluginKit
import RDT4NNPluginSDK

/// The `default` scheduler: CPU pinning without RDT control.
///
/// A container with a configured cpuset runs exactly there (checked against
/// the online CPUs).  A container without one gets `cpus_requested` CPUs
/// chosen by ``CPUAllocator``: idle physical cores first, one hyperthread per
/// core, lowest socket first.  When no CPU is free the container is refused
/// with RETRY and a message -- it is never silently pinned to CPU 0.
final class DefaultScheduler: Scheduler {
    static let metadata = PluginMetadata(
        id: "default",
        name: "Default CPU pinning",
        version: "1.0.0",
        summary: "Pins containers to their configured cpusets, or to free physical cores (one hyperthread per core first).",
        features: ["linux"],
        configSchemaJSON: """
            {"type": "object", "properties": {
              "cpus": {"type": "string", "description": "CPU list the scheduler may hand out, e.g. \\"2-15\\" (default: every online CPU)."},
              "allow_shared_cores": {"type": "boolean", "default": false,
                                     "description": "Allow a configured cpuset to overlap CPUs another running container holds."},
              "sysfs_root": {"type": "string", "default": "/sys", "description": "Where sysfs is mounted (tests use a fixture tree)."}
            }}
            """
    )

    private let poolText: String?
    private let allowShared: Bool
    private let sysfsRoot: String
    private var allocator: CPUAllocator?

    init(context: PluginContext) throws(PluginError) {
        poolText = try context.string("cpus")
        allowShared = try context.bool("allow_shared_cores") ?? false
        sysfsRoot = try context.string("sysfs_root") ?? "/sys"
        if let poolText {
            do {
                _ = try CPUList(parsing: poolText)
            } catch {
                throw .config("'cpus': \(error)")
            }
        }
    }

    func start(context: PluginContext) throws(PluginError) {
        let topology = try CPUTopology(sysfsRoot: sysfsRoot)
        var pool: Set<Int>?
        if let poolText {
            let requested = Set((try? CPUList(parsing: poolText))?.cpus ?? [])
            let online = Set(topology.cpus.map(\.id))
            let missing = requested.subtracting(online)
            guard missing.isEmpty else {
                throw .config("'cpus' names CPUs that are not online: \(CPUList(missing)) (online: \(CPUList(online)))")
            }
            pool = requested
        }
        allocator = CPUAllocator(topology: topology, pool: pool)
        context.log(.info, "scheduling on \(topology.cpus.count) online CPU(s) in \(topology.cores.count) core(s)")
    }

    func admit(context: PluginContext, container: ObservedTarget) throws(PluginError) -> (cpuset: String, cpusetMems: String) {
        guard var allocator else { throw .fatal("admit before start") }
        defer { self.allocator = allocator }
        let owner = container.name
        if !container.cpuset.isEmpty {
            let wanted: CPUList
            do {
                wanted = try CPUList(parsing: container.cpuset)
            } catch {
                throw .config("container '\(owner)': \(error)")
            }
            let online = Set(allocator.topology.cpus.map(\.id))
            let offline = Set(wanted.cpus).subtracting(online)
            guard offline.isEmpty else {
                throw .config("container '\(owner)' is pinned to CPU \(CPUList(offline)), which is not online (online: \(CPUList(online)))")
            }
            let conflicts = allocator.conflicts(wanted.cpus, excluding: owner)
            if !conflicts.isEmpty && !allowShared {
                throw .retry("container '\(owner)' wants CPU \(wanted) held by \(conflicts.joined(separator: ", ")); set allow_shared_cores to share")
            }
            allocator.claim(wanted.cpus, for: owner)
            return (wanted.description, "")
        }
        let count = max(1, Int(container.cpusRequested))
        guard let chosen = allocator.choose(count: count) else {
            let busy = CPUList(allocator.busy)
            throw .retry("no \(count) free CPU(s) for container '\(owner)': \(busy) in use of \(CPUList(allocator.pool))")
        }
        allocator.claim(chosen, for: owner)
        return (CPUList(chosen).description, "")
    }

    func release(context: PluginContext, container: ObservedTarget) {
        allocator?.release(container.name)
    }

    func stop(context: PluginContext) {
        allocator = nil
    }
}

/// The library's exports: one scheduler.
enum DefaultSchedulerLibrary {
    static let plugins: [ExportedPlugin] = [.scheduler(DefaultScheduler.self) { DefaultScheduler.exportedCreate($0, $1, $2) }]
    static let entry = PluginLibraryEntry(
        count: { UInt32(DefaultSchedulerLibrary.plugins.count) },
        descriptor: { DefaultSchedulerLibrary.plugins.descriptor(at: $0) }
    )
}

/// The only exported symbol of the library.
@_cdecl("rdt4nn_plugin_entry")
public func rdt4nn_plugin_entry() -> UnsafeRawPointer {
    DefaultSchedulerLibrary.entry.pointer
}
