@testable import PluginHost
import PluginABI
import RDT4NNPluginSDK
import Testing

/// The host's copy of emitted C batches, and the string reuse between batches.
@Suite struct BatchCopyTests {
    /// Runs C strings through one `StringReuse`, batch by batch.
    private func reuse(_ batches: [[String]]) -> [[String]] {
        var strings = StringReuse()
        return batches.map { batch in
            strings.beginBatch()
            return batch.map { text in text.withCString { strings.string($0) } }
        }
    }

    @Test func reusedStringsAlwaysEqualTheBytesGiven() {
        let batches = [
            ["docker_stats", "memory_working_set_bytes", "cpu", "", "é-ü"],
            ["docker_stats", "memory_working_set_bytes", "cpu", "", "é-ü"],
            // Same prefix longer, same prefix shorter, empty to non-empty and back.
            ["docker_stats_x", "memory", "cpu_usage_ns", "x", ""],
            ["docker", "memory_working_set_bytes_and_more", "c", "", "é-ü"],
            // Fewer strings, then more than before.
            ["a"],
            ["a", "b", "c", "d", "e", "f", "g"],
        ]
        #expect(reuse(batches) == batches)
    }

    @Test func aBatchLargerThanTheCacheIsStillCopiedExactly() {
        let big = (0..<(StringReuse.capacity + 10)).map { "field_name_number_\($0)" }
        let changed = big.map { $0 + "!" }
        #expect(reuse([big, big, changed, big]) == [big, big, changed, big])
    }

    @Test func successiveBatchesOfDifferentShapeCopyExactly() throws {
        let first = [
            PluginSample(measurement: "docker_stats", fields: [("memory_working_set_bytes", .integer(1)), ("cpu_percent", .float(2.5))], timestampNanoseconds: 10),
            PluginSample(measurement: "perf_raw", tags: [("event", "r412e")], fields: [("count", .unsigned(3)), ("note", .string("a string value"))], timestampNanoseconds: 11),
        ]
        let second = [
            PluginSample(measurement: "perf_raw", tags: [("event", "r01a2"), ("cpu", "3")], fields: [("count", .unsigned(4)), ("flag", .boolean(true))], timestampNanoseconds: 12),
            PluginSample(measurement: "docker_stats", fields: [("memory_working_set_bytes_peak", .integer(5))], timestampNanoseconds: 13),
        ]
        var strings = StringReuse()
        for batch in [first, second, first, first, second] {
            let copied = try CBatchBuilder.withBatch(batch) { pointer in
                Result { () throws(PluginContractError) in try BatchCopier.copy(pointer, strings: &strings) }
            }.get()
            #expect(copied == batch)
        }
    }
}
