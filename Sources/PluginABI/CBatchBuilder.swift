import RDT4NNPluginSDK

/// Lays host samples out as a C `rdt4nn_batch` for one call.
public enum CBatchBuilder {
    /// Calls `body` with a batch whose pointers are valid during the call only.
    public static func withBatch<R>(_ samples: [PluginSample], _ body: (UnsafePointer<rdt4nn_batch>) -> R) -> R {
        // Two passes and at most one allocation per batch (this runs for
        // every batch): the first sizes everything, the second copies each
        // string, NUL-terminated, into an arena that never moves and fills
        // the C structs with pointers into it.
        var tagCount = 0
        var fieldCount = 0
        var arenaSize = 0
        for sample in samples {
            arenaSize &+= sample.measurement.utf8.count &+ 1
            tagCount &+= sample.tags.count
            fieldCount &+= sample.fields.count
            for tag in sample.tags {
                arenaSize &+= tag.key.utf8.count &+ tag.value.utf8.count &+ 2
            }
            for field in sample.fields {
                arenaSize &+= field.key.utf8.count &+ 1
                if case .string(let text) = field.value { arenaSize &+= text.utf8.count &+ 1 }
            }
        }
        // One block holds the samples, fields, tags and strings (in that
        // order, so that each part is aligned); a small batch lives on the
        // stack (`withUnsafeTemporaryAllocation`), a large one on the heap.
        let samplesBytes = MemoryLayout<rdt4nn_sample>.stride * max(samples.count, 1)
        let fieldsBytes = MemoryLayout<rdt4nn_field>.stride * max(fieldCount, 1)
        let tagsBytes = MemoryLayout<rdt4nn_tag>.stride * max(tagCount, 1)
        let totalBytes = samplesBytes + fieldsBytes + tagsBytes + max(arenaSize, 1)
        let alignment = max(MemoryLayout<rdt4nn_sample>.alignment, MemoryLayout<rdt4nn_field>.alignment, MemoryLayout<rdt4nn_tag>.alignment)
        return withUnsafeTemporaryAllocation(byteCount: totalBytes, alignment: alignment) { block in
            let base = block.baseAddress!
            let cSamples = base.bindMemory(to: rdt4nn_sample.self, capacity: max(samples.count, 1))
            let fields = (base + samplesBytes).bindMemory(to: rdt4nn_field.self, capacity: max(fieldCount, 1))
            let tags = (base + samplesBytes + fieldsBytes).bindMemory(to: rdt4nn_tag.self, capacity: max(tagCount, 1))
            let arena = (base + samplesBytes + fieldsBytes + tagsBytes).bindMemory(to: CChar.self, capacity: max(arenaSize, 1))
            return fill(samples, cSamples: cSamples, fields: fields, tags: tags, arena: arena, body)
        }
    }

    /// Lays `samples` out in the given memory and calls `body`.
    private static func fill<R>(
        _ samples: [PluginSample],
        cSamples: UnsafeMutablePointer<rdt4nn_sample>,
        fields: UnsafeMutablePointer<rdt4nn_field>,
        tags: UnsafeMutablePointer<rdt4nn_tag>,
        arena: UnsafeMutablePointer<CChar>,
        _ body: (UnsafePointer<rdt4nn_batch>) -> R
    ) -> R {
        var used = 0
        /// Copies `text` and its NUL to the arena; returns where it starts.
        func intern(_ text: String) -> UnsafePointer<CChar> {
            let start = arena + used
            let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Int in
                if let base = bytes.baseAddress {
                    UnsafeMutableRawPointer(start).copyMemory(from: base, byteCount: bytes.count)
                }
                return bytes.count
            }
            let count: Int
            if let copied {
                count = copied
            } else {
                // Not stored as contiguous UTF-8 (bridged strings): copy byte by byte.
                var index = 0
                for byte in text.utf8 {
                    start[index] = CChar(bitPattern: byte)
                    index &+= 1
                }
                count = index
            }
            start[count] = 0
            used &+= count &+ 1
            return UnsafePointer(start)
        }
        var tagCursor = 0
        var fieldCursor = 0
        for (index, sample) in samples.enumerated() {
            let firstTag = tags + tagCursor
            for tag in sample.tags {
                tags[tagCursor] = rdt4nn_tag(key: intern(tag.key), value: intern(tag.value))
                tagCursor &+= 1
            }
            let firstField = fields + fieldCursor
            for field in sample.fields {
                var cField = rdt4nn_field()
                cField.key = intern(field.key)
                switch field.value {
                case .float(let d):
                    cField.type = RDT4NN_FIELD_F64
                    cField.v.f64 = d
                case .integer(let i):
                    cField.type = RDT4NN_FIELD_I64
                    cField.v.i64 = i
                case .unsigned(let u):
                    cField.type = RDT4NN_FIELD_U64
                    cField.v.u64 = u
                case .boolean(let b):
                    cField.type = RDT4NN_FIELD_BOOL
                    cField.v.u64 = b ? 1 : 0
                case .string(let text):
                    cField.type = RDT4NN_FIELD_STRING
                    cField.v.str = intern(text)
                }
                fields[fieldCursor] = cField
                fieldCursor &+= 1
            }
            cSamples[index] = rdt4nn_sample(
                struct_size: UInt32(MemoryLayout<rdt4nn_sample>.size),
                n_tags: UInt32(sample.tags.count),
                n_fields: UInt32(sample.fields.count),
                reserved: 0,
                measurement: intern(sample.measurement),
                tags: UnsafePointer(firstTag),
                fields: UnsafePointer(firstField),
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
