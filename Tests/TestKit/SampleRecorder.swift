import PluginABI
import PluginHost
import Synchronization

/// Everything one plugin instance emitted and logged (a test's emit and log handlers).
public final class SampleRecorder: Sendable {
    private let state = Mutex<(samples: [PluginSample], logs: [PluginLogRecord])>(([], []))

    /// An empty recorder.
    public init() {}

    /// The emit handler to give the instance.
    public var emit: EmitHandler {
        { samples in
            self.state.withLock { $0.samples += samples }
            return .ok
        }
    }

    /// The log handler to give the instance.
    public var log: LogHandler {
        { record in self.state.withLock { $0.logs.append(record) } }
    }

    /// Everything emitted so far.
    public var samples: [PluginSample] { state.withLock { $0.samples } }
    /// Everything logged so far.
    public var logs: [PluginLogRecord] { state.withLock { $0.logs } }

    /// Samples emitted after the first `count`.
    public func samples(from count: Int) -> [PluginSample] { state.withLock { Array($0.samples.dropFirst(count)) } }
}

extension PluginSample {
    /// A numeric field as Double (integers converted), nil when absent.
    public func number(_ key: String) -> Double? {
        switch fields.first(where: { $0.key == key })?.value {
        case .float(let value): value
        case .integer(let value): Double(value)
        case .unsigned(let value): Double(value)
        default: nil
        }
    }

    /// The value of tag `key`.
    public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }

    /// Whether the sample has field `key`.
    public func has(_ key: String) -> Bool { fields.contains { $0.key == key } }
}
