import RDT4NNPluginSDK

/// A status code crossing the plugin ABI (`rdt4nn_status`).
public struct PluginStatus: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The raw `int32_t` value.
    public var rawValue: Int32
    /// Wraps a raw status.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `RDT4NN_OK`.
    public static let ok = PluginStatus(rawValue: RDT4NN_OK)
    /// `RDT4NN_E_RETRY`: transient, back off and retry.
    public static let retry = PluginStatus(rawValue: RDT4NN_E_RETRY)
    /// `RDT4NN_E_UNSUPPORTED`: the platform lacks a feature; disable the instance.
    public static let unsupported = PluginStatus(rawValue: RDT4NN_E_UNSUPPORTED)
    /// `RDT4NN_E_CONFIG`: bad configuration.
    public static let config = PluginStatus(rawValue: RDT4NN_E_CONFIG)
    /// `RDT4NN_E_PERMISSION`: missing privilege.
    public static let permission = PluginStatus(rawValue: RDT4NN_E_PERMISSION)
    /// `RDT4NN_E_FATAL`: broken state; never call the instance again.
    public static let fatal = PluginStatus(rawValue: RDT4NN_E_FATAL)
    /// `RDT4NN_E_BACKPRESSURE`: host buffers full, batch not taken.
    public static let backpressure = PluginStatus(rawValue: RDT4NN_E_BACKPRESSURE)
    /// `RDT4NN_E_INVALID`: malformed argument.
    public static let invalid = PluginStatus(rawValue: RDT4NN_E_INVALID)
    /// `RDT4NN_E_NOT_FOUND`: a config key is not set.
    public static let notFound = PluginStatus(rawValue: RDT4NN_E_NOT_FOUND)

    /// The constant's short name, e.g. `UNSUPPORTED`.
    public var name: String {
        switch self {
        case .ok: "OK"
        case .retry: "RETRY"
        case .unsupported: "UNSUPPORTED"
        case .config: "CONFIG"
        case .permission: "PERMISSION"
        case .fatal: "FATAL"
        case .backpressure: "BACKPRESSURE"
        case .invalid: "INVALID"
        case .notFound: "NOT_FOUND"
        default: "unknown status \(rawValue)"
        }
    }

    public var description: String { name }
}

/// The kind of a plugin (`RDT4NN_KIND_*`).
public enum PluginKind: String, Sendable, Hashable, CaseIterable, Codable {
    case collector
    case scheduler
    case sink

    /// Maps the ABI value; nil for unknown kinds.
    public init?(abiValue: UInt32) {
        switch abiValue {
        case RDT4NN_KIND_COLLECTOR: self = .collector
        case RDT4NN_KIND_SCHEDULER: self = .scheduler
        case RDT4NN_KIND_SINK: self = .sink
        default: return nil
        }
    }
}

/// A log level of the host API (`RDT4NN_LOG_*`).
public enum PluginLogLevel: Int32, Sendable, Comparable, CustomStringConvertible {
    case trace = 0, debug, info, warn, error

    public static func < (lhs: PluginLogLevel, rhs: PluginLogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .warn: "warning"
        case .error: "error"
        }
    }
}
