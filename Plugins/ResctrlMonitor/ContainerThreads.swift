#if canImport(Glibc)
@preconcurrency import Glibc
#endif

import Cgroups

/// Where a container's thread ids (TIDs) come from.
///
/// The container's cgroup, found through `/proc/<pid>/cgroup`: on cgroup v2
/// its `cgroup.threads`, on v1 the `tasks` file of the first hierarchy that
/// places the process below the root (pids, cpu, cpuacct, cpuset, blkio,
/// memory, ...).  One read lists every thread of every process in the
/// container — processes started by `docker exec` or forked by the workload
/// included — which `/proc/<pid>/task` of the main process would miss.
/// When the process sits in the root of every hierarchy (not a container),
/// or the cgroup does not list the process itself, the fallback is the
/// threads of the main process only (`/proc/<pid>/task`).
struct ContainerThreads: Sendable {
    /// The source.
    enum Source: Sendable, Equatable {
        /// A cgroup file listing TIDs (`tasks` or `cgroup.threads`).
        case cgroupFile(String)
        /// `/proc/<pid>/task` of one process.
        case process(Int32)
    }

    /// The main process.
    let pid: Int32
    /// Where the TIDs are read.
    let source: Source
    /// procfs root.
    let procRoot: String

    /// v1 hierarchies in order of preference (`memory` late: hosts put whole
    /// sessions in memory cgroups).
    static let v1Controllers = ["pids", "cpu", "cpuacct", "cpuset", "blkio", "perf_event", "memory"]

    /// Finds the container's cgroup; falls back to the process's own threads.
    static func locate(pid: Int32, procRoot: String = "/proc") -> (threads: ContainerThreads, note: String?) {
        let filesystem = CgroupFilesystem(procRoot: procRoot)
        var candidates: [String] = []
        var note: String?
        do {
            let membership = try filesystem.membership(pid: pid)
            let location = try filesystem.locate(pid: pid)
            if let path = membership.unifiedPath, path != "/", let directory = location.unifiedDirectory {
                candidates.append(directory + "/cgroup.threads")
            }
            for controller in v1Controllers {
                if let path = membership.v1Path(controller: controller), path != "/", let directory = location.v1Directory(controller) {
                    candidates.append(directory + "/tasks")
                }
            }
        } catch {
            note = "cannot locate the cgroup of process \(pid) (\(error))"
        }
        for file in candidates {
            let threads = ContainerThreads(pid: pid, source: .cgroupFile(file), procRoot: procRoot)
            if let ids = try? threads.threadIDs(), ids.contains(pid) { return (threads, nil) }
        }
        if note == nil {
            note = candidates.isEmpty
                ? "process \(pid) is in the root cgroup of every hierarchy (not a container?)"
                : "no cgroup file of process \(pid) lists it (\(candidates.joined(separator: ", ")))"
        }
        return (ContainerThreads(pid: pid, source: .process(pid), procRoot: procRoot), note! + "; monitoring the threads of process \(pid) only")
    }

    /// What is read, for logs.
    var description: String {
        switch source {
        case .cgroupFile(let path): "the container's cgroup (\(path))"
        case .process(let pid): "\(procRoot)/\(pid)/task"
        }
    }

    /// The current TIDs, deduplicated, in first-seen order.
    /// - Throws: ``ThreadListError`` when the cgroup or process is gone.
    func threadIDs() throws(ThreadListError) -> [Int32] {
        switch source {
        case .cgroupFile(let path):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ThreadListError(path: path, errno: errno) }
            defer { close(fd) }
            var ids: [Int32] = []
            var seen = Set<Int32>()
            var chunk = [UInt8](repeating: 0, count: 8192)
            var current: Int32 = 0
            var inNumber = false
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ThreadListError(path: path, errno: errno)
                }
                if count == 0 { break }
                for byte in chunk[0..<count] {
                    if byte >= 0x30 && byte <= 0x39 {
                        current = current &* 10 &+ Int32(byte - 0x30)
                        inNumber = true
                    } else if inNumber {
                        if seen.insert(current).inserted { ids.append(current) }
                        current = 0
                        inNumber = false
                    }
                }
            }
            if inNumber, seen.insert(current).inserted { ids.append(current) }
            return ids
        case .process(let pid):
            let path = "\(procRoot)/\(pid)/task"
            guard let dir = opendir(path) else { throw ThreadListError(path: path, errno: errno) }
            defer { closedir(dir) }
            var ids: [Int32] = []
            while let entry = readdir(dir) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if let id = Int32(name) { ids.append(id) }
            }
            return ids.sorted()
        }
    }
}

/// The thread list could not be read: the container stopped, or its cgroup
/// was removed.
struct ThreadListError: Error, Sendable, CustomStringConvertible {
    var path: String
    var errno: Int32

    var description: String {
        "cannot list the container's threads from \(path): \(String(cString: strerror(errno)))"
    }
}
