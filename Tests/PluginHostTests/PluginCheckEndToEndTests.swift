import Foundation
import Testing

/// `rdt4nn plugins check` and `plugins list` run as a user would: the built
/// binary against built plugin files.
@Suite struct PluginCheckEndToEndTests {
    @Test func theCExamplePassesTheCheck() throws {
        let path = try MixedPluginsTests.buildCExample()
        let result = try TestSupport.rdt4nn(["plugins", "check", path, "--collections", "3", "--interval-ms", "20"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("emitted 3 sample(s)"))
        #expect(result.stdout.hasSuffix("PASSED: \(path)\n"))
    }

    @Test func theBuiltInProcstatPassesTheCheck() throws {
        let result = try TestSupport.rdt4nn(["plugins", "check", try TestSupport.product("rdt4nn-procstat"), "--collections", "2", "--interval-ms", "20"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("procstat (collector 1.0.0)"))
    }

    @Test func aCrashInCollectIsReportedWithoutKillingTheCaller() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_CRASH_IN_COLLECT"], into: dir)
        let result = try TestSupport.rdt4nn(["plugins", "check", path, "--collections", "3", "--interval-ms", "1"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAILURE: the check process crashed with SIGSEGV (signal 11) during collect #2 of plugin 'test.fixture'"), "\(result.stdout)")
        #expect(result.stdout.hasSuffix("FAILED: \(path)\n"))
    }

    @Test func aHangIsKilledAndReported() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_HANG_IN_COLLECT"], into: dir)
        let result = try TestSupport.rdt4nn(["plugins", "check", path, "--collections", "1", "--interval-ms", "1", "--timeout", "2"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAILURE: the check process hung: no result within 2 s (stuck in collect #1 of plugin 'test.fixture'); killed"), "\(result.stdout)")
    }

    @Test func emitAfterStopIsAViolation() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_EMIT_AFTER_STOP"], into: dir)
        let result = try TestSupport.rdt4nn(["plugins", "check", path, "--collections", "1", "--interval-ms", "1"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("VIOLATION: emit called after stop returned; the batch was dropped"), "\(result.stdout)")
    }

    @Test func nonOKWithoutSetErrorIsAViolation() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_NO_SET_ERROR"], into: dir)
        let result = try TestSupport.rdt4nn(["plugins", "check", path, "--collections", "2", "--interval-ms", "1"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("VIOLATION: collect returned RETRY without calling set_error"), "\(result.stdout)")
    }

    @Test func samplesOutsideTheMetricsSchemaAreViolations() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_UNDECLARED_FIELD"], into: dir)
        let result = try TestSupport.rdt4nn(["plugins", "check", path, "--collections", "1", "--interval-ms", "1"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("VIOLATION: field 'fixture.undeclared' is not declared in the metrics schema"), "\(result.stdout)")
    }

    @Test func aRefusedFileFailsTheCheckWithItsReason() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_ABI_MAJOR=2"], into: dir)
        let result = try TestSupport.rdt4nn(["plugins", "check", path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("REFUSED: plugin built for rdt4nn ABI 2.0, host supports ABI 1.x (1.0); rebuild it against this SDK"))
    }

    @Test func listShowsLoadedPluginsAndEveryRefusal() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let example = try MixedPluginsTests.buildCExample()
        try FileManager.default.copyItem(atPath: example, toPath: dir + "/librdt4nn-example-loadavg.so")
        try FileManager.default.copyItem(atPath: try TestSupport.product("rdt4nn-procstat"), toPath: dir + "/librdt4nn-procstat.so")
        try TestSupport.compileFixture(["-DFIXTURE_MAGIC=0x1u"], into: dir, name: "libwrong-magic.so")
        try "text".write(toFile: dir + "/libtext.so", atomically: false, encoding: .utf8)
        chmod(dir + "/libtext.so", 0o644)
        let result = try TestSupport.rdt4nn(["plugins", "list", "--plugins", dir])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("org.rdt4nn.example.loadavg collector 1.0.0 \(dir)/librdt4nn-example-loadavg.so 1.0 loaded"))
        #expect(lines.contains("procstat collector 1.0.0 \(dir)/librdt4nn-procstat.so 1.0 loaded"))
        #expect(lines.contains("- - - \(dir)/libtext.so - refused: not an ELF shared object (starts with 74 65 78 74)"))
        #expect(lines.contains("- - - \(dir)/libwrong-magic.so - refused: wrong magic 0x1 (expected 0x4E4E3452, \"R4NN\"); not an rdt4nn plugin"))
        #expect(lines.last == "2 plugin(s) loaded, 2 refused.")
    }

    @Test func describeShowsSchemaAndMetrics() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        try FileManager.default.copyItem(atPath: try TestSupport.product("rdt4nn-procstat"), toPath: dir + "/librdt4nn-procstat.so")
        let result = try TestSupport.rdt4nn(["plugins", "describe", "procstat", "--plugins", dir])
        #expect(result.status == 0)
        #expect(result.stdout.contains("per_cpu    boolean  false    Also emit one procstat_cpu sample per logical CPU (tag cpu)."))
        #expect(result.stdout.contains("procstat      memory_used_bytes            i64   By    gauge  MemTotal - MemAvailable"))
        let missing = try TestSupport.rdt4nn(["plugins", "describe", "nope", "--plugins", dir])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("plugin not found: 'nope'"))
    }

    @Test func versionAndUsageErrors() throws {
        let version = try TestSupport.rdt4nn(["version"])
        #expect(version.stdout == "rdt4nn 0.1.0\nplugin ABI 1.0 (SDK 1.0.0)\n")
        let usage = try TestSupport.rdt4nn(["plugins", "check"])
        #expect(usage.status == 64)
        #expect(usage.stderr == "error: missing <file>\nSee 'rdt4nn plugins check --help'.\n")
        let unknown = try TestSupport.rdt4nn(["frobnicate"])
        #expect(unknown.status == 64)
        let help = try TestSupport.rdt4nn(["plugins", "check", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: rdt4nn plugins check [--config <file.json>]"))
    }

    @Test func runAndValidateNameAMissingConfigFile() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let run = try TestSupport.rdt4nn(["run", "--plugins", dir, dir + "/bench.yaml"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("error: \(dir)/bench.yaml: no such file"), "\(run.stderr)")
        let validate = try TestSupport.rdt4nn(["validate", dir + "/bench.yaml"])
        #expect(validate.status == 1)
    }
}
