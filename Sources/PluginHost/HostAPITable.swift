import PluginABI
import RDT4NNPluginSDK

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The `rdt4nn_host_api` table handed to every plugin.
///
/// It is allocated once per process and never freed, because plugins keep
/// the pointer for the life of the process.  Every function recovers its
/// ``InstanceContext`` from the `ctx` pointer; none captures state.
enum HostAPITable {
    /// The table (ABI 1.0 layout).
    static let shared = ImmutableCPointer<rdt4nn_host_api>(
        rdt4nn_host_api(
            struct_size: UInt32(MemoryLayout<rdt4nn_host_api>.size),
            abi_major: UInt16(RDT4NN_ABI_MAJOR),
            abi_minor: UInt16(RDT4NN_ABI_MINOR),
            log: { ctx, level, message in
                guard let context = InstanceContext.from(ctx) else { return }
                context.log(level: level, message: message.map { String(cString: $0) } ?? "(null message)")
            },
            log_ratelimited: { ctx, key, level, message in
                guard let context = InstanceContext.from(ctx) else { return }
                context.logRateLimited(
                    key: key.map { String(cString: $0) } ?? "",
                    level: level,
                    message: message.map { String(cString: $0) } ?? "(null message)"
                )
            },
            emit: { ctx, batch in
                guard let context = InstanceContext.from(ctx) else { return RDT4NN_E_INVALID }
                return context.emit(batch).rawValue
            },
            set_error: { ctx, message in
                guard let context = InstanceContext.from(ctx) else { return }
                context.setError(message.map { String(cString: $0) } ?? "(null message)")
            },
            now_realtime_ns: { HostClock.realtimeNanoseconds() },
            now_monotonic_ns: { HostClock.monotonicNanoseconds() },
            config_json: { ctx in
                InstanceContext.from(ctx)?.configJSONPointer
            },
            config_get_string: { ctx, key, out in
                configLookup(ctx, key, out, expected: "string") { context, value in
                    guard case .string(let string) = value else { return nil }
                    return context.borrow(string)
                }
            },
            config_get_i64: { ctx, key, out in
                configLookup(ctx, key, out, expected: "integer") { _, value in
                    guard case .integer(let integer) = value else { return nil }
                    return integer
                }
            },
            config_get_f64: { ctx, key, out in
                configLookup(ctx, key, out, expected: "number") { _, value in value.doubleValue }
            },
            config_get_bool: { ctx, key, out in
                configLookup(ctx, key, out, expected: "boolean") { _, value in
                    guard case .bool(let bool) = value else { return nil }
                    return bool ? 1 : 0
                }
            },
            target: { ctx in
                guard let context = InstanceContext.from(ctx) else { return nil }
                return context.targetPointer()
            },
            get_extension: { _, _ in
                // ABI 1.0 offers no extensions; "rdt4nn.platform/1" arrives later.
                nil
            }
        )
    )

    private static func configLookup<T>(
        _ ctx: OpaquePointer?,
        _ key: UnsafePointer<CChar>?,
        _ out: UnsafeMutablePointer<T>?,
        expected: String,
        convert: (InstanceContext, JSONValue) -> T?
    ) -> Int32 {
        guard let context = InstanceContext.from(ctx), let key, let out else { return RDT4NN_E_INVALID }
        let name = String(cString: key)
        guard let value = context.configValue(name) else { return RDT4NN_E_NOT_FOUND }
        guard let converted = convert(context, value) else {
            context.setError("configuration key '\(name)' is \(value.typeName), expected \(expected)")
            return RDT4NN_E_CONFIG
        }
        out.pointee = converted
        return RDT4NN_OK
    }
}

/// A C value copied once into memory that is never written again nor freed.
///
/// `@unchecked Sendable` is sound: after `init` the memory is read-only for
/// the life of the process, so sharing the pointer between threads is safe.
struct ImmutableCPointer<T>: @unchecked Sendable {
    let pointer: UnsafePointer<T>
    init(_ value: T) {
        let storage = UnsafeMutablePointer<T>.allocate(capacity: 1)
        storage.initialize(to: value)
        pointer = UnsafePointer(storage)
    }
}
