import Foundation
import Testing
import YAML

/// Compares the reader with PyYAML's `yaml.safe_load` (one `python3` process per test).
@Suite("PyYAML oracle")
struct OracleTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")

    /// Our errors for documents PyYAML accepts on purpose (see ``YAMLReader``).
    static func isDeliberateDeviation(_ error: YAMLError) -> Bool {
        ["duplicate key", "does not fit in 64 bits", "line separator", "nested more than", "anchors", "tags are",
         "directives", "merge keys", "not a valid Unicode scalar"].contains { error.message.contains($0) }
    }

    /// Reads the `.yaml` files of a corpus directory, sorted by name.
    static func corpusFiles(_ subdirectory: String?) throws -> [(name: String, text: String)] {
        let directory = subdirectory.map { corpus.appendingPathComponent($0) } ?? corpus
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        return try names.map { name in
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            return (name, String(decoding: data, as: UTF8.self))
        }
    }

    /// Runs PyYAML over `documents`, or prints why it cannot and returns nil.
    static func oracle(_ documents: [String], test: String) throws -> [PyYAMLOracle.Outcome]? {
        if let reason = PyYAMLOracle.unavailableReason {
            print("skipping \(test): \(reason)")
            return nil
        }
        return try PyYAMLOracle.load(documents)
    }

    /// A description of the disagreement between the reader and PyYAML, or nil if they agree.
    static func disagreement(_ text: String, name: String, oracle: PyYAMLOracle.Outcome) -> String? {
        let ours: Result<String, YAMLError>
        do {
            ours = .success(Canonical.encode(try YAMLReader.parse(text, file: name)))
        } catch {
            ours = .failure(error)
        }
        switch (ours, oracle) {
        case (.success(let mine), .loaded(let theirs)):
            return mine == theirs ? nil : "\(name): values differ\n  ours:   \(mine)\n  PyYAML: \(theirs)"
        case (.failure, .rejected):
            return nil
        case (.failure(let error), .loaded(let theirs)):
            return isDeliberateDeviation(error) ? nil : "\(name): we reject (\(error)) but PyYAML loads \(theirs)"
        case (.success(let mine), .rejected(let message)):
            return "\(name): we load \(mine) but PyYAML rejects: \(message)"
        }
    }

    @Test func corpusLoadsLikePyYAML() throws {
        let files = try Self.corpusFiles(nil)
        #expect(files.count >= 10)
        guard let outcomes = try Self.oracle(files.map(\.text), test: "corpus") else { return }
        for (file, outcome) in zip(files, outcomes) {
            #expect(throws: Never.self, "\(file.name)") { try YAMLReader.parse(file.text, file: file.name) }
            if let problem = Self.disagreement(file.text, name: file.name, oracle: outcome) {
                Issue.record(Comment(rawValue: problem))
            }
        }
    }

    @Test func invalidCorpusIsRejectedByBoth() throws {
        let files = try Self.corpusFiles("invalid")
        #expect(files.count >= 10)
        for file in files {
            #expect(throws: YAMLError.self, "\(file.name)") { try YAMLReader.parse(file.text, file: file.name) }
        }
        guard let outcomes = try Self.oracle(files.map(\.text), test: "invalid corpus") else { return }
        for (file, outcome) in zip(files, outcomes) {
            if case .loaded(let value) = outcome {
                Issue.record("\(file.name): PyYAML loads it (\(value)); the invalid corpus should hold rejected documents")
            }
        }
    }

    @Test func handErrorCasesAgreeWithPyYAML() throws {
        let cases = ErrorTests.cases
        guard let outcomes = try Self.oracle(cases.map(\.text), test: "hand error cases") else { return }
        for (i, (item, outcome)) in zip(cases, outcomes).enumerated() {
            if let problem = Self.disagreement(item.text, name: "case\(i)", oracle: outcome) {
                Issue.record(Comment(rawValue: problem + "\n  text: \(item.text.debugDescription)"))
            }
        }
    }

    @Test(arguments: [UInt64(20_241_115), 7, 42])
    func generatedDocumentsLoadLikePyYAML(seed: UInt64) throws {
        var generator = DocumentGenerator(seed: seed)
        let documents = (0..<200).map { _ in generator.document() }
        guard let outcomes = try Self.oracle(documents, test: "generated documents") else { return }
        var loaded = 0
        var problems = 0
        for (i, (document, outcome)) in zip(documents, outcomes).enumerated() {
            if case .loaded = outcome { loaded += 1 }
            if let problem = Self.disagreement(document, name: "seed \(seed) document \(i)", oracle: outcome) {
                problems += 1
                if problems <= 10 {
                    Issue.record(Comment(rawValue: problem + "\n--- document ---\n" + document))
                }
            }
        }
        print("seed \(seed): \(loaded) of \(documents.count) generated documents loaded by PyYAML, \(problems) disagreements")
        #expect(problems == 0)
        // The generator must mostly produce valid YAML, or the comparison says little.
        #expect(loaded >= documents.count * 3 / 4, "only \(loaded) of \(documents.count) documents are valid YAML")
    }
}
