#if canImport(Glibc)
import Glibc
#endif
import PluginABI
import RDT4NNPluginSDK

/// Tag keys the host adds to every sample; plugins must not set them.
public let hostOwnedTagKeys: Set<String> = ["benchmark_id", "container_id", "container_name", "container_index", "collector"]

/// Turns the C strings of one instance's batches into Swift strings, handing
/// back the string made for the same position of the previous batch when
/// the bytes are equal.
///
/// A collector emits the same measurement, tag and field names on every
/// tick; comparing a few bytes is much cheaper than allocating a new string
/// for each of them (names longer than 15 bytes live on the heap).  The
/// cache holds at most ``capacity`` strings, so one huge batch cannot make
/// it grow without bound.  Not thread-safe: the owner serialises access.
struct StringReuse {
    /// The most strings remembered.
    static let capacity = 4096
    private var cache: [String] = []
    private var position = 0

    /// Starts a batch: positions count from zero again.
    mutating func beginBatch() { position = 0 }

    /// The string at `pointer` (NUL-terminated).
    mutating func string(_ pointer: UnsafePointer<CChar>) -> String {
        let index = position
        position &+= 1
        if index < cache.count {
            if Self.equals(&cache[index], pointer) { return cache[index] }
            let fresh = String(cString: pointer)
            cache[index] = fresh
            return fresh
        }
        let fresh = String(cString: pointer)
        if cache.count < Self.capacity { cache.append(fresh) }
        return fresh
    }

    private static func equals(_ cached: inout String, _ pointer: UnsafePointer<CChar>) -> Bool {
        cached.withUTF8 { bytes in
            let count = bytes.count
            guard count > 0, let base = bytes.baseAddress else { return pointer.pointee == 0 }
            // strncmp stops at the C string's NUL, so a shorter C string is
            // never read past its end.
            return base.withMemoryRebound(to: CChar.self, capacity: count) { strncmp($0, pointer, count) } == 0
                && pointer[count] == 0
        }
    }
}

/// Copies a C batch into host-owned samples, validating every pointer.
enum BatchCopier {
    /// - Parameter strings: reuses the strings of the instance's previous batch.
    /// - Throws: a message naming the malformed part (`RDT4NN_E_INVALID`).
    static func copy(_ batch: UnsafePointer<rdt4nn_batch>?, strings: inout StringReuse) throws(PluginContractError) -> [PluginSample] {
        strings.beginBatch()
        guard let batch else { throw PluginContractError("emit: batch is NULL") }
        let header = batch.pointee
        guard header.struct_size >= UInt32(MemoryLayout<rdt4nn_batch>.size) else {
            throw PluginContractError("emit: batch struct_size \(header.struct_size) is smaller than \(MemoryLayout<rdt4nn_batch>.size)")
        }
        guard header.count == 0 || header.samples != nil else { throw PluginContractError("emit: batch.samples is NULL with count \(header.count)") }
        let common = try copyTags(header.common_tags, count: header.n_common, what: "common tag", strings: &strings)
        var samples: [PluginSample] = []
        samples.reserveCapacity(Int(header.count))
        for index in 0..<Int(header.count) {
            let sample = header.samples[index]
            guard sample.struct_size >= UInt32(MemoryLayout<rdt4nn_sample>.size) else {
                throw PluginContractError("emit: sample \(index) has struct_size \(sample.struct_size), expected \(MemoryLayout<rdt4nn_sample>.size)")
            }
            guard let measurementPointer = sample.measurement, measurementPointer.pointee != 0 else {
                throw PluginContractError("emit: sample \(index) has no measurement name")
            }
            let measurement = strings.string(measurementPointer)
            guard sample.n_fields > 0, let fieldsPointer = sample.fields else {
                throw PluginContractError("emit: sample \(index) ('\(measurement)') has no fields")
            }
            let tags = try copyTags(sample.tags, count: sample.n_tags, what: "tag of '\(measurement)'", strings: &strings)
            var fields: [(key: String, value: PluginFieldValue)] = []
            fields.reserveCapacity(Int(sample.n_fields))
            for fieldIndex in 0..<Int(sample.n_fields) {
                let field = fieldsPointer[fieldIndex]
                guard let keyPointer = field.key, keyPointer.pointee != 0 else {
                    throw PluginContractError("emit: field \(fieldIndex) of '\(measurement)' has no key")
                }
                let key = strings.string(keyPointer)
                let value: PluginFieldValue
                switch field.type {
                case RDT4NN_FIELD_F64: value = .float(field.v.f64)
                case RDT4NN_FIELD_I64: value = .integer(field.v.i64)
                case RDT4NN_FIELD_U64: value = .unsigned(field.v.u64)
                case RDT4NN_FIELD_BOOL:
                    guard field.v.u64 <= 1 else {
                        throw PluginContractError("emit: bool field '\(measurement).\(key)' holds \(field.v.u64), expected 0 or 1")
                    }
                    value = .boolean(field.v.u64 == 1)
                case RDT4NN_FIELD_STRING:
                    guard let string = field.v.str else { throw PluginContractError("emit: string field '\(measurement).\(key)' is NULL") }
                    value = .string(strings.string(string))
                default:
                    throw PluginContractError("emit: field '\(measurement).\(key)' has unknown type \(field.type)")
                }
                fields.append((key, value))
            }
            samples.append(PluginSample(measurement: measurement, tags: common.isEmpty ? tags : common + tags, fields: fields, timestampNanoseconds: sample.t_real_ns))
        }
        return samples
    }

    private static func copyTags(
        _ pointer: UnsafePointer<rdt4nn_tag>?,
        count: UInt32,
        what: String,
        strings: inout StringReuse
    ) throws(PluginContractError) -> [(key: String, value: String)] {
        guard count > 0 else { return [] }
        guard let pointer else { throw PluginContractError("emit: \(count) \(what)s announced but the array is NULL") }
        var tags: [(key: String, value: String)] = []
        tags.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let key = pointer[index].key, let value = pointer[index].value, key.pointee != 0, value.pointee != 0 else {
                throw PluginContractError("emit: \(what) \(index) has an empty or NULL key or value")
            }
            let keyString = strings.string(key)
            if hostOwnedTagKeys.contains(keyString) {
                throw PluginContractError("emit: \(what) '\(keyString)' is set by the host; plugins must not set it")
            }
            tags.append((keyString, strings.string(value)))
        }
        return tags
    }
}
