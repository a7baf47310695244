import RDT4NNPluginSDK

/// Where one field's key and value sit in the batch arena.
private struct FieldLayout {
    var key: Int
    var type: UInt32
    var bits: UInt64
    var string: Int
}

/// Lays host samples out as a C `rdt4nn_batch` for one call.
public enum CBatchBuilder {
    /// Calls `body` with a batch whose pointers are valid during the call only.
    public static func withBatch<R>(_ samples: [PluginSample], _ body: (UnsafePointer<rdt4nn_batch>) -> R) -> R {
        // One arena holds every string, NUL-terminated; pointers are computed
        // once the arena no longer grows.  Offsets go into flat arrays (no
        // per-string or per-sample allocation: this runs for every batch).
        var arena: [CChar] = []
        arena.reserveCapacity(samples.count * 256)
        func intern(_ s: String) -> Int {
            let offset = arena.count
            var s = s
            s.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { arena.append(contentsOf: $0) }
            }
            arena.append(0)
            return offset
        }
        var measurementOffsets: [Int] = []
        measurementOffsets.reserveCapacity(samples.count)
        var tagOffsetsFlat: [(Int, Int)] = []
        var fieldLayoutsFlat: [FieldLayout] = []
        for sample in samples {
            measurementOffsets.append(intern(sample.measurement))
            for tag in sample.tags { tagOffsetsFlat.append((intern(tag.key), intern(tag.value))) }
            for field in sample.fields {
                let key = intern(field.key)
                let layout: FieldLayout
                switch field.value {
                case .float(let d): layout = FieldLayout(key: key, type: RDT4NN_FIELD_F64, bits: d.bitPattern, string: -1)
                case .integer(let i): layout = FieldLayout(key: key, type: RDT4NN_FIELD_I64, bits: UInt64(bitPattern: i), string: -1)
                case .unsigned(let u): layout = FieldLayout(key: key, type: RDT4NN_FIELD_U64, bits: u, string: -1)
                case .boolean(let b): layout = FieldLayout(key: key, type: RDT4NN_FIELD_BOOL, bits: b ? 1 : 0, string: -1)
                case .string(let s): layout = FieldLayout(key: key, type: RDT4NN_FIELD_STRING, bits: 0, string: intern(s))
                }
                fieldLayoutsFlat.append(layout)
            }
        }
        return arena.withUnsafeBufferPointer { arenaBuffer in
            let base = arenaBuffer.baseAddress!
            let tagCount = tagOffsetsFlat.count
            let fieldCount = fieldLayoutsFlat.count
            let tags = UnsafeMutablePointer<rdt4nn_tag>.allocate(capacity: max(tagCount, 1))
            let fields = UnsafeMutablePointer<rdt4nn_field>.allocate(capacity: max(fieldCount, 1))
            let cSamples = UnsafeMutablePointer<rdt4nn_sample>.allocate(capacity: max(samples.count, 1))
            defer {
                tags.deallocate()
                fields.deallocate()
                cSamples.deallocate()
            }
            var tagCursor = 0
            var fieldCursor = 0
            for (index, sample) in samples.enumerated() {
                let firstTag = tagCursor
                for _ in 0..<sample.tags.count {
                    let (key, value) = tagOffsetsFlat[tagCursor]
                    tags[tagCursor] = rdt4nn_tag(key: base + key, value: base + value)
                    tagCursor += 1
                }
                let firstField = fieldCursor
                for _ in 0..<sample.fields.count {
                    let layout = fieldLayoutsFlat[fieldCursor]
                    var field = rdt4nn_field()
                    field.key = base + layout.key
                    field.type = layout.type
                    if layout.string >= 0 {
                        field.v.str = base + layout.string
                    } else {
                        field.v.u64 = layout.bits
                    }
                    fields[fieldCursor] = field
                    fieldCursor += 1
                }
                cSamples[index] = rdt4nn_sample(
                    struct_size: UInt32(MemoryLayout<rdt4nn_sample>.size),
                    n_tags: UInt32(sample.tags.count),
                    n_fields: UInt32(sample.fields.count),
                    reserved: 0,
                    measurement: base + measurementOffsets[index],
                    tags: UnsafePointer(tags + firstTag),
                    fields: UnsafePointer(fields + firstField),
                    t_real_ns: sample.timestampNanoseconds
                )
            }
            var batch = rdt4nn_batch(
                struct_size: UInt32(MemoryLayout<rdt4nn_batch>.size),
                count: UInt32(samples.count),
                n_common: 0,
                reserved: 0,
                samples: UnsafePointer(cSamples),
                common_tags: nil
            )
            return withUnsafePointer(to: &batch) { body($0) }
        }
    }
}
