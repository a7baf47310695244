import PluginABI
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A spool problem.
public struct SpoolError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "spool file \(path): \(reason)" }
}

/// Samples a sink could not take yet, on disk: one JSON object per line,
/// appended with one `write(2)` per batch and read back in order.
///
/// Each line is `{"m":measurement,"t":[[key,value],...],"f":[[key,type,value],...],"ts":ns}`
/// with type one of f64, i64, u64, bool, string -- exact for every value
/// (integers stay integers), unlike a text format that would need a parser
/// of its own.  `rdt4nn upload` reads the same format.  A file whose every
/// line was replayed is removed on close; otherwise it stays in the results
/// directory.
public final class SpoolFile: Sendable {
    /// The file.
    public let path: String
    private let state = Mutex<State>(State())

    private struct State {
        var writeHandle: Int32 = -1
        var readOffset: Int = 0
        var appended = 0
        var read = 0
        var carry: [UInt8] = []
    }

    /// A spool at `path` (created on first append).
    public init(path: String) { self.path = path }

    /// Lines appended and not yet read back.
    public var unreadCount: Int { state.withLock { $0.appended - $0.read } }

    /// Appends samples.
    public func append(_ samples: [PluginSample]) throws(SpoolError) {
        var text = ""
        for sample in samples { text += Self.encode(sample) + "\n" }
        let bytes = Array(text.utf8)
        let path = self.path
        try state.withLock { state throws(SpoolError) in
            if state.writeHandle < 0 {
                state.writeHandle = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
                guard state.writeHandle >= 0 else { throw SpoolError(path: path, reason: String(cString: strerror(errno))) }
            }
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { Glibc.write(state.writeHandle, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw SpoolError(path: path, reason: String(cString: strerror(errno))) }
                written += n
            }
            state.appended += samples.count
        }
    }

    /// Reads back up to `maximum` samples, oldest first.
    public func read(maximum: Int) throws(SpoolError) -> [PluginSample] {
        let path = self.path
        return try state.withLock { state throws(SpoolError) -> [PluginSample] in
            guard state.appended > state.read else { return [] }
            let handle = open(path, O_RDONLY | O_CLOEXEC)
            guard handle >= 0 else { throw SpoolError(path: path, reason: String(cString: strerror(errno))) }
            defer { Glibc.close(handle) }
            var samples: [PluginSample] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while samples.count < maximum {
                let n = chunk.withUnsafeMutableBytes { pread(handle, $0.baseAddress, $0.count, off_t(state.readOffset + state.carry.count)) }
                guard n > 0 else { break }
                state.carry += chunk[0..<n]
                while samples.count < maximum, let newline = state.carry.firstIndex(of: 0x0A) {
                    let line = String(decoding: state.carry[..<newline], as: UTF8.self)
                    state.carry.removeFirst(newline + 1)
                    state.readOffset += newline + 1
                    state.read += 1
                    do {
                        samples.append(try Self.decode(line))
                    } catch {
                        throw SpoolError(path: path, reason: "line \(state.read): \(error)")
                    }
                }
            }
            state.carry.removeAll()
            return samples
        }
    }

    /// Syncs the file; removes it when everything was read back.
    public func close() {
        let path = self.path
        state.withLock { state in
            if state.writeHandle >= 0 {
                fsync(state.writeHandle)
                Glibc.close(state.writeHandle)
                state.writeHandle = -1
            }
            if state.appended > 0 && state.appended == state.read { unlink(path) }
        }
    }

    /// One sample as a JSON line (without the newline).
    public static func encode(_ sample: PluginSample) -> String {
        let tags = JSONValue.array(sample.tags.map { .array([.string($0.key), .string($0.value)]) })
        let fields = JSONValue.array(
            sample.fields.compactMap { field -> JSONValue? in
                let value: JSONValue
                switch field.value {
                case .float(let d):
                    guard d.isFinite else { return nil }  // absent, never a made-up number
                    value = .number(d)
                case .integer(let i): value = .integer(i)
                case .unsigned(let u): value = .string(String(u))  // beyond Int64 in JSON integers
                case .boolean(let b): value = .bool(b)
                case .string(let s): value = .string(s)
                }
                return .array([.string(field.key), .string(field.value.schemaType), value])
            }
        )
        return JSONValue.object([("m", .string(sample.measurement)), ("t", tags), ("f", fields), ("ts", .integer(sample.timestampNanoseconds))]).jsonText
    }

    /// Parses a line written by ``encode(_:)``.
    public static func decode(_ line: String) throws(SpoolError) -> PluginSample {
        func bad(_ why: String) -> SpoolError { SpoolError(path: "", reason: why) }
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
        } catch {
            throw bad("\(error)")
        }
        guard let measurement = value["m"]?.stringValue, case .integer(let timestamp)? = value["ts"],
            let tagList = value["t"]?.arrayValue, let fieldList = value["f"]?.arrayValue
        else { throw bad("not a spooled sample") }
        var tags: [(key: String, value: String)] = []
        for tag in tagList {
            guard let pair = tag.arrayValue, pair.count == 2, let key = pair[0].stringValue, let text = pair[1].stringValue else {
                throw bad("malformed tag")
            }
            tags.append((key, text))
        }
        var fields: [(key: String, value: PluginFieldValue)] = []
        for field in fieldList {
            guard let triple = field.arrayValue, triple.count == 3, let key = triple[0].stringValue, let type = triple[1].stringValue else {
                throw bad("malformed field")
            }
            switch (type, triple[2]) {
            case ("f64", let number): guard let d = number.doubleValue else { throw bad("field \(key): not a number") }; fields.append((key, .float(d)))
            case ("i64", .integer(let i)): fields.append((key, .integer(i)))
            case ("u64", .string(let text)): guard let u = UInt64(text) else { throw bad("field \(key): not a u64") }; fields.append((key, .unsigned(u)))
            case ("bool", .bool(let b)): fields.append((key, .boolean(b)))
            case ("string", .string(let s)): fields.append((key, .string(s)))
            default: throw bad("field \(key): type \(type) does not match its value")
            }
        }
        return PluginSample(measurement: measurement, tags: tags, fields: fields, timestampNanoseconds: timestamp)
    }
}
