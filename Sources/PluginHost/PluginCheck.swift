import FoundationEssentials
import Glibc
import PluginABI
import Synchronization

/// One step the check child reports, as a JSON line on its standard output.
public struct CheckEvent: Sendable, Equatable {
    /// Event type: plugin, call, result, emitted, violation, note, refused, done.
    public var event: String
    /// Plugin id, when the event concerns one.
    public var plugin: String?
    /// The ABI function, for call/result.
    public var function: String?
    /// Status name, for result.
    public var status: String?
    /// Free text.
    public var message: String?
    /// A count (collection number, samples).
    public var count: Int?

    /// Creates an event.
    public init(event: String, plugin: String? = nil, function: String? = nil, status: String? = nil, message: String? = nil, count: Int? = nil) {
        self.event = event
        self.plugin = plugin
        self.function = function
        self.status = status
        self.message = message
        self.count = count
    }

    /// One JSON line.
    public var jsonLine: String {
        var members: [(key: String, value: JSONValue)] = [("event", .string(event))]
        if let plugin { members.append(("plugin", .string(plugin))) }
        if let function { members.append(("function", .string(function))) }
        if let status { members.append(("status", .string(status))) }
        if let message { members.append(("message", .string(message))) }
        if let count { members.append(("count", .integer(Int64(count)))) }
        return JSONValue.object(members).jsonText
    }

    /// Parses a line written by ``jsonLine``; nil for anything else.
    public init?(jsonLine line: String) {
        guard let value = try? JSONValue.parse(line), let event = value["event"]?.stringValue else { return nil }
        self.event = event
        plugin = value["plugin"]?.stringValue
        function = value["function"]?.stringValue
        status = value["status"]?.stringValue
        message = value["message"]?.stringValue
        if case .integer(let n)? = value["count"] { count = Int(n) } else { count = nil }
    }
}

/// Options of one `plugins check` run.
public struct PluginCheckOptions: Sendable {
    /// The shared object to check.
    public var path: String
    /// Only this plugin of the file (all when nil).
    public var pluginID: String?
    /// Configuration passed to every checked plugin.
    public var config: JSONValue
    /// Number of `collect` calls per collector.
    public var collections: Int
    /// Pause between collections.
    public var intervalMilliseconds: Int
    /// Longest the child may take in total before it is killed.
    public var timeoutSeconds: Int

    /// Creates options.
    public init(path: String, pluginID: String? = nil, config: JSONValue = .object([]), collections: Int = 5, intervalMilliseconds: Int = 100, timeoutSeconds: Int = 60) {
        self.path = path
        self.pluginID = pluginID
        self.config = config
        self.collections = collections
        self.intervalMilliseconds = intervalMilliseconds
        self.timeoutSeconds = timeoutSeconds
    }
}

/// Runs a plugin's whole life cycle in this process, reporting every step.
/// Used by the child process of `rdt4nn plugins check`; a crash here kills
/// only the child, and the parent names the step it died in.
public struct PluginCheckRunner {
    let options: PluginCheckOptions
    let loader: PluginLoader
    let report: @Sendable (CheckEvent) -> Void

    /// Creates a runner that reports through `report`.
    public init(options: PluginCheckOptions, loader: PluginLoader = PluginLoader(), report: @escaping @Sendable (CheckEvent) -> Void) {
        self.options = options
        self.loader = loader
        self.report = report
    }

    /// Loads the file and exercises each plugin.
    public func run() {
        let file = loader.loadFile(options.path)
        for refusal in file.refusals {
            report(CheckEvent(event: "refused", plugin: refusal.pluginID, message: refusal.reason.description))
        }
        var plugins = file.plugins
        if let only = options.pluginID {
            plugins = plugins.filter { $0.id == only }
            if plugins.isEmpty && file.refusals.isEmpty {
                report(CheckEvent(event: "refused", message: "no plugin with id '\(only)' in \(options.path) (it holds \(file.plugins.map(\.id).joined(separator: ", ")))"))
            }
        }
        for plugin in plugins {
            report(CheckEvent(event: "plugin", plugin: plugin.id, function: plugin.kind.rawValue, message: plugin.version))
            let threadsBefore = Self.count("/proc/self/task")
            let fdsBefore = Self.count("/proc/self/fd")
            switch plugin.kind {
            case .collector: checkCollector(plugin)
            case .sink: checkSink(plugin)
            case .scheduler: checkScheduler(plugin)
            }
            // Give stray plugin threads a moment to misbehave or finish.
            usleep(200_000)
            let threadsAfter = Self.count("/proc/self/task")
            let fdsAfter = Self.count("/proc/self/fd")
            if threadsAfter > threadsBefore {
                report(CheckEvent(event: "violation", plugin: plugin.id, message: "left \(threadsAfter - threadsBefore) thread(s) running after stop and destroy"))
            }
            if fdsAfter > fdsBefore {
                report(CheckEvent(event: "violation", plugin: plugin.id, message: "left \(fdsAfter - fdsBefore) file descriptor(s) open after stop and destroy"))
            }
        }
        report(CheckEvent(event: "done"))
    }

    private func call(_ plugin: PluginDescriptor, _ function: String, count: Int? = nil, _ body: () throws(PluginCallError) -> Void) -> PluginCallError? {
        report(CheckEvent(event: "call", plugin: plugin.id, function: function, count: count))
        do {
            try body()
            report(CheckEvent(event: "result", plugin: plugin.id, function: function, status: "OK", count: count))
            return nil
        } catch {
            report(CheckEvent(event: "result", plugin: plugin.id, function: function, status: error.status.name, message: error.message, count: count))
            return error
        }
    }

    private func logHandler(_ plugin: PluginDescriptor) -> LogHandler {
        let report = self.report
        return { record in
            report(CheckEvent(event: "log", plugin: plugin.id, status: record.level.description, message: record.message))
        }
    }

    private func reportViolations(_ plugin: PluginDescriptor, _ context: InstanceContext) {
        for violation in context.violations {
            report(CheckEvent(event: "violation", plugin: plugin.id, message: violation))
        }
    }

    private func checkCollector(_ plugin: PluginDescriptor) {
        let received = Mutex<[PluginSample]>([])
        let instance: CollectorInstance
        report(CheckEvent(event: "call", plugin: plugin.id, function: "create"))
        do {
            instance = try CollectorInstance(
                descriptor: plugin,
                instanceName: "check",
                config: options.config,
                emit: { samples in
                    received.withLock { $0 += samples }
                    return .ok
                },
                log: logHandler(plugin)
            )
            report(CheckEvent(event: "result", plugin: plugin.id, function: "create", status: "OK"))
        } catch {
            report(CheckEvent(event: "result", plugin: plugin.id, function: error.function == "configuration" ? "configuration" : "create", status: error.status.name, message: error.message))
            return
        }
        defer {
            _ = call(plugin, "destroy") { () throws(PluginCallError) in instance.destroy() }
            usleep(100_000)
            reportViolations(plugin, instance.context)
        }
        if let error = call(plugin, "start", { () throws(PluginCallError) in try instance.start() }) {
            if error.status == .unsupported {
                report(CheckEvent(event: "note", plugin: plugin.id, message: "unsupported on this machine: \(error.message)"))
            }
            _ = call(plugin, "stop") { () throws(PluginCallError) in instance.stop() }
            return
        }
        var seenProblems = Set<String>()
        for n in 1...max(1, options.collections) {
            usleep(UInt32(max(0, options.intervalMilliseconds)) * 1000)
            let before = received.withLock { $0.count }
            let error = call(plugin, "collect", count: n) { () throws(PluginCallError) in
                try instance.collect(monotonicNs: HostClock.monotonicNanoseconds(), realtimeNs: HostClock.realtimeNanoseconds())
            }
            let new = received.withLock { Array($0[before...]) }
            report(CheckEvent(event: "emitted", plugin: plugin.id, message: new.first.map(Self.describe), count: new.count))
            for sample in new {
                for problem in plugin.metricsSchema?.problems(with: sample) ?? [] where seenProblems.insert(problem).inserted {
                    report(CheckEvent(event: "violation", plugin: plugin.id, message: problem))
                }
            }
            if let error, error.status == .unsupported || error.status == .fatal { break }
        }
        _ = call(plugin, "stop") { () throws(PluginCallError) in instance.stop() }
        // Anything emitted from now on is a violation the context records.
        usleep(200_000)
    }

    private func checkSink(_ plugin: PluginDescriptor) {
        let instance: SinkInstance
        report(CheckEvent(event: "call", plugin: plugin.id, function: "create"))
        do {
            instance = try SinkInstance(descriptor: plugin, instanceName: "check", config: options.config, log: logHandler(plugin))
            report(CheckEvent(event: "result", plugin: plugin.id, function: "create", status: "OK"))
        } catch {
            report(CheckEvent(event: "result", plugin: plugin.id, function: "create", status: error.status.name, message: error.message))
            return
        }
        defer {
            _ = call(plugin, "destroy") { () throws(PluginCallError) in instance.destroy() }
            reportViolations(plugin, instance.context)
        }
        guard call(plugin, "start", { () throws(PluginCallError) in try instance.start() }) == nil else {
            _ = call(plugin, "stop") { () throws(PluginCallError) in instance.stop() }
            return
        }
        let now = HostClock.realtimeNanoseconds()
        let samples = (0..<3).map { i in
            PluginSample(
                measurement: "rdt4nn_check",
                tags: [("plugin", plugin.id)],
                fields: [("value", .float(Double(i) + 0.5)), ("count", .integer(Int64(i))), ("ok", .boolean(true)), ("note", .string("check \"\(i)\""))],
                timestampNanoseconds: now + Int64(i)
            )
        }
        report(CheckEvent(event: "call", plugin: plugin.id, function: "write", count: samples.count))
        do {
            let outcome = try instance.write(samples)
            report(CheckEvent(event: "result", plugin: plugin.id, function: "write", status: outcome.status.name, message: outcome.message ?? "processed \(outcome.processedCount), rejected \(outcome.rejectedIndices.count)", count: outcome.processedCount))
        } catch {
            report(CheckEvent(event: "violation", plugin: plugin.id, message: error.message))
        }
        _ = call(plugin, "flush") { () throws(PluginCallError) in try instance.flush() }
        _ = call(plugin, "stop") { () throws(PluginCallError) in instance.stop() }
    }

    private func checkScheduler(_ plugin: PluginDescriptor) {
        let instance: SchedulerInstance
        report(CheckEvent(event: "call", plugin: plugin.id, function: "create"))
        do {
            instance = try SchedulerInstance(descriptor: plugin, config: options.config, log: logHandler(plugin))
            report(CheckEvent(event: "result", plugin: plugin.id, function: "create", status: "OK"))
        } catch {
            report(CheckEvent(event: "result", plugin: plugin.id, function: "create", status: error.status.name, message: error.message))
            return
        }
        defer {
            _ = call(plugin, "destroy") { () throws(PluginCallError) in instance.destroy() }
            reportViolations(plugin, instance.context)
        }
        guard call(plugin, "start", { () throws(PluginCallError) in try instance.start() }) == nil else {
            _ = call(plugin, "stop") { () throws(PluginCallError) in instance.stop() }
            return
        }
        let container = TargetInfo(kind: .container, index: 0, pid: 0, name: "check", id: "", image: "rdt4nn/check", cpuset: "", cpusRequested: 1)
        _ = call(plugin, "admit") { () throws(PluginCallError) in
            let placement = try instance.admit(container)
            let allowed = Set("0123456789,-")
            if !placement.cpuset.allSatisfy({ allowed.contains($0) }) {
                report(CheckEvent(event: "violation", plugin: plugin.id, message: "admit returned cpuset '\(placement.cpuset)', not a cpulist like \"0-3,8\""))
            }
            report(CheckEvent(event: "note", plugin: plugin.id, message: "placed a container on cpuset '\(placement.cpuset)' mems '\(placement.cpusetMems)'"))
        }
        _ = call(plugin, "on_tick") { () throws(PluginCallError) in try instance.tick(monotonicNs: HostClock.monotonicNanoseconds(), realtimeNs: HostClock.realtimeNanoseconds()) }
        _ = call(plugin, "release") { () throws(PluginCallError) in instance.release(container) }
        _ = call(plugin, "stop") { () throws(PluginCallError) in instance.stop() }
    }

    static func describe(_ sample: PluginSample) -> String {
        let tags = sample.tags.map { ",\($0.key)=\($0.value)" }.joined()
        let fields = sample.fields.map { field -> String in
            switch field.value {
            case .float(let d): "\(field.key)=\(d)"
            case .integer(let i): "\(field.key)=\(i)i"
            case .unsigned(let u): "\(field.key)=\(u)u"
            case .boolean(let b): "\(field.key)=\(b)"
            case .string(let s): "\(field.key)=\"\(s)\""
            }
        }
        return "\(sample.measurement)\(tags) \(fields.joined(separator: ","))"
    }

    static func count(_ directory: String) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: directory).count) ?? 0
    }
}
