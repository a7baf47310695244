import RDT4NNPluginSDK
import Testing

/// Mirrors the header's `_Static_assert`s: the ABI 1.0 layout as Swift sees it.
struct ABILayoutTests {
    @Test func structSizesAreFrozen() {
        #expect(MemoryLayout<rdt4nn_tag>.size == 16)
        #expect(MemoryLayout<rdt4nn_field>.size == 24)
        #expect(MemoryLayout<rdt4nn_sample>.size == 48)
        #expect(MemoryLayout<rdt4nn_batch>.size == 32)
        #expect(MemoryLayout<rdt4nn_target>.size == 56)
        #expect(MemoryLayout<rdt4nn_host_api>.size == 112)
        #expect(MemoryLayout<rdt4nn_collect_args>.size == 40)
        #expect(MemoryLayout<rdt4nn_collector_vtable>.size == 48)
        #expect(MemoryLayout<rdt4nn_placement>.size == 32)
        #expect(MemoryLayout<rdt4nn_tick_args>.size == 32)
        #expect(MemoryLayout<rdt4nn_scheduler_vtable>.size == 64)
        #expect(MemoryLayout<rdt4nn_write_result>.size == 40)
        #expect(MemoryLayout<rdt4nn_sink_vtable>.size == 56)
        #expect(MemoryLayout<rdt4nn_plugin_desc>.size == 96)
        #expect(MemoryLayout<rdt4nn_plugin_entry_t>.size == 56)
    }

    @Test func fieldOffsetsAreFrozen() {
        #expect(MemoryLayout<rdt4nn_field>.offset(of: \.v) == 16)
        #expect(MemoryLayout<rdt4nn_sample>.offset(of: \.t_real_ns) == 40)
        #expect(MemoryLayout<rdt4nn_host_api>.offset(of: \.log) == 8)
        #expect(MemoryLayout<rdt4nn_host_api>.offset(of: \.get_extension) == 104)
        #expect(MemoryLayout<rdt4nn_plugin_desc>.offset(of: \.id) == 8)
        #expect(MemoryLayout<rdt4nn_plugin_desc>.offset(of: \.vtable) == 88)
        #expect(MemoryLayout<rdt4nn_plugin_entry_t>.offset(of: \.abi_major) == 8)
        #expect(MemoryLayout<rdt4nn_plugin_entry_t>.offset(of: \.sdk_version) == 16)
        #expect(MemoryLayout<rdt4nn_plugin_entry_t>.offset(of: \.library_init) == 24)
        #expect(MemoryLayout<rdt4nn_write_result>.offset(of: \.retry_after_ns) == 32)
    }

    @Test func constantsMatchTheDesign() {
        #expect(RDT4NN_MAGIC == 0x4E4E_3452)
        #expect(RDT4NN_ABI_MAJOR == 1)
        #expect(RDT4NN_OK == 0)
        #expect([RDT4NN_E_RETRY, RDT4NN_E_UNSUPPORTED, RDT4NN_E_CONFIG, RDT4NN_E_PERMISSION, RDT4NN_E_FATAL] == [1, 2, 3, 4, 5])
        #expect([RDT4NN_KIND_COLLECTOR, RDT4NN_KIND_SCHEDULER, RDT4NN_KIND_SINK] == [1, 2, 3])
        // "R4NN" in little-endian memory.
        withUnsafeBytes(of: RDT4NN_MAGIC.littleEndian) { #expect(Array($0) == Array("R4NN".utf8)) }
    }
}
