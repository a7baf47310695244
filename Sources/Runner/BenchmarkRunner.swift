import Dispatch
import DockerEngine
import SystemSupport
import Pipeline
import PluginABI
import PluginHost
import Sampling
import Synchronization

/// Why a run could not be carried out.
public struct RunError: Error, Sendable, CustomStringConvertible {
    /// The phase (prepare, execute, cleanup).
    public var phase: String
    /// What went wrong, in a sentence a user can act on.
    public var message: String

    /// Creates an error.
    public init(phase: String, _ message: String) {
        self.phase = phase
        self.message = message
    }

    public var description: String { message }
}

/// What happened to one container.
public struct ContainerOutcome: Sendable, Equatable {
    public var name: String
    public var dockerID: String?
    public var cpuset: String?
    public var plannedStartNs: Int64
    public var actualStartNs: Int64?
    public var plannedStopNs: Int64?
    public var actualStopNs: Int64?
    public var exitCode: Int?
    /// The container ended by itself before its planned stop.
    public var exitedEarly: Bool
    /// Why it did not start, if it did not.
    public var failure: String?
}

/// The result of a run.
public struct RunReport: Sendable {
    public var benchmarkID: BenchmarkID
    public var resultsPath: String
    public var containers: [ContainerOutcome]
    public var sinks: [SinkSummary]
    public var collectors: [CollectorStatistics]
    /// Set when a signal ended the run.
    public var interruptedBy: String?
    /// Set when the run failed.
    public var error: RunError?
    /// Containers with the run's label still present after cleanup (should be 0).
    public var leftoverContainers: Int
    /// How late the sampler's ticks were dispatched behind their deadlines.
    public var samplerLateness: Sampler.Lateness?
    /// Whether the run did what was planned.
    public var succeeded: Bool { error == nil && interruptedBy == nil && leftoverContainers == 0 }
}

/// Runs one benchmark: *prepare* (images, placements, containers created but
/// not started, plugins created), *execute* (starts and stops on one
/// monotonic clock while the sampler collects), *cleanup* (always: stop and
/// remove every container the run created, flush every sample, write the
/// results directory).
public final class BenchmarkRunner {
    private let plan: RunPlan
    private let catalog: PluginCatalog
    private let docker: DockerClient
    private let console: Console
    private let interruption: Interruption
    private let benchmarkID: BenchmarkID
    private let facts: HostFacts

    private var results: ResultsDirectory?
    private var containers: [ContainerState] = []
    private var scheduler: SchedulerInstance?
    private var sinks: [SinkInstance] = []
    private var pipeline: Pipeline?
    private var sampler: Sampler?
    private var hostCollectors: [(instance: CollectorInstance, handle: Int?)] = []
    private var runStartMonotonicNs: Int64 = 0
    private var runStartWallNs: Int64 = 0
    private var runEndWallNs: Int64 = 0
    private var plugins: [String: PluginDescriptor] = [:]
    /// Tells which containers died by themselves (Docker events), during execute.
    private var exitWatcher: ExitWatcher?
    /// Ids of started, not yet stopped containers, readable from the signal thread.
    private let runningIDs = ContainerIDSet()

    /// One container during the run (control thread only).
    private final class ContainerState {
        let plan: RunPlan.Container
        var dockerID: String?
        var cpuset: String?
        var cpusetMems: String?
        var collectors: [CollectorInstance] = []
        /// The collectors being sampled, with their sampler handles.
        var sampled: [(instance: CollectorInstance, handle: Int)] = []
        /// Collectors whose collect call never returned: neither stopped nor destroyed.
        var abandoned: [ObjectIdentifier] = []
        var pid: Int32 = 0
        var started = false
        var finished = false
        var admitted = false
        var actualStartNs: Int64?
        var actualStopNs: Int64?
        var exitCode: Int?
        var exitedEarly = false
        var failure: String?
        var execID: String?
        /// The scheduler had no room at prepare: ask again right before the start.
        var admissionDeferred = false
        init(_ plan: RunPlan.Container) { self.plan = plan }
    }

    /// Creates a runner.
    /// - Parameters:
    ///   - catalog: the loaded plugins.
    ///   - interruption: signals (installed by the caller).
    public init(
        plan: RunPlan,
        catalog: PluginCatalog,
        docker: DockerClient,
        console: Console,
        interruption: Interruption,
        benchmarkID: BenchmarkID? = nil,
        facts: HostFacts = HostFacts.read()
    ) {
        self.plan = plan
        self.catalog = catalog
        self.docker = docker
        self.console = console
        self.interruption = interruption
        self.benchmarkID = benchmarkID ?? BenchmarkID(name: plan.name)
        self.facts = facts
        containers = plan.containers.map(ContainerState.init)
    }

    /// Runs prepare → execute → cleanup.  Cleanup always runs.
    public func run() -> RunReport {
        let docker = self.docker
        let runningIDs = self.runningIDs
        let console = self.console
        interruption.onEscalation {
            // Second signal: containers still stopping gracefully are killed now.
            for id in runningIDs.snapshot {
                console.info("killing \(id.prefix(12))")
                try? docker.killContainer(id)
            }
        }
        var failure: RunError?
        do {
            try prepare()
            try execute()
        } catch {
            failure = error
            console.clearProgress()
            console.error(error.message)
            results?.events.append(event("error", detail: [("phase", .string(error.phase)), ("message", .string(error.message))]))
        }
        return cleanup(failure: failure)
    }

    // MARK: - Prepare

    private func prepare() throws(RunError) {
        do {
            results = try ResultsDirectory(root: plan.resultsRoot, benchmarkID: benchmarkID)
        } catch {
            throw RunError(phase: "prepare", "\(error)")
        }
        runStartWallNs = HostClock.realtimeNanoseconds()
        runStartMonotonicNs = HostClock.monotonicNanoseconds()
        try? results?.write(plan.configFileName, text: plan.configText)
        console.info("benchmark \(benchmarkID) → \(results?.path ?? "")")

        // Every plugin the plan names must be loaded before anything is created.
        let needed = [plan.scheduler.id] + plan.sinks.map(\.plugin.id) + plan.hostCollectors.map(\.id)
            + plan.containers.flatMap { $0.collectors.map(\.id) }
        for id in Set(needed).sorted() {
            guard let plugin = catalog.plugin(id: id) else {
                let kind = id == plan.scheduler.id ? "scheduler" : plan.sinks.contains { $0.plugin.id == id } ? "sink" : "collector"
                if let refusal = catalog.refusals.first(where: { $0.pluginID == id }) {
                    throw RunError(phase: "prepare", "\(kind) plugin '\(id)' was refused: \(refusal)")
                }
                var directories: [String] = []
                for file in catalog.files {
                    let directory = String(file.path[..<(file.path.lastIndex(of: "/") ?? file.path.startIndex)])
                    if !directories.contains(directory) { directories.append(directory) }
                }
                let loaded = catalog.plugins.map(\.id).sorted().joined(separator: ", ")
                throw RunError(phase: "prepare", "\(kind) plugin not found: '\(id)' (loaded: \(loaded.isEmpty ? "none" : loaded); plugin directories: \(directories.isEmpty ? "none with plugin files" : directories.joined(separator: ", ")))")
            }
            plugins[id] = plugin
        }

        do {
            _ = try docker.ping()
        } catch {
            throw RunError(phase: "prepare", "cannot reach dockerd at \(docker.endpoint.socketPath): \(error.message); start it (scripts/start-dockerd.sh) or set DOCKER_HOST=unix://…")
        }
        try prepareImages()
        try checkInterrupted("prepare")
        try startSinks()
        try startScheduler()
        for container in containers {
            try checkInterrupted("prepare")
            try createContainer(container)
        }
        try createCollectors()
    }

    private func checkInterrupted(_ phase: String) throws(RunError) {
        if interruption.level > .none {
            throw RunError(phase: phase, "interrupted by \(interruption.signalName) during \(phase)")
        }
    }

    private func prepareImages() throws(RunError) {
        var seen = Set<String>()
        for image in plan.containers.map(\.image) where seen.insert(image).inserted {
            let present: Bool
            do {
                present = try docker.imageExists(image)
            } catch {
                throw RunError(phase: "prepare", "cannot inspect image '\(image)': \(error.message)")
            }
            switch (plan.pull, present) {
            case (.never, false):
                throw RunError(phase: "prepare", "image '\(image)' is not present and pulling is disabled (--pull=never); build or pull it first (scripts/build-test-images.sh builds the rdt4nn/* test images)")
            case (.missing, true), (.never, true):
                continue
            default:
                console.info("pulling \(image)…")
                let started = HostClock.monotonicNanoseconds()
                try pullInterruptibly(image)
                results?.events.append(event("image_pulled", detail: [("image", .string(image)), ("duration_ns", .integer(HostClock.monotonicNanoseconds() - started))]))
                try checkInterrupted("prepare")
            }
        }
    }

    /// Pulls on a helper thread so that a signal ends the wait at once: the
    /// run then cleans up and exits, which closes the connection and makes
    /// dockerd cancel the pull.
    private func pullInterruptibly(_ image: String) throws(RunError) {
        let outcome = PullOutcome()
        let docker = self.docker
        POSIXThread.detach(name: "rdt4nn-pull") {
            do throws(DockerError) {
                try docker.pullImage(image)
                outcome.finish(nil)
            } catch {
                outcome.finish(error.message)
            }
        }
        while true {
            if let result = outcome.wait(milliseconds: 100) {
                if let message = result { throw RunError(phase: "prepare", "cannot pull image '\(image)': \(message)") }
                return
            }
            if interruption.level > .none {
                throw RunError(phase: "prepare", "interrupted by \(interruption.signalName) while pulling '\(image)'")
            }
        }
    }

    private func startSinks() throws(RunError) {
        var lanes: [(name: String, sink: any PipelineSink, policy: SinkPolicy)] = []
        for use in plan.sinks {
            guard let descriptor = plugins[use.plugin.id] else { continue }
            var config = use.plugin.config
            // A sink with a `directory` key writes into the results directory unless told otherwise.
            if descriptor.configSchema.properties.contains(where: { $0.name == "directory" }), config["directory"] == nil, let results {
                config = config.merging(["directory": .string(results.path)])
            }
            let sink: SinkInstance
            do {
                sink = try SinkInstance(descriptor: descriptor, instanceName: use.plugin.id, config: config, log: pluginLog)
            } catch {
                throw RunError(phase: "prepare", "sink '\(use.plugin.id)': \(error.message)")
            }
            sinks.append(sink)
            var lane: any PipelineSink = sink
            do {
                try sink.start()
            } catch let error where error.status == .retry {
                // Not reachable yet (e.g. influxd still starting): buffer and spool, start again before writing.
                console.warning("sink '\(use.plugin.id)' is not ready (\(error.message)); samples are kept and the sink is started again before each write")
                lane = LateStartingSink(sink)
            } catch {
                throw RunError(phase: "prepare", "sink '\(use.plugin.id)' cannot start: \(error.message)")
            }
            var policy = use.policy
            if policy.spoolPath == nil, let results { policy.spoolPath = results.path + "/spool-\(use.plugin.id).jsonl" }
            lanes.append((use.plugin.id, lane, policy))
        }
        let console = self.console
        pipeline = Pipeline(sinks: lanes, log: { console.warning($0) })
        let pipeline = self.pipeline
        let internalTags = Self.hostTags(benchmarkID: benchmarkID, container: nil, collector: "rdt4nn")
        sampler = Sampler(log: pluginLog, emitInternal: { samples in
            pipeline?.submit(samples.map { Self.tagged($0, hostTags: internalTags) })
        })
    }

    private func startScheduler() throws(RunError) {
        guard let descriptor = plugins[plan.scheduler.id] else { return }
        do {
            let scheduler = try SchedulerInstance(descriptor: descriptor, config: plan.scheduler.config, log: pluginLog)
            self.scheduler = scheduler
            try scheduler.start()
        } catch {
            throw RunError(phase: "prepare", "scheduler '\(plan.scheduler.id)' cannot start: \(error.message)")
        }
    }

    private func target(_ container: ContainerState) -> TargetInfo {
        TargetInfo(
            kind: .container,
            index: Int32(container.plan.index),
            pid: container.pid,
            name: container.plan.name,
            id: container.dockerID ?? "",
            image: container.plan.image,
            cpuset: container.cpuset ?? container.plan.cpuset ?? "",
            cpusRequested: container.cpuset == nil && container.plan.cpuset == nil ? Int32(container.plan.cpusRequested) : 0
        )
    }

    private func createContainer(_ container: ContainerState) throws(RunError) {
        let plan = container.plan
        container.cpuset = plan.cpuset
        container.cpusetMems = plan.cpusetMems
        if scheduler != nil {
            do {
                try admit(container)
            } catch let error where error.status == .retry {
                // No room now; containers that run later may find it freed by then.
                container.admissionDeferred = true
                console.debug("placement of '\(plan.name)' deferred to its start: \(error.message)")
            } catch {
                throw RunError(phase: "prepare", "scheduler '\(self.plan.scheduler.id)' cannot place container '\(plan.name)': \(error.message)")
            }
        }
        var environment = plan.environment
        environment += ["BENCHMARK_ID=\(benchmarkID)", "CONTAINER_INDEX=\(plan.index)", "CONTAINER_NAME=\(plan.name)"]
        let spec = ContainerSpec(
            benchmarkID: benchmarkID.value,
            container: plan.name,
            image: plan.image,
            command: plan.command,
            entrypoint: plan.entrypoint,
            environment: environment,
            labels: ["rdt4nn.container_index": String(plan.index)],
            hostConfig: HostConfig(
                cpusetCpus: container.cpuset,
                cpusetMems: container.cpusetMems,
                memory: plan.memoryBytes,
                nanoCpus: plan.nanoCPUs,
                privileged: plan.privileged,
                binds: plan.volumes,
                portBindings: plan.portBindings,
                networkMode: plan.portBindings.isEmpty ? "none" : nil
            )
        )
        do {
            let created = try docker.createContainer(spec)
            container.dockerID = created.id
            for warning in created.warnings { console.warning("docker: container '\(plan.name)': \(warning)") }
        } catch {
            throw RunError(phase: "prepare", "cannot create container '\(plan.name)': \(error.message)")
        }
        results?.events.append(event("container_created", container: plan.name, detail: [
            ("docker_id", .string(container.dockerID ?? "")), ("image", .string(plan.image)), ("cpuset", container.cpuset.map { .string($0) } ?? .null),
        ]))
        console.debug("created \(plan.name) (\(String((container.dockerID ?? "").prefix(12)))) on cpus \(container.cpuset ?? "any")")
    }

    /// Asks the scheduler where the container runs.
    private func admit(_ container: ContainerState) throws(PluginCallError) {
        guard let scheduler else { return }
        let placement = try scheduler.admit(target(container))
        container.cpuset = placement.cpuset.isEmpty ? container.plan.cpuset : placement.cpuset
        container.cpusetMems = placement.cpusetMems.isEmpty ? container.plan.cpusetMems : placement.cpusetMems
        container.admitted = true
    }

    private func createCollectors() throws(RunError) {
        for container in containers {
            for use in container.plan.collectors {
                guard let descriptor = plugins[use.id] else { continue }
                var config = use.config
                // Groups a plugin creates (resctrl) carry the benchmark id, so `rdt4nn cleanup
                // --benchmark ID` finds them after a crash.
                if descriptor.configSchema.properties.contains(where: { $0.name == "group_prefix" }), config["group_prefix"] == nil {
                    config = config.merging(["group_prefix": .string("rdt4nn-\(benchmarkID)")])
                }
                do {
                    let instance = try CollectorInstance(
                        descriptor: descriptor,
                        instanceName: container.plan.name,
                        config: config,
                        target: target(container),
                        emit: emitter(container: container.plan, dockerID: container.dockerID, collector: use.id),
                        log: pluginLog
                    )
                    container.collectors.append(instance)
                } catch {
                    throw RunError(phase: "prepare", "collector '\(use.id)' for container '\(container.plan.name)': \(error.message)")
                }
            }
        }
        for use in plan.hostCollectors {
            guard let descriptor = plugins[use.id] else { continue }
            do {
                let instance = try CollectorInstance(
                    descriptor: descriptor, instanceName: "host", config: use.config, target: .host,
                    emit: emitter(container: nil, dockerID: nil, collector: use.id), log: pluginLog)
                hostCollectors.append((instance, nil))
            } catch {
                throw RunError(phase: "prepare", "collector '\(use.id)': \(error.message)")
            }
        }
    }

    // MARK: - Execute

    private enum Action {
        case start(ContainerState)
        case stop(ContainerState)
    }

    private func execute() throws(RunError) {
        runStartMonotonicNs = HostClock.monotonicNanoseconds()
        runStartWallNs = HostClock.realtimeNanoseconds()
        results?.events.append(event("run_started"))
        exitWatcher = ExitWatcher(docker: docker, benchmarkID: benchmarkID.value)
        defer {
            exitWatcher?.stop()
            exitWatcher = nil
        }
        sampler?.start()
        for index in hostCollectors.indices {
            let instance = hostCollectors[index].instance
            do {
                try instance.start()
                hostCollectors[index].handle = sampler?.add(samplerEntry(instance, plugin: instance.descriptor.id, name: "host", interval: plan.hostSamplingIntervalNs))
            } catch {
                console.warning("collector '\(instance.descriptor.id)' (host): \(error.status == .unsupported ? "unsupported here" : "cannot start"): \(error.message); its metrics will be absent")
            }
        }

        let endNs: Int64?
        let admissionEndNs: Int64?
        switch plan.end {
        case .at(let ns): (endNs, admissionEndNs) = (ns, ns)
        case .untilInterrupted: (endNs, admissionEndNs) = (nil, nil)
        case .drain(let admission): (endNs, admissionEndNs) = (nil, admission)
        }

        var nextProgressNs: Int64 = 0
        while true {
            let now = HostClock.monotonicNanoseconds()
            let offset = now - runStartMonotonicNs
            if interruption.level > .none {
                console.clearProgress()
                console.info("\(interruption.signalName): ending the run\(interruption.level == .immediate ? " now" : " (press Ctrl-C again to skip graceful stops)")")
                results?.events.append(event("signal", detail: [("signal", .string(interruption.signalName))]))
                return
            }
            if let failure = pipeline?.failure { throw RunError(phase: "execute", failure) }
            if let endNs, offset >= endNs { return }

            // Starts and stops that are due, in plan order.
            for container in containers where !container.started && !container.finished && container.failure == nil {
                if let admissionEndNs, container.plan.startOffsetNs >= admissionEndNs {
                    container.finished = true  // never admitted
                    results?.events.append(event("container_skipped", container: container.plan.name, detail: [("reason", .string("starts after max_t"))]))
                    continue
                }
                if container.plan.startOffsetNs <= offset { try startContainer(container) }
            }
            for container in containers where container.started && !container.finished {
                if let stop = container.plan.stopOffsetNs, stop <= offset {
                    stopContainer(container, reason: "planned stop")
                }
            }
            pollExits()

            let pending = containers.filter { !$0.finished && $0.failure == nil }
            if pending.isEmpty && endNs == nil && plan.end != .untilInterrupted { return }
            if pending.isEmpty && endNs != nil {
                console.info("every container has finished before max_t; ending the run")
                return
            }

            if offset >= nextProgressNs {
                showProgress(offset: offset, endNs: endNs)
                nextProgressNs = offset + 500_000_000
            }
            // Sleep to the next planned action, the end, or at most 200 ms (exit polling, progress).
            var wake = offset + 200_000_000
            for container in pending {
                if !container.started { wake = min(wake, container.plan.startOffsetNs) }
                if container.started, let stop = container.plan.stopOffsetNs { wake = min(wake, stop) }
            }
            if let endNs { wake = min(wake, endNs) }
            let deadline = runStartMonotonicNs + wake
            let current = HostClock.monotonicNanoseconds()
            if deadline > current + 2_000_000 {
                interruption.sleep(untilMonotonicNs: deadline - 1_000_000, now: current)
            }
            // The last millisecond is slept on the precise clock (start skew).
            let precise = HostClock.monotonicNanoseconds()
            if deadline > precise { Sampler.sleep(untilMonotonicNs: deadline) }
        }
    }

    private func startContainer(_ container: ContainerState) throws(RunError) {
        guard let id = container.dockerID else { return }
        let plannedNs = container.plan.startOffsetNs
        if container.admissionDeferred {
            do {
                try admit(container)
                container.admissionDeferred = false
                try docker.updateContainer(id, cpusetCpus: container.cpuset, cpusetMems: container.cpusetMems)
            } catch let error as PluginCallError {
                try failStart(container, planned: plannedNs, "scheduler '\(plan.scheduler.id)' has no place for it: \(error.message)")
                return
            } catch {
                try failStart(container, planned: plannedNs, "\(error)")
                return
            }
        }
        // The start time is when the request is issued; Docker's StartedAt is recorded too.
        let issuedNs = HostClock.monotonicNanoseconds() - runStartMonotonicNs
        do {
            _ = try docker.startContainer(id)
        } catch {
            try failStart(container, planned: plannedNs, error.message)
            return
        }
        let returnedNs = HostClock.monotonicNanoseconds() - runStartMonotonicNs
        runningIDs.insert(id)
        container.started = true
        container.actualStartNs = issuedNs
        var detail: [(key: String, value: JSONValue)] = [
            ("cpuset", container.cpuset.map { .string($0) } ?? .null), ("start_call_ns", .integer(returnedNs - issuedNs)),
        ]
        if let inspect = try? docker.inspectContainer(id) {
            container.pid = Int32(inspect.state.pid)
            detail.append(("pid", .integer(Int64(inspect.state.pid))))
            if let started = inspect.state.startedAtTimestamp {
                detail.append(("docker_started_at_ns", .integer(started.nanosecondsSinceEpoch)))
                detail.append(("docker_started_offset_ns", .integer(started.nanosecondsSinceEpoch - runStartWallNs)))
            }
        }
        results?.events.append(event("container_started", container: container.plan.name, planned: plannedNs, actual: issuedNs, detail: detail))
        console.info("\(Self.stamp(issuedNs)) started \(container.plan.name)")

        for instance in container.collectors {
            instance.context.setTarget(target(container))
            do {
                try instance.start()
                if let handle = sampler?.add(samplerEntry(instance, plugin: instance.descriptor.id, name: container.plan.name, interval: container.plan.samplingIntervalNs)) {
                    container.sampled.append((instance, handle))
                }
            } catch {
                let what = error.status == .unsupported ? "unsupported here" : "cannot start (\(error.status.name))"
                console.warning("collector '\(instance.descriptor.id)' for '\(container.plan.name)': \(what): \(error.message); its metrics will be absent")
                results?.events.append(event("collector_disabled", container: container.plan.name, detail: [("collector", .string(instance.descriptor.id)), ("reason", .string(error.message))]))
            }
        }
        if let command = container.plan.execCommand {
            do {
                let execID = try docker.createExec(container: id, spec: ExecSpec(command: ["sh", "-c", command]))
                try docker.startExec(execID)
                container.execID = execID
                results?.events.append(event("command_started", container: container.plan.name, detail: [("command", .string(command))]))
            } catch {
                console.warning("container '\(container.plan.name)': cannot run its command: \(error.message)")
            }
        }
    }

    /// Records a container that could not start; fails the run unless it is optional.
    private func failStart(_ container: ContainerState, planned: Int64, _ reason: String) throws(RunError) {
        let message = "cannot start container '\(container.plan.name)': \(reason)"
        container.failure = message
        container.finished = true
        results?.events.append(event("container_start_failed", container: container.plan.name, planned: planned, detail: [("error", .string(reason))]))
        if container.plan.optional {
            console.warning(message + " (optional: the run goes on)")
            return
        }
        throw RunError(phase: "execute", message)
    }

    /// Notices containers that ended by themselves and commands that finished.
    private func pollExits() {
        for container in containers where container.started && !container.finished {
            guard let id = container.dockerID else { continue }
            if let execID = container.execID, let exec = try? docker.inspectExec(execID), !exec.running {
                results?.events.append(event("command_finished", container: container.plan.name, detail: [("exit_code", exec.exitCode.map { .integer(Int64($0)) } ?? .null)]))
                container.execID = nil
                stopContainer(container, reason: "its command ended")
                continue
            }
            // Docker's `die` events say which containers ended; only those are inspected.
            guard exitWatcher?.hasDied(id) == true, let inspect = try? docker.inspectContainer(id), !inspect.state.running else { continue }
            container.exitedEarly = true
            container.exitCode = inspect.state.exitCode
            console.info("container '\(container.plan.name)' exited by itself with code \(inspect.state.exitCode)\(inspect.state.oomKilled ? " (OOM-killed)" : "")")
            finishContainer(container, eventName: "container_exited")
        }
    }

    private func stopContainer(_ container: ContainerState, reason: String) {
        guard let id = container.dockerID, container.started, !container.finished else { return }
        detachCollectors(container)
        let issuedNs = HostClock.monotonicNanoseconds() - runStartMonotonicNs
        let fast = interruption.level == .immediate
        do {
            if fast {
                try docker.killContainer(id)
            } else {
                _ = try docker.stopContainer(id, timeout: .seconds(plan.stopTimeoutSeconds))
            }
        } catch {
            console.warning("cannot stop container '\(container.plan.name)': \(error.message)")
        }
        if let inspect = try? docker.inspectContainer(id) { container.exitCode = inspect.state.exitCode }
        console.info("\(Self.stamp(HostClock.monotonicNanoseconds() - runStartMonotonicNs)) stopped \(container.plan.name) (\(reason))")
        let returnedNs = HostClock.monotonicNanoseconds() - runStartMonotonicNs
        finishContainer(container, eventName: "container_stopped", reason: reason, issuedNs: issuedNs,
                        extra: [("stop_call_ns", .integer(returnedNs - issuedNs)), ("graceful", .bool(!fast && interruption.level != .immediate))])
    }

    /// Stops many containers at once (the end of a run): graceful stops run
    /// in parallel, so the run ends after one stop timeout, not one per container.
    private func stopAll(_ running: [ContainerState], reason: String) {
        guard running.count > 1 else {
            for container in running { stopContainer(container, reason: reason) }
            return
        }
        for container in running { detachCollectors(container) }
        let issuedNs = HostClock.monotonicNanoseconds() - runStartMonotonicNs
        let fast = interruption.level == .immediate
        let ids = running.map { $0.dockerID ?? "" }
        let failures = Mutex<[Int: String]>([:])
        let docker = self.docker
        let timeout = plan.stopTimeoutSeconds
        // One thread per container: each stop mostly waits (up to its timeout), so the
        // few threads of a concurrent queue on a small machine would serialise them.
        var stoppers: [POSIXThread] = []
        for (index, id) in ids.enumerated() where !id.isEmpty {
            stoppers.append(POSIXThread(name: "rdt4nn-stop") {
                do throws(DockerError) {
                    if fast {
                        try docker.killContainer(id)
                    } else {
                        _ = try docker.stopContainer(id, timeout: .seconds(timeout))
                    }
                } catch {
                    failures.withLock { $0[index] = error.message }
                }
            })
        }
        for stopper in stoppers { stopper.join() }
        let returnedNs = HostClock.monotonicNanoseconds() - runStartMonotonicNs
        let problems = failures.withLock { $0 }
        for (index, container) in running.enumerated() {
            if let problem = problems[index] { console.warning("cannot stop container '\(container.plan.name)': \(problem)") }
            if let id = container.dockerID, let inspect = try? docker.inspectContainer(id) { container.exitCode = inspect.state.exitCode }
            console.info("\(Self.stamp(returnedNs)) stopped \(container.plan.name) (\(reason))")
            finishContainer(container, eventName: "container_stopped", reason: reason, issuedNs: issuedNs,
                            extra: [("stop_call_ns", .integer(returnedNs - issuedNs)), ("graceful", .bool(!fast && interruption.level != .immediate))])
        }
    }

    /// The console's time stamp of an event, `[  12.34 s]`, from an offset since the run's start.
    private static func stamp(_ offsetNs: Int64) -> String {
        "[\(TextFormat.fixed(Double(offsetNs) / 1e9, decimals: 2, width: 7)) s]"
    }

    private func detachCollectors(_ container: ContainerState) {
        for (instance, handle) in container.sampled where !detach(instance, handle: handle, container: container.plan.name) {
            container.abandoned.append(ObjectIdentifier(instance))
        }
        container.sampled.removeAll()
        for instance in container.collectors where !container.abandoned.contains(ObjectIdentifier(instance)) { instance.stop() }
    }

    /// How long stopping a collector waits for a collect call still running.
    private static let collectReturnTimeoutNs: Int64 = 5_000_000_000

    /// Takes a collector off the sampler.
    /// - Returns: false when its collect call did not return in time: the
    ///   instance is then abandoned -- kept alive for the rest of the process
    ///   and never stopped or destroyed, since the hung call may still use
    ///   it -- so that the run can still stop and remove its containers.
    private func detach(_ instance: CollectorInstance, handle: Int, container: String?) -> Bool {
        guard let sampler, !sampler.remove(handle, timeoutNs: Self.collectReturnTimeoutNs) else { return true }
        _ = Unmanaged.passRetained(instance)  // never released: no deinit, hence no destroy, behind the hung call
        let seconds = Self.collectReturnTimeoutNs / 1_000_000_000
        let owner = container.map { "'\($0)'" } ?? "the host"
        console.error("collector '\(instance.descriptor.id)' for \(owner): its collect call has not returned after \(seconds) s; "
                      + "the instance is abandoned (not stopped, not destroyed) so that the run can end and clean up")
        results?.events.append(event("collector_abandoned", container: container,
                                     detail: [("collector", .string(instance.descriptor.id)), ("waited_s", .integer(seconds))]))
        return false
    }

    private func finishContainer(
        _ container: ContainerState, eventName: String, reason: String? = nil, issuedNs: Int64? = nil,
        extra: [(key: String, value: JSONValue)] = []
    ) {
        detachCollectors(container)
        container.finished = true
        if let id = container.dockerID { runningIDs.remove(id) }
        let offset = issuedNs ?? HostClock.monotonicNanoseconds() - runStartMonotonicNs
        container.actualStopNs = offset
        var detail: [(key: String, value: JSONValue)] = [("exit_code", container.exitCode.map { .integer(Int64($0)) } ?? .null)]
        if let reason { detail.append(("reason", .string(reason))) }
        detail += extra
        results?.events.append(event(eventName, container: container.plan.name, planned: container.plan.stopOffsetNs, actual: offset, detail: detail))
        if container.admitted { scheduler?.release(target(container)) }
    }

    private func showProgress(offset: Int64, endNs: Int64?) {
        let running = containers.filter { $0.started && !$0.finished }.count
        let received = pipeline?.summaries.first?.received ?? 0
        let seconds = max(0.001, Double(offset) / 1e9)
        let total = endNs.map { TextFormat.fixed(Double($0) / 1e9, decimals: 0) + " s" } ?? "∞"
        console.progress("[\(TextFormat.fixed(seconds, decimals: 1, width: 6)) s / \(total)] \(running)/\(containers.count) containers running"
                         + " · \(TextFormat.fixed(Double(received) / seconds, decimals: 0)) samples/s · sink backlog \(pipeline?.backlog ?? 0)")
    }

    // MARK: - Cleanup

    private func cleanup(failure: RunError?) -> RunReport {
        console.clearProgress()
        runEndWallNs = HostClock.realtimeNanoseconds()
        // Stop every container this run started, then remove every one it created.
        let reason = failure != nil ? "cleanup after an error" : interruption.level > .none ? "interrupted by \(interruption.signalName)" : "end of run"
        stopAll(containers.filter { $0.started && !$0.finished }, reason: reason)
        sampler?.stop()
        for (instance, handle) in hostCollectors {
            if let handle, !detach(instance, handle: handle, container: nil) { continue }
            instance.destroy()
        }
        for container in containers {
            for instance in container.collectors where !container.abandoned.contains(ObjectIdentifier(instance)) { instance.destroy() }
            guard let id = container.dockerID else { continue }
            if let results, let output = try? docker.logs(id) {
                try? (output.stdoutText + output.stderrText).write(toFile: results.logPath(container: container.plan.name), atomically: true, encoding: .utf8)
            }
            do {
                try docker.removeContainer(id, force: true, removeVolumes: true)
                results?.events.append(event("container_removed", container: container.plan.name))
            } catch {
                if !error.isNotFound { console.warning("cannot remove container '\(container.plan.name)': \(error.message)") }
            }
        }
        // Anything else with our label (a create that timed out on our side but happened).
        var leftovers = 0
        if let stray = try? docker.listContainers(labels: ["\(benchmarkLabel)=\(benchmarkID)"]) {
            for container in stray { try? docker.removeContainer(container.id, force: true, removeVolumes: true) }
            leftovers = (try? docker.listContainers(labels: ["\(benchmarkLabel)=\(benchmarkID)"]).count) ?? 0
        }
        scheduler?.destroy()

        emitBenchmarkMeta(failure: failure)
        let summaries = pipeline?.finish() ?? []
        for sink in sinks { sink.destroy() }
        for summary in summaries {
            console.info("sink \(summary)")
        }
        results?.events.append(event("run_finished", detail: [("leftover_containers", .integer(Int64(leftovers)))]))
        results?.events.sync()

        let outcomes = containers.map { container in
            ContainerOutcome(
                name: container.plan.name, dockerID: container.dockerID, cpuset: container.cpuset,
                plannedStartNs: container.plan.startOffsetNs, actualStartNs: container.actualStartNs,
                plannedStopNs: container.plan.stopOffsetNs, actualStopNs: container.actualStopNs,
                exitCode: container.exitCode, exitedEarly: container.exitedEarly, failure: container.failure)
        }
        let report = RunReport(
            benchmarkID: benchmarkID, resultsPath: results?.path ?? "", containers: outcomes, sinks: summaries,
            collectors: sampler?.statistics ?? [], interruptedBy: interruption.level > .none ? interruption.signalName : nil,
            error: failure, leftoverContainers: leftovers, samplerLateness: sampler?.lateness)
        do {
            try results?.writeMetadata(metadata(report))
        } catch {
            console.error("\(error)")
        }
        return report
    }

    // MARK: - Samples and metadata

    private var pluginLog: LogHandler {
        let console = self.console
        return { record in
            let text = "\(record.pluginID) (\(record.instanceName)): \(record.message)" + (record.suppressedBefore > 0 ? " (\(record.suppressedBefore) similar suppressed)" : "")
            switch record.level {
            case .error: console.error(text)
            case .warn: console.warning(text)
            case .info: console.info(text)
            case .debug, .trace: console.debug(text)
            }
        }
    }

    private func samplerEntry(_ instance: CollectorInstance, plugin: String, name: String, interval: Int64) -> SamplerEntry {
        let context = instance.context
        return SamplerEntry(collector: instance, pluginID: plugin, instanceName: name, intervalNs: interval, emittedSamples: { context.emittedCounts.samples })
    }

    /// The emit handler of one instance: adds the host's tags and hands the
    /// samples to the pipeline without blocking.
    private func emitter(container: RunPlan.Container?, dockerID: String?, collector: String) -> EmitHandler {
        let pipeline = self.pipeline
        let identity = container.map { (name: $0.name, index: $0.index, id: dockerID ?? "") }
        // Built once: every sample of this instance shares the array (copy on write).
        let hostTags = Self.hostTags(benchmarkID: benchmarkID, container: identity, collector: collector)
        return { samples in
            let tagged = samples.map { Self.tagged($0, hostTags: hostTags) }
            return pipeline?.submit(tagged) ?? .ok
        }
    }

    /// The tags the host puts before a sample's own (see `hostOwnedTagKeys`).
    static func hostTags(benchmarkID: BenchmarkID, container: (name: String, index: Int, id: String)?, collector: String) -> [(key: String, value: String)] {
        var tags: [(key: String, value: String)] = [("benchmark_id", benchmarkID.value), ("collector", collector)]
        if let container {
            tags.append(("container_name", container.name))
            tags.append(("container_index", String(container.index)))
            if !container.id.isEmpty { tags.append(("container_id", String(container.id.prefix(12)))) }
        }
        return tags
    }

    static func tagged(_ sample: PluginSample, hostTags: [(key: String, value: String)]) -> PluginSample {
        var copy = sample
        copy.tags = sample.tags.isEmpty ? hostTags : hostTags + sample.tags
        if copy.timestampNanoseconds == 0 { copy.timestampNanoseconds = HostClock.realtimeNanoseconds() }
        return copy
    }

    private func event(_ name: String, container: String? = nil, planned: Int64? = nil, actual: Int64? = nil, detail: [(key: String, value: JSONValue)] = []) -> RunEvent {
        let now = HostClock.monotonicNanoseconds()
        return RunEvent(
            event: name, container: container, plannedOffsetNs: planned,
            actualOffsetNs: actual ?? (runStartMonotonicNs == 0 ? 0 : now - runStartMonotonicNs),
            monotonicNs: now, wallNs: HostClock.realtimeNanoseconds(), detail: detail)
    }

    /// The plugins of the run with their files' sha256, hashed once per run
    /// (metadata.json and `benchmark_meta` both carry it).
    private var pluginsJSON: JSONValue {
        if let pluginsJSONCache { return pluginsJSONCache }
        let value = Self.pluginsJSON(plugins)
        pluginsJSONCache = value
        return value
    }
    private var pluginsJSONCache: JSONValue?

    private static func pluginsJSON(_ plugins: [String: PluginDescriptor]) -> JSONValue {
        .array(plugins.values.sorted { $0.id < $1.id }.map { plugin in
            .object([
                ("id", .string(plugin.id)), ("kind", .string(plugin.kind.rawValue)), ("version", .string(plugin.version)),
                ("file", .string(plugin.path)), ("abi", .string(plugin.abiVersion)),
                ("sha256", FileDigest.sha256(path: plugin.path).map { .string($0) } ?? .null),
            ])
        })
    }

    private func emitBenchmarkMeta(failure: RunError?) {
        let sample = PluginSample(
            measurement: "benchmark_meta",
            tags: [("benchmark_name", plan.name)],
            fields: [
                ("start_ns", .integer(runStartWallNs)),
                ("end_ns", .integer(runEndWallNs)),
                ("containers", .integer(Int64(containers.count))),
                ("cpu_model", .string(facts.cpuModel)),
                ("sockets", .integer(Int64(facts.sockets))),
                ("physical_cores", .integer(Int64(facts.physicalCores))),
                ("logical_cpus", .integer(Int64(facts.logicalCPUs))),
                ("kernel", .string(facts.kernel)),
                ("rdt_supported", .boolean(!facts.rdtFlags.isEmpty)),
                ("host", .string(facts.json.jsonText)),
                ("plugins", .string(pluginsJSON.jsonText)),
                ("config", .string(plan.configText)),
                ("succeeded", .boolean(failure == nil && interruption.level == .none)),
            ] + (facts.l3SizeBytes.map { [("l3_size_bytes", PluginFieldValue.integer($0))] } ?? [])
                + (facts.l3Ways.map { [("l3_ways", PluginFieldValue.integer(Int64($0)))] } ?? []),
            timestampNanoseconds: runStartWallNs == 0 ? HostClock.realtimeNanoseconds() : runStartWallNs
        )
        pipeline?.submit([Self.tagged(sample, hostTags: Self.hostTags(benchmarkID: benchmarkID, container: nil, collector: "rdt4nn"))])
    }

    private func metadata(_ report: RunReport) -> JSONValue {
        func optional(_ value: Int64?) -> JSONValue { value.map { .integer($0) } ?? .null }
        let containerList: [JSONValue] = report.containers.map { container in
            var members: [(key: String, value: JSONValue)] = [("name", .string(container.name))]
            members.append(("docker_id", container.dockerID.map { .string($0) } ?? .null))
            members.append(("cpuset", container.cpuset.map { .string($0) } ?? .null))
            members.append(("planned_start_ns", .integer(container.plannedStartNs)))
            members.append(("actual_start_ns", optional(container.actualStartNs)))
            members.append(("planned_stop_ns", optional(container.plannedStopNs)))
            members.append(("actual_stop_ns", optional(container.actualStopNs)))
            members.append(("exit_code", container.exitCode.map { .integer(Int64($0)) } ?? .null))
            members.append(("exited_early", .bool(container.exitedEarly)))
            members.append(("failure", container.failure.map { .string($0) } ?? .null))
            return .object(members)
        }
        let sinkList: [JSONValue] = report.sinks.map { summary in
            var members: [(key: String, value: JSONValue)] = [("sink", .string(summary.sink))]
            members.append(("received", .integer(Int64(summary.received))))
            members.append(("written", .integer(Int64(summary.written))))
            members.append(("rejected", .integer(Int64(summary.rejected))))
            members.append(("reject_reasons", .array(summary.rejectReasons.map { .string($0) })))
            members.append(("spooled", .integer(Int64(summary.spooled))))
            members.append(("replayed", .integer(Int64(summary.replayed))))
            members.append(("dropped", .integer(Int64(summary.dropped))))
            members.append(("pending", .integer(Int64(summary.pendingInMemory + summary.pendingInSpool))))
            members.append(("failure", summary.failure.map { .string($0) } ?? .null))
            return .object(members)
        }
        let collectorList: [JSONValue] = report.collectors.map { statistics in
            var members: [(key: String, value: JSONValue)] = [("plugin", .string(statistics.pluginID))]
            members.append(("instance", .string(statistics.instanceName)))
            members.append(("collections", .integer(Int64(statistics.collections))))
            members.append(("errors", .integer(Int64(statistics.errors))))
            members.append(("skipped_ticks", .integer(Int64(statistics.skippedTicks))))
            members.append(("skipped_while_busy", .integer(Int64(statistics.skippedWhileBusy))))
            members.append(("skipped_sampler_late", .integer(Int64(statistics.skippedSamplerLate))))
            members.append(("overruns", .integer(Int64(statistics.overruns))))
            members.append(("collect_time_ns", .integer(statistics.collectTimeNs)))
            members.append(("max_collect_time_ns", .integer(statistics.maxCollectTimeNs)))
            members.append(("disabled_reason", statistics.disabledReason.map { .string($0) } ?? .null))
            return .object(members)
        }
        var members: [(key: String, value: JSONValue)] = [("benchmark_id", .string(benchmarkID.value))]
        members.append(("benchmark_name", .string(plan.name)))
        members.append(("rdt4nn_version", .string(RunnerVersion.host)))
        members.append(("start_wall_ns", .integer(runStartWallNs)))
        members.append(("end_wall_ns", .integer(runEndWallNs)))
        members.append(("succeeded", .bool(report.succeeded)))
        members.append(("interrupted_by", report.interruptedBy.map { .string($0) } ?? .null))
        members.append(("error", report.error.map { .string($0.message) } ?? .null))
        members.append(("host", facts.json))
        members.append(("plugins", pluginsJSON))
        members.append(("scheduler", .string(plan.scheduler.id)))
        members.append(("containers", .array(containerList)))
        members.append(("sinks", .array(sinkList)))
        members.append(("collectors", .array(collectorList)))
        if let lateness = report.samplerLateness {
            members.append(("sampler", .object([
                ("ticks", .integer(Int64(lateness.count))),
                ("lateness_p50_ns", .integer(lateness.p50Ns)),
                ("lateness_p99_ns", .integer(lateness.p99Ns)),
                ("lateness_max_ns", .integer(lateness.maxNs)),
            ])))
        }
        members.append(("leftover_containers", .integer(Int64(report.leftoverContainers))))
        return .object(members)
    }
}

/// A sink whose `start` asked to be retried: each write first starts it
/// again; until that works the write answers RETRY (the pipeline backs off,
/// and spools on overflow), and a start that fails for good fails the lane.
final class LateStartingSink: PipelineSink {
    private let sink: SinkInstance
    private var started = false

    init(_ sink: SinkInstance) { self.sink = sink }

    func write(_ samples: [PluginSample]) throws(PluginContractError) -> SinkWriteOutcome {
        if !started {
            do {
                try sink.start()
                started = true
            } catch {
                return SinkWriteOutcome(
                    status: error.status, processedCount: 0, rejectedIndices: [], httpStatus: 0, retryAfterNs: 0,
                    message: "start: \(error.message)")
            }
        }
        return try sink.write(samples)
    }

    func flush() throws(PluginCallError) {
        if started { try sink.flush() }
    }
}

/// The result of a pull running on its own thread.
final class PullOutcome: Sendable {
    private let result = Mutex<String??>(nil)
    private let done = DispatchSemaphore(value: 0)

    /// nil = success, else the error message.
    func finish(_ error: String?) {
        result.withLock { $0 = .some(error) }
        done.signal()
    }

    /// The result, or nil when the pull is still running after `milliseconds`.
    func wait(milliseconds: Int) -> String?? {
        guard done.wait(timeout: .now() + .milliseconds(milliseconds)) == .success else { return nil }
        done.signal()  // later waits return at once
        return result.withLock { $0 }
    }
}

/// Container ids shared with the signal thread.
final class ContainerIDSet: Sendable {
    private let ids = Mutex<Set<String>>([])
    func insert(_ id: String) { ids.withLock { _ = $0.insert(id) } }
    func remove(_ id: String) { ids.withLock { _ = $0.remove(id) } }
    var snapshot: Set<String> { ids.withLock { $0 } }
}

/// The host version recorded in metadata.
public enum RunnerVersion {
    /// Kept in step with `rdt4nn version`.
    public static let host = "0.1.0"
}

extension JSONValue {
    /// An object with `values` set (replacing existing keys).
    func merging(_ values: [String: JSONValue]) -> JSONValue {
        var members = objectValue ?? []
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            if let index = members.firstIndex(where: { $0.key == key }) {
                members[index].value = value
            } else {
                members.append((key, value))
            }
        }
        return .object(members)
    }
}
