import Foundation
import PluginABI
import Synchronization

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = childArguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let collected = OutputCollector()
        do {
            try process.run()
        } catch {
            report.abnormalEnd = "cannot start the check process \(executable): \(error)"
            return report
        }
        let reader = Thread { collected.consume(output.fileHandleForReading) }
        reader.start()
        let deadline = Date().addingTimeInterval(TimeInterval(options.timeoutSeconds))
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        collected.waitForEnd()
        for event in collected.events { report.apply(event) }

        let lastCall = report.lastCallDescription(from: collected.events)
        if timedOut {
            report.abnormalEnd = "hung: no result within \(options.timeoutSeconds) s\(lastCall.map { " (stuck in \($0))" } ?? ""); killed"
        } else if process.terminationReason == .uncaughtSignal {
            let signal = process.terminationStatus
            report.abnormalEnd = "crashed with \(Self.signalName(signal)) (signal \(signal))\(lastCall.map { " during \($0)" } ?? "")"
        } else if !collected.events.contains(where: { $0.event == "done" }) {
            report.abnormalEnd = "the check process exited with status \(process.terminationStatus) before finishing\(lastCall.map { " (last call: \($0))" } ?? "")"
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
                out += "    \(call.function.padding(toLength: 12, withPad: " ", startingAt: 0)) \(call.status)\(call.message.map { ": \($0)" } ?? "")\n"
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
    private let state = Mutex<(events: [CheckEvent], done: Bool)>(([], false))
    private let finished = DispatchSemaphore(value: 0)

    func consume(_ handle: FileHandle) {
        let data = handle.readDataToEndOfFile()
        let events = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { CheckEvent(jsonLine: String($0)) }
        state.withLock { $0 = (events, true) }
        finished.signal()
    }

    func waitForEnd() { finished.wait() }
    var events: [CheckEvent] { state.withLock { $0.events } }
}
