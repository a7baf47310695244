import Foundation

/// Runs PyYAML's `yaml.safe_load` over many documents in one `python3` process.
enum PyYAMLOracle {
    /// What PyYAML made of one document.
    enum Outcome: Equatable {
        /// Loaded; the canonical encoding (see ``Canonical``).
        case loaded(String)
        /// Rejected, with PyYAML's message on one line.
        case rejected(String)
    }

    /// Reads every `NNNNN.yaml` in the directory given as argv[1] (in name
    /// order) and prints one line per document: `OK <canonical>` or `ERR <message>`.
    static let script = #"""
        import datetime, json, math, os, sys
        import yaml

        def canon(v):
            if v is None: return "null"
            if v is True: return "true"
            if v is False: return "false"
            if isinstance(v, int): return str(v)
            if isinstance(v, float):
                if v != v: return "NaN"
                if v == math.inf: return "Infinity"
                if v == -math.inf: return "-Infinity"
                return repr(v)
            if isinstance(v, str): return json.dumps(v, ensure_ascii=True)
            if isinstance(v, (datetime.date, datetime.datetime)): return json.dumps(v.isoformat())
            if isinstance(v, list): return "[" + ",".join(canon(x) for x in v) + "]"
            if isinstance(v, dict):
                items = sorted((canon(k), canon(x)) for k, x in v.items())
                return "{" + ",".join(k + ":" + x for k, x in items) + "}"
            return "<unsupported %s>" % type(v).__name__

        directory = sys.argv[1]
        for name in sorted(os.listdir(directory)):
            with open(os.path.join(directory, name), encoding="utf-8", newline="") as f:
                text = f.read()
            try:
                print("OK " + canon(yaml.safe_load(text)))
            except Exception as e:
                print("ERR " + " | ".join(str(e).splitlines()))
        """#

    /// Why the oracle cannot run here, or nil when `python3` with PyYAML is available.
    static let unavailableReason: String? = {
        guard let result = try? run(arguments: ["-c", "import yaml"]) else {
            return "python3 could not be started"
        }
        return result.status == 0 ? nil : "python3 has no PyYAML module (import yaml failed)"
    }()

    /// Loads every document with PyYAML in a single `python3` process.
    static func load(_ documents: [String]) throws -> [Outcome] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("yaml-oracle-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (i, document) in documents.enumerated() {
            let name = String(repeating: "0", count: 5 - String(i).count) + String(i) + ".yaml"
            try Data(document.utf8).write(to: directory.appendingPathComponent(name))
        }
        let result = try run(arguments: ["-c", script, directory.path])
        guard result.status == 0 else {
            throw OracleFailure(message: "python3 exited with \(result.status): \(result.stderr)")
        }
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.count == documents.count else {
            throw OracleFailure(message: "expected \(documents.count) lines from python3, got \(lines.count)")
        }
        return lines.map { line in
            line.hasPrefix("OK ") ? .loaded(String(line.dropFirst(3))) : .rejected(String(line.dropFirst(4)))
        }
    }

    struct OracleFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    private static func run(arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        // stdout through a pipe read to its end; stderr to a file, so neither can fill up and block python3.
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-oracle-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let errHandle = try FileHandle(forWritingTo: errURL)
        defer { try? errHandle.close() }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONIOENCODING"] = "utf-8"
        process.environment = environment
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }
}
