import YAML

/// A `${VAR}` that had no value and was left in the text as written.
struct UnresolvedVariable: Sendable, Hashable {
    /// The variable name.
    var name: String
    /// The reference as written (`${NAME}` or `$NAME`).
    var reference: String
    /// Where the reference starts in the text before expansion.
    var location: SourceLocation
}

/// The text after `${VAR}` expansion plus what is needed to point back into the original.
struct ExpandedText: Sendable {
    /// The expanded text, which is what the YAML reader parses.
    var text: String
    /// References to unset variables, left literal.
    var unresolved: [UnresolvedVariable]
    /// `${...}` forms other than `${VAR}` and `${VAR:-default}`, left literal.
    var unsupported: [UnresolvedVariable]
    /// Per expanded line: the original line and column anchors.
    fileprivate var lines: [LineMap]

    fileprivate struct Anchor: Sendable {
        var expandedColumn: Int
        var originalColumn: Int
        /// Inside a substituted value every column maps to the reference's first column.
        var insideSubstitution: Bool
    }

    fileprivate struct LineMap: Sendable {
        var originalLine: Int
        var anchors: [Anchor]
    }

    /// Adds a warning per unset variable and unsupported form to `log`.
    func report(file: String, to log: inout DiagnosticLog) {
        for variable in unresolved {
            log.warning(file, variable.location, "", "environment variable \(variable.name) is not set; \(variable.reference) left as written")
        }
        for variable in unsupported {
            log.warning(file, variable.location, "", "'\(variable.reference)' is not an expansion rdt4nn knows (use ${VAR} or ${VAR:-default}); left as written")
        }
    }

    /// Where `location` (in the expanded text) was in the text as written.
    func originalLocation(of location: SourceLocation) -> SourceLocation {
        guard location.line >= 1, location.line <= lines.count else { return location }
        let map = lines[location.line - 1]
        guard let anchor = map.anchors.last(where: { $0.expandedColumn <= location.column }) else {
            return SourceLocation(line: map.originalLine, column: location.column)
        }
        let column = anchor.insideSubstitution ? anchor.originalColumn : anchor.originalColumn + (location.column - anchor.expandedColumn)
        return SourceLocation(line: map.originalLine, column: column)
    }
}

/// Expands environment variables in configuration text before it is parsed, as the
/// original tools did, except inside comments.
///
/// Forms: `${VAR}`, `${VAR:-default}` (default used when `VAR` is unset or empty) and,
/// when `bareDollar` is set (rdt4nn-format files), `$VAR` for names `[A-Z_][A-Z0-9_]*`.
/// An unset variable stays in the text literally and is reported.
///
/// Comments are found with a line scanner that tracks quoted scalars (also across
/// lines) and block scalars (`|`, `>`): a `#` starts a comment only outside quotes and
/// block-scalar content, at the start of a line or after a space or tab — YAML's own
/// rule.  The scanner never has to decide more than that, so it cannot mistake a value
/// for a comment: the worst case is a comment it does not recognise, which is then
/// expanded like the originals expanded every comment.
struct EnvironmentExpander: Sendable {
    /// The variables, injected (the library never reads the process environment).
    var environment: [String: String]
    /// Whether `$VAR` (no braces) is expanded.
    var bareDollar: Bool

    func expand(_ source: String) -> ExpandedText {
        var output = String.UnicodeScalarView()
        var unresolved: [UnresolvedVariable] = []
        var unsupported: [UnresolvedVariable] = []
        var lineMaps: [ExpandedText.LineMap] = []
        let rawLines = source.split(separator: "\n", omittingEmptySubsequences: false)

        var inDouble = false
        var inSingle = false
        var blockParentIndent: Int?

        for (lineIndex, rawLine) in rawLines.enumerated() {
            let lineNumber = lineIndex + 1
            let chars = Array(rawLine.unicodeScalars)
            var map = ExpandedText.LineMap(originalLine: lineNumber, anchors: [])
            var expandedColumn = 1
            if lineIndex > 0 { output.append("\n") }

            func emit(_ scalar: Unicode.Scalar) {
                output.append(scalar)
                expandedColumn += 1
            }

            func substitute(_ value: String, originalColumn: Int, originalLength: Int) {
                map.anchors.append(.init(expandedColumn: expandedColumn, originalColumn: originalColumn, insideSubstitution: true))
                for scalar in value.unicodeScalars {
                    if scalar == "\n" {
                        output.append(scalar)
                        lineMaps.append(map)
                        map = ExpandedText.LineMap(originalLine: lineNumber, anchors: [.init(expandedColumn: 1, originalColumn: originalColumn, insideSubstitution: true)])
                        expandedColumn = 1
                    } else {
                        emit(scalar)
                    }
                }
                map.anchors.append(.init(expandedColumn: expandedColumn, originalColumn: originalColumn + originalLength, insideSubstitution: false))
            }

            let indent = chars.prefix { $0 == " " }.count
            var inBlockContent = false
            if let parent = blockParentIndent {
                let blank = chars.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" }
                if blank || indent > parent {
                    inBlockContent = true
                } else {
                    blockParentIndent = nil
                }
            }

            var i = 0
            while i < chars.count {
                let c = chars[i]
                if c == "$" {
                    if let (consumed, replacement) = expansion(chars, at: i, line: lineNumber, unresolved: &unresolved, unsupported: &unsupported) {
                        if let replacement {
                            substitute(replacement, originalColumn: i + 1, originalLength: consumed)
                        } else {
                            for scalar in chars[i..<i + consumed] { emit(scalar) }
                        }
                        i += consumed
                        continue
                    }
                    emit(c)
                    i += 1
                    continue
                }
                if inBlockContent {
                    emit(c)
                    i += 1
                    continue
                }
                if inDouble {
                    if c == "\\", i + 1 < chars.count {
                        emit(c)
                        emit(chars[i + 1])
                        i += 2
                        continue
                    }
                    if c == "\"" { inDouble = false }
                    emit(c)
                    i += 1
                    continue
                }
                if inSingle {
                    if c == "'" {
                        if i + 1 < chars.count, chars[i + 1] == "'" {
                            emit(c)
                            emit(chars[i + 1])
                            i += 2
                            continue
                        }
                        inSingle = false
                    }
                    emit(c)
                    i += 1
                    continue
                }
                if c == "#", i == 0 || chars[i - 1] == " " || chars[i - 1] == "\t" {
                    // A comment: copied verbatim, never expanded.
                    for scalar in chars[i...] { emit(scalar) }
                    break
                }
                if (c == "\"" || c == "'") && Self.atScalarStart(chars, i) {
                    if c == "\"" { inDouble = true } else { inSingle = true }
                } else if (c == "|" || c == ">") && Self.atScalarStart(chars, i) && Self.isBlockHeader(chars, from: i + 1) {
                    blockParentIndent = Self.keyIndent(chars)
                }
                emit(c)
                i += 1
            }
            lineMaps.append(map)
        }
        return ExpandedText(text: String(output), unresolved: unresolved, unsupported: unsupported, lines: lineMaps)
    }

    /// Whether position `i` is where a scalar may begin: after indentation, `- `, `: `, `? `, or a flow indicator.
    private static func atScalarStart(_ chars: [Unicode.Scalar], _ i: Int) -> Bool {
        var j = i - 1
        if j >= 0, chars[j] == "[" || chars[j] == "{" || chars[j] == "," { return true }
        guard j < 0 || chars[j] == " " || chars[j] == "\t" else { return false }
        while j >= 0, chars[j] == " " || chars[j] == "\t" { j -= 1 }
        if j < 0 { return true }
        return [":", "-", "?", "[", "{", ","].contains(chars[j])
    }

    /// Whether the text after `|`/`>` is a block scalar header: indicators, then space/comment/end.
    private static func isBlockHeader(_ chars: [Unicode.Scalar], from start: Int) -> Bool {
        var j = start
        while j < chars.count, chars[j] == "+" || chars[j] == "-" || ("1"..."9").contains(chars[j]) { j += 1 }
        guard j < chars.count else { return true }
        while j < chars.count, chars[j] == " " || chars[j] == "\t" || chars[j] == "\r" { j += 1 }
        return j == chars.count || chars[j] == "#"
    }

    /// The column (0-based) of the key on this line: indentation plus any `- ` sequence indicators.
    private static func keyIndent(_ chars: [Unicode.Scalar]) -> Int {
        var j = 0
        while j < chars.count {
            if chars[j] == " " {
                j += 1
            } else if chars[j] == "-", j + 1 < chars.count, chars[j + 1] == " " {
                j += 2
            } else {
                break
            }
        }
        return j
    }

    private static func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || ("A"..."Z").contains(c) || ("a"..."z").contains(c) }
    private static func isNameChar(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || ("0"..."9").contains(c) }
    private static func isBareStart(_ c: Unicode.Scalar) -> Bool { c == "_" || ("A"..."Z").contains(c) }
    private static func isBareChar(_ c: Unicode.Scalar) -> Bool { isBareStart(c) || ("0"..."9").contains(c) }

    /// An expansion at `i` (a `$`): how many scalars it covers and its value (nil = leave as written).
    private func expansion(
        _ chars: [Unicode.Scalar],
        at i: Int,
        line: Int,
        unresolved: inout [UnresolvedVariable],
        unsupported: inout [UnresolvedVariable]
    ) -> (Int, String?)? {
        guard i + 1 < chars.count else { return nil }
        let location = SourceLocation(line: line, column: i + 1)
        if chars[i + 1] == "{" {
            guard let close = chars[(i + 2)...].firstIndex(of: "}") else { return nil }
            let body = String(String.UnicodeScalarView(chars[(i + 2)..<close]))
            let reference = String(String.UnicodeScalarView(chars[i...close]))
            let length = close - i + 1
            var name = body
            var fallback: String?
            if let range = body.firstRange(of: ":-") {
                name = String(body[..<range.lowerBound])
                fallback = String(body[range.upperBound...])
            }
            let scalars = Array(name.unicodeScalars)
            guard let first = scalars.first, Self.isNameStart(first), scalars.allSatisfy(Self.isNameChar) else {
                unsupported.append(UnresolvedVariable(name: body, reference: reference, location: location))
                return (length, nil)
            }
            if let value = environment[name], !(fallback != nil && value.isEmpty) { return (length, value) }
            if let fallback { return (length, fallback) }
            unresolved.append(UnresolvedVariable(name: name, reference: reference, location: location))
            return (length, nil)
        }
        guard bareDollar, Self.isBareStart(chars[i + 1]) else { return nil }
        var end = i + 1
        while end < chars.count, Self.isBareChar(chars[end]) { end += 1 }
        // `$Path`-like words with lower-case letters are not variable references in the original either.
        if end < chars.count, Self.isNameChar(chars[end]) { return nil }
        let name = String(String.UnicodeScalarView(chars[(i + 1)..<end]))
        if let value = environment[name] { return (end - i, value) }
        unresolved.append(UnresolvedVariable(name: name, reference: "$" + name, location: location))
        return (end - i, nil)
    }
}
