import PluginABI
import Testing

struct CPUListTests {
    @Test func parsesAndPrintsCanonically() throws {
        #expect(try CPUList(parsing: "0-3,8\n").cpus == [0, 1, 2, 3, 8])
        #expect(try CPUList(parsing: "8,0-1,1").description == "0-1,8")
        #expect(try CPUList(parsing: "").isEmpty)
        #expect(CPUList([5, 3, 4, 9]).description == "3-5,9")
    }

    @Test func rejectsMalformedLists() {
        #expect(throws: CPUListError(text: "0-", part: "0-")) { try CPUList(parsing: "0-") }
        #expect(throws: CPUListError(text: "3-1", part: "3-1")) { try CPUList(parsing: "3-1") }
        #expect(throws: CPUListError(text: "a", part: "a")) { try CPUList(parsing: "a") }
        #expect(throws: CPUListError(text: "1,,2", part: "")) { try CPUList(parsing: "1,,2") }
        #expect(CPUListError(text: "x", part: "x").description == "'x' is not a CPU list like \"0-3,8\" (bad element 'x')")
    }
}
