import FoundationEssentials
import SystemSupport
import YAML

/// The rules that need the whole plan: timeline, cpus on this host, shared cores, names.
struct PlanValidator {
    var online: CPUSet?
    var onlineNodes: CPUSet?
    var hostIndependent: Bool

    func validate(_ plan: inout BenchmarkPlan, log: inout DiagnosticLog, maxTLocation: SourceLocation?, benchmarkLocation: SourceLocation?) {
        let file = plan.file

        // max_t defaults to the last stop when every container has one.
        if plan.maxSeconds == nil, maxTLocation == nil {
            let stops = plan.containers.map(\.stopSeconds)
            if !plan.containers.isEmpty, stops.allSatisfy({ $0 != nil }), let last = stops.compactMap({ $0 }).max() {
                plan.maxSeconds = last
            } else if !plan.containers.isEmpty {
                log.error(file, benchmarkLocation, "benchmark.max_t", "missing run length: set max_t in seconds (or -1 to run until Ctrl-C), or give every container a stop time")
            }
        }
        if plan.containers.isEmpty {
            log.error(file, benchmarkLocation, "", "the benchmark has no containers (every top-level key other than benchmark, arrival, data and workloads is a container)")
        }

        var names: [String: ContainerPlan] = [:]
        for container in plan.containers {
            let at = { (key: String) in container.keyLocations[key] ?? container.location }
            func path(_ key: String) -> String { NodeReader.join(container.key, key) }
            let startKey = container.keyLocations["start_t"] != nil ? "start_t" : "start"
            let stopKey = container.keyLocations["stop_t"] != nil ? "stop_t" : "stop"

            // Names.
            if let first = names[container.name] {
                let line = first.location.map { " (line \($0.line))" } ?? ""
                log.error(container.file, at("name"), path("name"), "container name '\(container.name)' is already used by '\(first.key)'\(line); names must be unique")
            } else {
                names[container.name] = container
            }
            if !Self.isValidContainerName(container.name) {
                log.error(container.file, at("name"), path("name"), "'\(container.name)' is not a valid container name (letters, digits, '_', '.', '-'; starting with a letter or digit)")
            }

            // Timeline.
            if let stop = container.stopSeconds, stop <= container.startSeconds {
                log.error(container.file, at("stop"), path(stopKey), "stop (\(stop) s) must be after start (\(container.startSeconds) s)")
            }
            if let maxSeconds = plan.maxSeconds {
                if container.startSeconds >= maxSeconds {
                    log.error(container.file, at("start"), path(startKey), "start (\(container.startSeconds) s) is not before benchmark.max_t (\(maxSeconds) s): the container would never run")
                }
                if let stop = container.stopSeconds, stop > maxSeconds, !plan.drain {
                    log.error(container.file, at("stop"), path(stopKey), "stop (\(stop) s) is after benchmark.max_t (\(maxSeconds) s); lower it, raise max_t, or set benchmark.drain: true")
                }
            }
            if let expected = container.expectedSeconds {
                let end = container.stopSeconds ?? plan.maxSeconds
                if let end, expected > end - container.startSeconds, end > container.startSeconds {
                    log.error(container.file, at("expected_t"), path("expected_t"), "expected_t (\(expected) s) is longer than the container runs (\(end - container.startSeconds) s from start to stop)")
                }
            }

            // Host resources.
            if let cpuset = container.cpuset, let online {
                let missing = cpuset.subtracting(online)
                if !missing.isEmpty {
                    let message = "cpu\(missing.count == 1 ? "" : "s") \(missing) \(missing.count == 1 ? "does" : "do") not exist on this host (online cpus: \(online))"
                    report(&log, container.file, at("cpus"), path(container.keyLocations["core"] != nil ? "core" : "cpus"), message)
                }
            }
            if let cores = container.numCores, container.cpuset == nil, let online, cores > online.count {
                report(&log, container.file, at("num_cores"), path("num_cores"), "num_cores \(cores) is more than the \(online.count) online cpus of this host")
            }
            if let mems = container.cpusetMems, let onlineNodes {
                let missing = mems.subtracting(onlineNodes)
                if !missing.isEmpty {
                    report(&log, container.file, at("cpuset_mems"), path("cpuset_mems"), "memory node\(missing.count == 1 ? "" : "s") \(missing) not online on this host (online nodes: \(onlineNodes))")
                }
            }
        }

        // Containers that run at the same time never share pinned cpus.
        if !plan.allowSharedCores {
            let horizon = plan.maxSeconds ?? Int.max
            for (position, container) in plan.containers.enumerated() {
                guard let cpuset = container.cpuset else { continue }
                let end = container.stopSeconds ?? horizon
                for earlier in plan.containers[..<position] {
                    guard let other = earlier.cpuset else { continue }
                    let otherEnd = earlier.stopSeconds ?? horizon
                    guard container.startSeconds < otherEnd, earlier.startSeconds < end else { continue }
                    let shared = cpuset.intersection(other)
                    guard !shared.isEmpty else { continue }
                    let from = max(container.startSeconds, earlier.startSeconds)
                    let to = min(end, otherEnd)
                    let window = to == Int.max ? "from \(from) s to the end" : "\(from)–\(to) s"
                    let key = container.keyLocations["core"] != nil ? "core" : "cpus"
                    log.error(
                        container.file, container.keyLocations["cpus"] ?? container.location, NodeReader.join(container.key, key),
                        "cpu\(shared.count == 1 ? "" : "s") \(shared) also pinned by container '\(earlier.key)' while both run (\(window)); move one, or set benchmark.allow_shared_cores: true"
                    )
                    break
                }
            }
        }

        if plan.containers.allSatisfy({ $0.collectors.isEmpty }), !plan.containers.isEmpty {
            log.warning(file, benchmarkLocation, "", "no collectors are enabled: the run records container events only (enable e.g. benchmark.collectors: [dockerstats, perf])")
        }
    }

    private func report(_ log: inout DiagnosticLog, _ file: String, _ location: SourceLocation?, _ path: String, _ message: String) {
        if hostIndependent {
            log.warning(file, location, path, message + " (ignored: --host-independent)")
        } else {
            log.error(file, location, path, message + " (use --host-independent to validate for another host)")
        }
    }

    /// Docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
    static func isValidContainerName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, first.isASCIILetterOrDigit else { return false }
        return scalars.allSatisfy { $0.isASCIILetterOrDigit || $0 == "_" || $0 == "." || $0 == "-" }
    }
}

/// Reads the host's online cpus and memory nodes.
public enum HostTopology {
    /// The cpus in `/sys/devices/system/cpu/online`, nil when unreadable.
    public static func onlineCPUs(path: String = "/sys/devices/system/cpu/online") -> CPUSet? {
        read(path)
    }

    /// The memory nodes in `/sys/devices/system/node/online`, nil when unreadable (no NUMA support).
    public static func onlineMemoryNodes(path: String = "/sys/devices/system/node/online") -> CPUSet? {
        read(path)
    }

    private static func read(_ path: String) -> CPUSet? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return nil }
        return try? CPUSet(parsing: text.trimmingWhitespaceAndNewlines())
    }
}
