import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Where the runner tells the user what happens: plain lines, plus one
/// updating progress line when standard error is a terminal.
public final class Console: Sendable {
    /// How much to say.
    public enum Verbosity: Int, Sendable, Comparable {
        case quiet = 0, normal, verbose
        public static func < (lhs: Verbosity, rhs: Verbosity) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let verbosity: Verbosity
    private let isTerminal: Bool
    private let state = Mutex<(progressShown: Bool, lines: [String])>((false, []))
    private let capture: Bool

    /// A console writing to standard error.
    public init(verbosity: Verbosity = .normal) {
        self.verbosity = verbosity
        isTerminal = isatty(STDERR_FILENO) == 1
        capture = false
    }

    /// A console that records lines instead of printing (tests).
    public init(capturing verbosity: Verbosity) {
        self.verbosity = verbosity
        isTerminal = false
        capture = true
    }

    /// Lines recorded by a capturing console.
    public var capturedLines: [String] { state.withLock { $0.lines } }

    /// An event or warning everyone should see (unless `--quiet`; warnings always).
    public func info(_ message: String) { emit(message, minimum: .normal) }
    /// Always shown.
    public func warning(_ message: String) { emit("warning: " + message, minimum: .quiet) }
    /// Always shown.
    public func error(_ message: String) { emit("error: " + message, minimum: .quiet) }
    /// Only with `--verbose`.
    public func debug(_ message: String) { emit(message, minimum: .verbose) }

    /// Replaces the progress line (terminal only).
    public func progress(_ line: String) {
        guard isTerminal, verbosity >= .normal else { return }
        state.withLock { state in
            let width = 200
            write("\r\u{1B}[2K" + String(line.prefix(width)))
            state.progressShown = true
        }
    }

    /// Removes the progress line.
    public func clearProgress() {
        state.withLock { state in
            if state.progressShown {
                write("\r\u{1B}[2K")
                state.progressShown = false
            }
        }
    }

    private func emit(_ message: String, minimum: Verbosity) {
        guard verbosity >= minimum else { return }
        state.withLock { state in
            if capture {
                state.lines.append(message)
                return
            }
            if state.progressShown { write("\r\u{1B}[2K") }
            state.progressShown = false
            write(message + "\n")
        }
    }

    private func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
