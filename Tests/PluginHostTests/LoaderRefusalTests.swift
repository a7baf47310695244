import Foundation
import PluginHost
import Testing

/// Every refusal the loader makes, with its exact message.
@Suite struct LoaderRefusalTests {
    private func refusal(in directory: String, file: String = "libfixture.so") throws -> String {
        let catalog = try PluginLoader().load(directories: [directory])
        let report = try #require(catalog.files.first { $0.path.hasSuffix("/" + file) })
        let refusal = try #require(report.refusals.first, "expected a refusal for \(file)")
        return refusal.description
    }

    @Test func symbolicLinkIsNotARegularFile() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let real = try TestSupport.compileFixture([], into: dir, name: "real.bin")
        try FileManager.default.createSymbolicLink(atPath: dir + "/libfixture.so", withDestinationPath: real)
        #expect(try refusal(in: dir) == "refused \(dir)/libfixture.so: not a regular file (symbolic link); plugins must be regular files, not links or devices")
    }

    @Test func directoryNamedLikeAPluginIsNotARegularFile() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/libfixture.so", withIntermediateDirectories: false)
        #expect(try refusal(in: dir) == "refused \(dir)/libfixture.so: not a regular file (directory); plugins must be regular files, not links or devices")
    }

    @Test func fileWritableByOthersIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture([], into: dir)
        chmod(path, 0o666)
        #expect(try refusal(in: dir) == "refused \(path): \(path) is writable by group or others (mode 666); run 'chmod go-w \(path)'")
    }

    @Test func fileWritableByGroupIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture([], into: dir)
        chmod(path, 0o664)
        #expect(try refusal(in: dir) == "refused \(path): \(path) is writable by group or others (mode 664); run 'chmod go-w \(path)'")
    }

    @Test func directoryWritableByOthersIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture([], into: dir)
        chmod(dir, 0o777)
        #expect(try refusal(in: dir) == "refused \(path): \(dir) is writable by group or others (mode 777); run 'chmod go-w \(dir)'")
    }

    @Test func fileOwnedBySomeoneElseIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture([], into: dir)
        if getuid() == 0 {
            #expect(chown(path, 12345, 12345) == 0)
            #expect(try refusal(in: dir) == "refused \(path): \(path) is owned by uid 12345, not by root; the host runs privileged and only loads files it can trust")
        } else {
            // Without root we cannot give a file away; trust only root instead.
            let loader = PluginLoader(vetting: PluginFileVetting(trustedOwners: [0]))
            let refusal = try #require(loader.load(files: [path]).refusals.first)
            #expect(refusal.description == "refused \(path): \(path) is owned by uid \(getuid()), not by root; the host runs privileged and only loads files it can trust")
        }
    }

    @Test func nonELFFileIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = dir + "/libfixture.so"
        try "#!/bin/sh\necho not a plugin\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o644)
        #expect(try refusal(in: dir) == "refused \(path): not an ELF shared object (starts with 23 21 2f 62)")
    }

    @Test func emptyFileIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = dir + "/libfixture.so"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0o644]))
        #expect(try refusal(in: dir) == "refused \(path): not an ELF shared object (starts with nothing: the file is empty)")
    }

    @Test func missingEntrySymbolIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DRDT4NN_EXPORT="], into: dir)
        let message = try refusal(in: dir)
        #expect(message.hasPrefix("refused \(path): no exported symbol 'rdt4nn_plugin_entry' ("))
        #expect(message.hasSuffix("); build with RDT4NN_EXPORT and the rdt4nn.version script"))
        #expect(message.contains("undefined symbol: rdt4nn_plugin_entry"))
    }

    @Test func nullEntryIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_NULL_ENTRY"], into: dir)
        #expect(try refusal(in: dir) == "refused \(path): rdt4nn_plugin_entry() returned NULL")
    }

    @Test func wrongMagicIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_MAGIC=0x12345678u"], into: dir)
        #expect(try refusal(in: dir) == "refused \(path): wrong magic 0x12345678 (expected 0x4E4E3452, \"R4NN\"); not an rdt4nn plugin")
    }

    @Test func otherABIMajorIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_ABI_MAJOR=2"], into: dir)
        #expect(try refusal(in: dir) == "refused \(path): plugin built for rdt4nn ABI 2.0, host supports ABI 1.x (1.0); rebuild it against this SDK")
    }

    @Test func entryDescriptorTooSmallIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_ENTRY_SIZE=16"], into: dir)
        #expect(try refusal(in: dir) == "refused \(path): entry descriptor too small: struct_size 16, at least 56 bytes needed")
    }

    @Test func pluginDescriptorTooSmallIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_DESC_SIZE=40"], into: dir)
        #expect(try refusal(in: dir) == "refused \(path): plugin descriptor 0: descriptor too small: struct_size 40, at least 96 bytes needed")
    }

    @Test func invalidIDIsRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_ID=\"Bad Id\""], into: dir)
        #expect(try refusal(in: dir) == "refused \(path): plugin descriptor 0: id 'Bad Id' must be non-empty and use only a-z, 0-9, '.', '_' and '-'")
    }

    @Test func duplicateIDIsRefusedAndTheFirstWins() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let first = try TestSupport.compileFixture([], into: dir, name: "liba.so")
        let second = try TestSupport.compileFixture([], into: dir, name: "libb.so")
        let catalog = try PluginLoader().load(directories: [dir])
        #expect(catalog.plugins.map(\.path) == [first])
        #expect(catalog.refusals.map(\.description) == ["refused plugin 'test.fixture' in \(second): duplicate plugin id 'test.fixture': already loaded from \(first)"])
    }

    @Test func aRefusedFileNeverStopsTheOthers() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        try TestSupport.compileFixture(["-DFIXTURE_ABI_MAJOR=9", "-DFIXTURE_ID=\"test.bad\""], into: dir, name: "liba-bad.so")
        try "not elf".write(toFile: dir + "/libb-text.so", atomically: false, encoding: .utf8)
        chmod(dir + "/libb-text.so", 0o644)
        let good = try TestSupport.compileFixture(["-DFIXTURE_ID=\"test.good\""], into: dir, name: "libc-good.so")
        let catalog = try PluginLoader().load(directories: [dir])
        #expect(catalog.plugins.map(\.id) == ["test.good"])
        #expect(catalog.plugins.first?.path == good)
        #expect(catalog.refusals.count == 2)
        #expect(throws: PluginLoadError.self) { try catalog.require(["test.bad"]) }
        #expect(throws: Never.self) { try catalog.require(["test.good"]) }
    }

    @Test func requiredPluginMissingIsNamed() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let catalog = try PluginLoader().load(directories: [dir])
        do {
            try catalog.require(["dynamic-v3"])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "plugin not found: 'dynamic-v3' (looked in no plugin files)")
        }
    }

    @Test func onlySharedObjectsAreConsidered() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        try "notes".write(toFile: dir + "/README.md", atomically: false, encoding: .utf8)
        let catalog = try PluginLoader().load(directories: [dir])
        #expect(catalog.files.isEmpty)
    }

    @Test func unreadableDirectoryIsAnError() throws {
        #expect(throws: PluginLoadError.self) { try PluginLoader().load(directories: ["/nonexistent/rdt4nn-plugins"]) }
    }
}
