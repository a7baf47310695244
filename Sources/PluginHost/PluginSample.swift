import PluginABI
import RDT4NNPluginSDK

/// Tag keys the host adds to every sample; plugins must not set them.
public let hostOwnedTagKeys: Set<String> = ["benchmark_id", "container_id", "container_name", "container_index", "collector"]

/// Copies a C batch into host-owned samples, validating every pointer.
enum BatchCopier {
    /// - Throws: a message naming the malformed part (`RDT4NN_E_INVALID`).
    static func copy(_ batch: UnsafePointer<rdt4nn_batch>?) throws(PluginContractError) -> [PluginSample] {
        guard let batch else { throw PluginContractError("emit: batch is NULL") }
        let header = batch.pointee
        guard header.struct_size >= UInt32(MemoryLayout<rdt4nn_batch>.size) else {
            throw PluginContractError("emit: batch struct_size \(header.struct_size) is smaller than \(MemoryLayout<rdt4nn_batch>.size)")
        }
        guard header.count == 0 || header.samples != nil else { throw PluginContractError("emit: batch.samples is NULL with count \(header.count)") }
        let common = try copyTags(header.common_tags, count: header.n_common, what: "common tag")
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
            let measurement = String(cString: measurementPointer)
            guard sample.n_fields > 0, let fieldsPointer = sample.fields else {
                throw PluginContractError("emit: sample \(index) ('\(measurement)') has no fields")
            }
            let tags = try copyTags(sample.tags, count: sample.n_tags, what: "tag of '\(measurement)'")
            var fields: [(key: String, value: PluginFieldValue)] = []
            fields.reserveCapacity(Int(sample.n_fields))
            for fieldIndex in 0..<Int(sample.n_fields) {
                let field = fieldsPointer[fieldIndex]
                guard let keyPointer = field.key, keyPointer.pointee != 0 else {
                    throw PluginContractError("emit: field \(fieldIndex) of '\(measurement)' has no key")
                }
                let key = String(cString: keyPointer)
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
                    value = .string(String(cString: string))
                default:
                    throw PluginContractError("emit: field '\(measurement).\(key)' has unknown type \(field.type)")
                }
                fields.append((key, value))
            }
            samples.append(PluginSample(measurement: measurement, tags: common + tags, fields: fields, timestampNanoseconds: sample.t_real_ns))
        }
        return samples
    }

    private static func copyTags(
        _ pointer: UnsafePointer<rdt4nn_tag>?,
        count: UInt32,
        what: String
    ) throws(PluginContractError) -> [(key: String, value: String)] {
        guard count > 0 else { return [] }
        guard let pointer else { throw PluginContractError("emit: \(count) \(what)s announced but the array is NULL") }
        var tags: [(key: String, value: String)] = []
        for index in 0..<Int(count) {
            guard let key = pointer[index].key, let value = pointer[index].value, key.pointee != 0, value.pointee != 0 else {
                throw PluginContractError("emit: \(what) \(index) has an empty or NULL key or value")
            }
            let keyString = String(cString: key)
            if hostOwnedTagKeys.contains(keyString) {
                throw PluginContractError("emit: \(what) '\(keyString)' is set by the host; plugins must not set it")
            }
            tags.append((keyString, String(cString: value)))
        }
        return tags
    }
}
