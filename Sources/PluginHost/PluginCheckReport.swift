import PluginABI
import Synchronization
import SystemSupport

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The verdict of `rdt4nn plugins check`, assembled from the child's events
/// and how the child ended.
public struct PluginCheckReport: Sendable {
    /// Per plugin: what happened.
    public struct PluginResult: Sendable {
        public var id: String
        public var kind: String
        public var version: String
        public var calls: [(function: String, status: String, message: String?)] = []
        public var samplesEmitted = 0
        public var exampleSample: String?
        public var notes: [String] = []
        public var violations: [String] = []
        public var failures: [String] = []
    }

    /// The checked file.
    public var path: String
    /// Refusals of the file or of plugins in it.
    public var refusals: [String] = []
    /// Results in check order.
    public var plugins: [PluginResult] = []
    /// Set when the child crashed, hung or ended without finishing.
    public var abnormalEnd: String?

    /// Passed: loaded, no violation, no failure, no crash.
    public var passed: Bool {
        refusals.isEmpty && abnormalEnd == nil && !plugins.isEmpty
            && plugins.allSatisfy { $0.violations.isEmpty && $0.failures.isEmpty }
    }

    /// Runs the check in a child process (`executable` with `childArguments`)
    /// and builds the report.  A crash or hang in the plugin ends the child,
    /// never this process.
    public static func run(options: PluginCheckOptions, executable: String, childArguments: [String]) -> PluginCheckReport {
        var report = PluginCheckReport(path: options.path)
        let child: ChildProcess
        do {
            child = try ChildProcess.launch(executable: executable, arguments: childArguments)
        } catch {
            report.abnormalEnd = "cannot start the check process \(executable): \(error)"
            return report
        }
        let collected = OutputCollector()
        let reader = POSIXThread(name: "rdt4nn-check-out") {
            collected.consume(child.outputDescriptor)
            close(child.outputDescriptor)
        }
        let deadline = HostClock.monotonicNanoseconds() + Int64(options.timeoutSeconds) * 1_000_000_000
        var timedOut = false
        var termination = child.poll()
        while termination == nil {
            if HostClock.monotonicNanoseconds() > deadline {
                timedOut = true
                child.kill(SIGKILL)
                break
            }
            usleep(20_000)
            termination = child.poll()
        }
        let ending = termination ?? child.wait()
        reader.join()
        for event in collected.events { report.apply(event) }

        let lastCall = report.lastCallDescription(from: collected.events)
        if timedOut {
            report.abnormalEnd = "hung: no result within \(options.timeoutSeconds) s\(lastCall.map { " (stuck in \($0))" } ?? ""); killed"
        } else if case .signalled(let signal) = ending {
            report.abnormalEnd = "crashed with \(Self.signalName(signal)) (signal \(signal))\(lastCall.map { " during \($0)" } ?? "")"
        } else if !collected.events.contains(where: { $0.event == "done" }), case .exited(let status) = ending {
            report.abnormalEnd = "the check process exited with status \(status) before finishing\(lastCall.map { " (last call: \($0))" } ?? "")"
        }
        return report
    }

    mutating func apply(_ event: CheckEvent) {
        switch event.event {
        case "refused":
            refusals.append((event.plugin.map { "plugin '\($0)': " } ?? "") + (event.message ?? ""))
        case "plugin":
            plugins.append(PluginResult(id: event.plugin ?? "?", kind: event.function ?? "?", version: event.message ?? "?"))
        case "result":
            guard !plugins.isEmpty else { return }
            let function = event.function ?? "?"
            let status = event.status ?? "?"
            plugins[plugins.count - 1].calls.append((function, status, event.message))
            if status != "OK" {
                let acceptable = status == "UNSUPPORTED" || (status == "RETRY" && function == "collect")
                if !acceptable {
                    plugins[plugins.count - 1].failures.append("\(function) returned \(status): \(event.message ?? "")")
                }
            }
        case "emitted":
            guard !plugins.isEmpty else { return }
            plugins[plugins.count - 1].samplesEmitted += event.count ?? 0
            if plugins[plugins.count - 1].exampleSample == nil, let example = event.message {
                plugins[plugins.count - 1].exampleSample = example
            }
        case "violation":
            guard !plugins.isEmpty else { return }
            let message = event.message ?? ""
            if !plugins[plugins.count - 1].violations.contains(message) {
                plugins[plugins.count - 1].violations.append(message)
            }
        case "note":
            guard !plugins.isEmpty else { return }
            plugins[plugins.count - 1].notes.append(event.message ?? "")
        default:
            break
        }
    }

    private func lastCallDescription(from events: [CheckEvent]) -> String? {
        guard let index = events.lastIndex(where: { $0.event == "call" }) else { return nil }
        let last = events[index]
        if events[(index + 1)...].contains(where: { $0.event == "result" && $0.function == last.function }) { return nil }
        let number = last.count.map { " #\($0)" } ?? ""
        return "\(last.function ?? "?")\(number) of plugin '\(last.plugin ?? "?")'"
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: "SIGSEGV"
        case SIGBUS: "SIGBUS"
        case SIGABRT: "SIGABRT"
        case SIGILL: "SIGILL"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }

    /// Human-readable report.
    public var text: String {
        var out = "Checking \(path)\n"
        for refusal in refusals { out += "  REFUSED: \(refusal)\n" }
        for plugin in plugins {
            out += "\n  \(plugin.id) (\(plugin.kind) \(plugin.version))\n"
            for call in plugin.calls {
                out += "    \(call.function.padded(toLength: 12)) \(call.status)\(call.message.map { ": \($0)" } ?? "")\n"
            }
            if plugin.kind == "collector" {
                out += "    emitted \(plugin.samplesEmitted) sample(s)\n"
                if let example = plugin.exampleSample { out += "    e.g. \(example)\n" }
            }
            for note in plugin.notes { out += "    note: \(note)\n" }
            for failure in plugin.failures { out += "    FAILURE: \(failure)\n" }
            for violation in plugin.violations { out += "    VIOLATION: \(violation)\n" }
        }
        if let abnormalEnd { out += "\n  FAILURE: the check process \(abnormalEnd)\n" }
        out += "\n\(passed ? "PASSED" : "FAILED"): \(path)\n"
        return out
    }
}

/// Collects the child's JSON lines on a reader thread.
private final class OutputCollector: Sendable {
    private let state = Mutex<[CheckEvent]>([])

    /// Reads `fd` to its end (the child and every process it started have
    /// closed their standard output) and keeps the events.
    func consume(_ fd: Int32) {
        let data = FileDescriptor.readToEnd(fd) ?? []
        let events = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { CheckEvent(jsonLine: String($0)) }
        state.withLock { $0 = events }
    }

    var events: [CheckEvent] { state.withLock { $0 } }
}
