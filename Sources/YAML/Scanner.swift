/// A lexical token of the YAML subset the reader accepts.
struct Token {
    enum Kind: Equatable {
        case streamEnd
        case documentStart
        case documentEnd
        case blockSequenceStart
        case blockMappingStart
        case blockEnd
        case flowSequenceStart
        case flowMappingStart
        case flowSequenceEnd
        case flowMappingEnd
        case blockEntry
        case flowEntry
        case key
        case value
        case scalar
    }

    var kind: Kind
    var start: SourceLocation
    var end: SourceLocation
    /// Scalar content (scalars only).
    var text: String = ""
    /// Scalar style (scalars only).
    var style: YAMLScalarStyle = .plain

    /// How the token is named in error messages.
    var summary: String {
        switch kind {
        case .streamEnd: return "end of file"
        case .documentStart: return "document start '---'"
        case .documentEnd: return "document end '...'"
        case .blockSequenceStart, .blockEntry: return "sequence entry '-'"
        case .blockMappingStart: return "mapping key"
        case .blockEnd: return "end of a block"
        case .flowSequenceStart: return "'['"
        case .flowMappingStart: return "'{'"
        case .flowSequenceEnd: return "']'"
        case .flowMappingEnd: return "'}'"
        case .flowEntry: return "','"
        case .key: return "mapping key"
        case .value: return "':'"
        case .scalar:
            var shown = String(text.unicodeScalars.prefix(40).map(Character.init))
            if text.unicodeScalars.count > 40 { shown += "..." }
            return "scalar '\(shown)'"
        }
    }
}

/// Turns YAML text into tokens.
///
/// A port of PyYAML's `Scanner` (so block structure, simple keys, plain-scalar
/// folding and block-scalar indentation behave exactly as `yaml.safe_load`
/// sees them), minus anchors, aliases, tags and directives, which are
/// rejected.  Line breaks `\r\n` and `\r` are read as `\n`.
struct Scanner {
    private struct SimpleKey {
        var tokenNumber: Int
        var required: Bool
        var index: Int
        var line: Int
        var column: Int
        var mark: SourceLocation
    }

    private static let end: Unicode.Scalar = "\0"

    /// The text with a `\0` sentinel.
    private let chars: [Unicode.Scalar]
    private var index = 0
    /// 0-based.
    private var line = 0
    /// 0-based.
    private var column = 0

    private var tokens: [Token] = []
    private var done = false
    private var flowLevel = 0
    private var indent = -1
    private var indents: [Int] = []
    private var allowSimpleKey = true
    private var possibleSimpleKeys: [Int: SimpleKey] = [:]
    /// Open flow collections: the bracket and where it is.
    private var openFlows: [(bracket: Unicode.Scalar, location: SourceLocation)] = []

    /// Prepares `text`, rejecting characters YAML does not allow in a stream.
    init(_ text: String) throws(LocatedError) {
        var chars: [Unicode.Scalar] = []
        chars.reserveCapacity(text.utf8.count + 1)
        var line = 1
        var column = 1
        var previousWasCR = false
        for ch in text.unicodeScalars {
            let value = ch.value
            if ch == "\r" {
                chars.append("\n")
                line += 1
                column = 1
                previousWasCR = true
                continue
            }
            if ch == "\n" {
                if !previousWasCR {
                    chars.append("\n")
                    line += 1
                    column = 1
                }
                previousWasCR = false
                continue
            }
            previousWasCR = false
            if value == 0x85 || value == 0x2028 || value == 0x2029 {
                throw LocatedError(
                    location: SourceLocation(line: line, column: column),
                    message: "line separator \(Scanner.codePoint(ch)) is not supported; use a plain line feed")
            }
            let printable = value == 0x09 || (0x20...0x7E).contains(value) || (0xA0...0xD7FF).contains(value)
                || (0xE000...0xFFFD).contains(value) || value >= 0x10000
            if !printable {
                throw LocatedError(
                    location: SourceLocation(line: line, column: column),
                    message: "control character \(Scanner.codePoint(ch)) is not allowed; escape it in a double-quoted scalar")
            }
            chars.append(ch)
            column += 1
        }
        chars.append(Scanner.end)
        self.chars = chars
    }

    static func codePoint(_ ch: Unicode.Scalar) -> String {
        let hex = String(ch.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// Scans the whole stream.
    mutating func scan() throws(LocatedError) -> [Token] {
        while !done {
            try fetchMoreTokens()
        }
        return tokens
    }

    // MARK: Reading characters

    private func peek(_ offset: Int = 0) -> Unicode.Scalar {
        let i = index + offset
        return i < chars.count ? chars[i] : Scanner.end
    }

    private func prefix(_ length: Int) -> String {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: chars[index..<min(index + length, chars.count)])
        return String(result)
    }

    private mutating func forward(_ length: Int = 1) {
        for _ in 0..<length {
            let ch = chars[index]
            index += 1
            if ch == "\n" {
                line += 1
                column = 0
            } else if ch != "\u{FEFF}" {
                column += 1
            }
        }
    }

    private var mark: SourceLocation { SourceLocation(line: line + 1, column: column + 1) }

    private static func isBreakOrEnd(_ ch: Unicode.Scalar) -> Bool { ch == "\n" || ch == end }
    private static func isBlankOrEnd(_ ch: Unicode.Scalar) -> Bool { ch == " " || ch == "\t" || isBreakOrEnd(ch) }

    private func error(_ message: String, at location: SourceLocation? = nil) -> LocatedError {
        LocatedError(location: location ?? mark, message: message)
    }

    private static func quoted(_ ch: Unicode.Scalar) -> String {
        switch ch {
        case "\t": return "a tab"
        case "\n": return "a line break"
        case end: return "the end of the file"
        default: return "'\(Character(ch))'"
        }
    }

    // MARK: Token dispatch

    private mutating func fetchMoreTokens() throws(LocatedError) {
        try scanToNextToken()
        try stalePossibleSimpleKeys()
        unwindIndent(column)
        let ch = peek()
        switch ch {
        case Scanner.end:
            return try fetchStreamEnd()
        case "%" where column == 0:
            throw error("directives (%YAML, %TAG) are not supported")
        case "-" where checkDocumentIndicator("-"):
            return try fetchDocumentIndicator(.documentStart)
        case "." where checkDocumentIndicator("."):
            return try fetchDocumentIndicator(.documentEnd)
        case "[":
            return try fetchFlowCollectionStart(.flowSequenceStart)
        case "{":
            return try fetchFlowCollectionStart(.flowMappingStart)
        case "]":
            return try fetchFlowCollectionEnd(.flowSequenceEnd)
        case "}":
            return try fetchFlowCollectionEnd(.flowMappingEnd)
        case ",":
            return try fetchFlowEntry()
        case "-" where Scanner.isBlankOrEnd(peek(1)):
            return try fetchBlockEntry()
        case "?" where flowLevel > 0 || Scanner.isBlankOrEnd(peek(1)):
            return try fetchKey()
        case ":" where flowLevel > 0 || Scanner.isBlankOrEnd(peek(1)):
            return try fetchValue()
        case "*", "&":
            throw error("anchors and aliases are not supported")
        case "!":
            throw error("tags are not supported")
        case "|" where flowLevel == 0, ">" where flowLevel == 0:
            return try fetchBlockScalar(folded: ch == ">")
        case "'", "\"":
            return try fetchFlowScalar(double: ch == "\"")
        default:
            if checkPlain() {
                return try fetchPlain()
            }
            if ch == "\t" {
                var onlySpacesBefore = true
                var i = index - 1
                while i >= 0 && chars[i] != "\n" {
                    if chars[i] != " " { onlySpacesBefore = false }
                    i -= 1
                }
                if onlySpacesBefore {
                    throw error("tab characters are not allowed for indentation")
                }
                throw error("found a tab character where a token was expected; tabs are allowed only inside quoted scalars")
            }
            throw error("found character \(Scanner.quoted(ch)) that cannot start any token; quote the scalar")
        }
    }

    // MARK: Simple keys

    private mutating func stalePossibleSimpleKeys() throws(LocatedError) {
        for (level, key) in possibleSimpleKeys where key.line != line || index - key.index > 1024 {
            if key.required {
                throw error("expected ':' after mapping key", at: key.mark)
            }
            possibleSimpleKeys[level] = nil
        }
    }

    private mutating func savePossibleSimpleKey() throws(LocatedError) {
        let required = flowLevel == 0 && indent == column
        if allowSimpleKey {
            try removePossibleSimpleKey()
            possibleSimpleKeys[flowLevel] = SimpleKey(
                tokenNumber: tokens.count, required: required, index: index, line: line, column: column, mark: mark)
        }
    }

    private mutating func removePossibleSimpleKey() throws(LocatedError) {
        if let key = possibleSimpleKeys[flowLevel] {
            if key.required {
                throw error("expected ':' after mapping key", at: key.mark)
            }
            possibleSimpleKeys[flowLevel] = nil
        }
    }

    // MARK: Indentation

    private mutating func unwindIndent(_ column: Int) {
        if flowLevel > 0 { return }
        while indent > column {
            indent = indents.removeLast()
            tokens.append(Token(kind: .blockEnd, start: mark, end: mark))
        }
    }

    private mutating func addIndent(_ column: Int) -> Bool {
        if indent < column {
            indents.append(indent)
            indent = column
            return true
        }
        return false
    }

    // MARK: Fetchers

    private mutating func fetchStreamEnd() throws(LocatedError) {
        if let open = openFlows.last {
            let closing = open.bracket == "[" ? "']'" : "'}'"
            throw error("unclosed '\(Character(open.bracket))'; expected \(closing) before the end of the file", at: open.location)
        }
        unwindIndent(-1)
        try removePossibleSimpleKey()
        allowSimpleKey = false
        possibleSimpleKeys = [:]
        tokens.append(Token(kind: .streamEnd, start: mark, end: mark))
        done = true
    }

    private func checkDocumentIndicator(_ ch: Unicode.Scalar) -> Bool {
        column == 0 && peek() == ch && peek(1) == ch && peek(2) == ch && Scanner.isBlankOrEnd(peek(3))
    }

    private mutating func fetchDocumentIndicator(_ kind: Token.Kind) throws(LocatedError) {
        unwindIndent(-1)
        try removePossibleSimpleKey()
        allowSimpleKey = false
        let start = mark
        forward(3)
        tokens.append(Token(kind: kind, start: start, end: mark))
    }

    private mutating func fetchFlowCollectionStart(_ kind: Token.Kind) throws(LocatedError) {
        try savePossibleSimpleKey()
        flowLevel += 1
        allowSimpleKey = true
        let start = mark
        openFlows.append((peek(), start))
        forward()
        tokens.append(Token(kind: kind, start: start, end: mark))
    }

    private mutating func fetchFlowCollectionEnd(_ kind: Token.Kind) throws(LocatedError) {
        try removePossibleSimpleKey()
        if flowLevel == 0 {
            throw error("unexpected \(kind == .flowSequenceEnd ? "']'" : "'}'") outside a flow collection")
        }
        flowLevel -= 1
        openFlows.removeLast()
        allowSimpleKey = false
        let start = mark
        forward()
        tokens.append(Token(kind: kind, start: start, end: mark))
    }

    private mutating func fetchFlowEntry() throws(LocatedError) {
        allowSimpleKey = true
        try removePossibleSimpleKey()
        let start = mark
        forward()
        tokens.append(Token(kind: .flowEntry, start: start, end: mark))
    }

    private mutating func fetchBlockEntry() throws(LocatedError) {
        if flowLevel == 0 {
            if !allowSimpleKey {
                throw error("a sequence entry '-' is not allowed here; start it on its own line")
            }
            if addIndent(column) {
                tokens.append(Token(kind: .blockSequenceStart, start: mark, end: mark))
            }
        }
        allowSimpleKey = true
        try removePossibleSimpleKey()
        let start = mark
        forward()
        tokens.append(Token(kind: .blockEntry, start: start, end: mark))
    }

    private mutating func fetchKey() throws(LocatedError) {
        if flowLevel == 0 {
            if !allowSimpleKey {
                throw error("a '?' mapping key is not allowed here")
            }
            if addIndent(column) {
                tokens.append(Token(kind: .blockMappingStart, start: mark, end: mark))
            }
        }
        allowSimpleKey = flowLevel == 0
        try removePossibleSimpleKey()
        let start = mark
        forward()
        tokens.append(Token(kind: .key, start: start, end: mark))
    }

    private mutating func fetchValue() throws(LocatedError) {
        if let key = possibleSimpleKeys[flowLevel] {
            possibleSimpleKeys[flowLevel] = nil
            tokens.insert(Token(kind: .key, start: key.mark, end: key.mark), at: key.tokenNumber)
            if flowLevel == 0 && addIndent(key.column) {
                tokens.insert(Token(kind: .blockMappingStart, start: key.mark, end: key.mark), at: key.tokenNumber)
            }
            allowSimpleKey = false
        } else {
            if flowLevel == 0 {
                if !allowSimpleKey {
                    throw error("unexpected ':'; a mapping value is not allowed here (quote a scalar that contains ': ')")
                }
                if addIndent(column) {
                    tokens.append(Token(kind: .blockMappingStart, start: mark, end: mark))
                }
            }
            allowSimpleKey = flowLevel == 0
            try removePossibleSimpleKey()
        }
        let start = mark
        forward()
        tokens.append(Token(kind: .value, start: start, end: mark))
    }

    private mutating func fetchBlockScalar(folded: Bool) throws(LocatedError) {
        allowSimpleKey = true
        try removePossibleSimpleKey()
        tokens.append(try scanBlockScalar(folded: folded))
    }

    private mutating func fetchFlowScalar(double: Bool) throws(LocatedError) {
        try savePossibleSimpleKey()
        allowSimpleKey = false
        tokens.append(try scanFlowScalar(double: double))
    }

    private mutating func fetchPlain() throws(LocatedError) {
        try savePossibleSimpleKey()
        allowSimpleKey = false
        tokens.append(scanPlain())
    }

    private static let indicators: Set<Unicode.Scalar> = [
        "\0", " ", "\t", "\n", "-", "?", ":", ",", "[", "]", "{", "}", "#", "&", "*", "!", "|", ">", "'", "\"",
        "%", "@", "`",
    ]

    private func checkPlain() -> Bool {
        let ch = peek()
        if !Scanner.indicators.contains(ch) { return true }
        return !Scanner.isBlankOrEnd(peek(1)) && (ch == "-" || (flowLevel == 0 && (ch == "?" || ch == ":")))
    }

    // MARK: Scanners

    private mutating func scanToNextToken() throws(LocatedError) {
        if index == 0 && peek() == "\u{FEFF}" {
            forward()
        }
        while true {
            while peek() == " " {
                forward()
            }
            if peek() == "#" {
                while !Scanner.isBreakOrEnd(peek()) {
                    forward()
                }
            }
            if scanLineBreak() {
                if flowLevel == 0 {
                    allowSimpleKey = true
                }
            } else {
                return
            }
        }
    }

    /// Consumes a line break if there is one.
    private mutating func scanLineBreak() -> Bool {
        if peek() == "\n" {
            forward()
            return true
        }
        return false
    }

    private mutating func scanBlockScalar(folded: Bool) throws(LocatedError) -> Token {
        let start = mark
        let indicator = peek()
        forward()
        // Indicators: chomping (+/-) and an indentation increment (1-9), in either order.
        var chomping: Bool?  // true: keep, false: strip, nil: clip
        var increment: Int?
        func digit(_ ch: Unicode.Scalar) -> Int? {
            ch.value >= 0x30 && ch.value <= 0x39 ? Int(ch.value - 0x30) : nil
        }
        if peek() == "+" || peek() == "-" {
            chomping = peek() == "+"
            forward()
            if let value = digit(peek()) {
                if value == 0 { throw error("expected an indentation indicator in the range 1-9, but found 0") }
                increment = value
                forward()
            }
        } else if let value = digit(peek()) {
            if value == 0 { throw error("expected an indentation indicator in the range 1-9, but found 0") }
            increment = value
            forward()
            if peek() == "+" || peek() == "-" {
                chomping = peek() == "+"
                forward()
            }
        }
        if !(peek() == " " || Scanner.isBreakOrEnd(peek())) {
            throw error(
                "expected a chomping indicator ('+' or '-') or an indentation indicator (1-9) after '\(Character(indicator))', but found \(Scanner.quoted(peek()))"
            )
        }
        // The rest of the header line: spaces and an optional comment.
        while peek() == " " {
            forward()
        }
        if peek() == "#" {
            while !Scanner.isBreakOrEnd(peek()) {
                forward()
            }
        }
        if !Scanner.isBreakOrEnd(peek()) {
            throw error(
                "expected a comment or a line break after the block scalar header, but found \(Scanner.quoted(peek()))")
        }
        _ = scanLineBreak()

        let minIndent = max(indent + 1, 1)
        var breaks: [String]
        var blockIndent: Int
        var endMark: SourceLocation
        if let increment {
            blockIndent = minIndent + increment - 1
            (breaks, endMark) = scanBlockScalarBreaks(blockIndent)
        } else {
            var maxIndent: Int
            (breaks, maxIndent, endMark) = scanBlockScalarIndentation()
            blockIndent = max(minIndent, maxIndent)
        }

        var chunks = ""
        var lineBreak = ""
        while column == blockIndent && peek() != Scanner.end {
            chunks += breaks.joined()
            let leadingNonSpace = peek() != " " && peek() != "\t"
            var length = 0
            while !Scanner.isBreakOrEnd(peek(length)) {
                length += 1
            }
            chunks += prefix(length)
            forward(length)
            lineBreak = scanLineBreak() ? "\n" : ""
            (breaks, endMark) = scanBlockScalarBreaks(blockIndent)
            if column == blockIndent && peek() != Scanner.end {
                if folded && lineBreak == "\n" && leadingNonSpace && peek() != " " && peek() != "\t" {
                    if breaks.isEmpty {
                        chunks += " "
                    }
                } else {
                    chunks += lineBreak
                }
            } else {
                break
            }
        }
        if chomping != false {
            chunks += lineBreak
        }
        if chomping == true {
            chunks += breaks.joined()
        }
        return Token(kind: .scalar, start: start, end: endMark, text: chunks, style: folded ? .folded : .literal)
    }

    private mutating func scanBlockScalarIndentation() -> ([String], Int, SourceLocation) {
        var chunks: [String] = []
        var maxIndent = 0
        var endMark = mark
        while peek() == " " || peek() == "\n" {
            if peek() != " " {
                _ = scanLineBreak()
                chunks.append("\n")
                endMark = mark
            } else {
                forward()
                if column > maxIndent {
                    maxIndent = column
                }
            }
        }
        return (chunks, maxIndent, endMark)
    }

    private mutating func scanBlockScalarBreaks(_ indent: Int) -> ([String], SourceLocation) {
        var chunks: [String] = []
        var endMark = mark
        while column < indent && peek() == " " {
            forward()
        }
        while peek() == "\n" {
            _ = scanLineBreak()
            chunks.append("\n")
            endMark = mark
            while column < indent && peek() == " " {
                forward()
            }
        }
        return (chunks, endMark)
    }

    private mutating func scanFlowScalar(double: Bool) throws(LocatedError) -> Token {
        let start = mark
        let quote = peek()
        forward()
        var chunks = ""
        try scanFlowScalarNonSpaces(double: double, start: start, into: &chunks)
        while peek() != quote {
            try scanFlowScalarSpaces(double: double, start: start, into: &chunks)
            try scanFlowScalarNonSpaces(double: double, start: start, into: &chunks)
        }
        forward()
        return Token(kind: .scalar, start: start, end: mark, text: chunks, style: double ? .doubleQuoted : .singleQuoted)
    }

    private static let escapeReplacements: [Unicode.Scalar: String] = [
        "0": "\0", "a": "\u{07}", "b": "\u{08}", "t": "\t", "\t": "\t", "n": "\n", "v": "\u{0B}", "f": "\u{0C}",
        "r": "\r", "e": "\u{1B}", " ": " ", "\"": "\"", "\\": "\\", "/": "/", "N": "\u{85}", "_": "\u{A0}",
        "L": "\u{2028}", "P": "\u{2029}",
    ]

    private mutating func scanFlowScalarNonSpaces(double: Bool, start: SourceLocation, into chunks: inout String)
        throws(LocatedError)
    {
        while true {
            var length = 0
            while true {
                let ch = peek(length)
                if ch == "'" || ch == "\"" || ch == "\\" || Scanner.isBlankOrEnd(ch) { break }
                length += 1
            }
            if length > 0 {
                chunks += prefix(length)
                forward(length)
            }
            let ch = peek()
            if !double && ch == "'" && peek(1) == "'" {
                chunks += "'"
                forward(2)
            } else if (double && ch == "'") || (!double && (ch == "\"" || ch == "\\")) {
                chunks.unicodeScalars.append(ch)
                forward()
            } else if double && ch == "\\" {
                forward()
                let escape = peek()
                if let replacement = Scanner.escapeReplacements[escape] {
                    chunks += replacement
                    forward()
                } else if escape == "x" || escape == "u" || escape == "U" {
                    let digits = escape == "x" ? 2 : (escape == "u" ? 4 : 8)
                    forward()
                    var code: UInt32 = 0
                    for k in 0..<digits {
                        guard let value = hexValue(peek(k)) else {
                            throw error(
                                "expected an escape sequence of \(digits) hexadecimal digits, but found \(Scanner.quoted(peek(k)))"
                            )
                        }
                        code = code &* 16 &+ value
                    }
                    guard let scalar = Unicode.Scalar(code) else {
                        throw error("escape sequence \\\(Character(escape))\(prefix(digits)) is not a valid Unicode scalar")
                    }
                    chunks.unicodeScalars.append(scalar)
                    forward(digits)
                } else if escape == "\n" {
                    _ = scanLineBreak()
                    try scanFlowScalarBreaks(start: start, into: &chunks)
                } else {
                    throw error("unknown escape sequence '\\\(Character(escape))' in a double-quoted scalar")
                }
            } else {
                return
            }
        }
    }

    private func hexValue(_ ch: Unicode.Scalar) -> UInt32? {
        switch ch.value {
        case 0x30...0x39: return ch.value - 0x30
        case 0x41...0x46: return ch.value - 0x41 + 10
        case 0x61...0x66: return ch.value - 0x61 + 10
        default: return nil
        }
    }

    private mutating func scanFlowScalarSpaces(double: Bool, start: SourceLocation, into chunks: inout String)
        throws(LocatedError)
    {
        var length = 0
        while peek(length) == " " || peek(length) == "\t" {
            length += 1
        }
        let whitespaces = prefix(length)
        forward(length)
        let ch = peek()
        if ch == Scanner.end {
            throw error(
                "unterminated \(double ? "double" : "single")-quoted scalar; expected a closing \(double ? "'\"'" : "\"'\"")",
                at: start)
        } else if ch == "\n" {
            _ = scanLineBreak()
            var breaks = ""
            try scanFlowScalarBreaks(start: start, into: &breaks)
            if breaks.isEmpty {
                chunks += " "
            }
            chunks += breaks
        } else {
            chunks += whitespaces
        }
    }

    private mutating func scanFlowScalarBreaks(start: SourceLocation, into chunks: inout String) throws(LocatedError) {
        while true {
            if column == 0 && (checkDocumentIndicator("-") || checkDocumentIndicator(".")) {
                throw error(
                    "unterminated quoted scalar; found a document marker ('---' or '...') before the closing quote",
                    at: start)
            }
            while peek() == " " || peek() == "\t" {
                forward()
            }
            if peek() == "\n" {
                _ = scanLineBreak()
                chunks += "\n"
            } else {
                return
            }
        }
    }

    private mutating func scanPlain() -> Token {
        var chunks = ""
        let start = mark
        var endMark = start
        let plainIndent = indent + 1
        var spaces = ""
        while true {
            var length = 0
            if peek() == "#" {
                break
            }
            while true {
                let ch = peek(length)
                if Scanner.isBlankOrEnd(ch) { break }
                if ch == ":" {
                    let next = peek(length + 1)
                    if Scanner.isBlankOrEnd(next)
                        || (flowLevel > 0 && (next == "," || next == "[" || next == "]" || next == "{" || next == "}"))
                    {
                        break
                    }
                }
                if flowLevel > 0 && (ch == "," || ch == "?" || ch == "[" || ch == "]" || ch == "{" || ch == "}") {
                    break
                }
                length += 1
            }
            if length == 0 {
                break
            }
            allowSimpleKey = false
            chunks += spaces
            chunks += prefix(length)
            forward(length)
            endMark = mark
            guard let more = scanPlainSpaces() else { break }
            spaces = more
            if spaces.isEmpty || peek() == "#" || (flowLevel == 0 && column < plainIndent) {
                break
            }
        }
        return Token(kind: .scalar, start: start, end: endMark, text: chunks, style: .plain)
    }

    /// The folded whitespace after a run of plain-scalar text; nil at a document marker.
    private mutating func scanPlainSpaces() -> String? {
        var length = 0
        while peek(length) == " " {
            length += 1
        }
        let whitespaces = prefix(length)
        forward(length)
        if peek() == "\n" {
            _ = scanLineBreak()
            allowSimpleKey = true
            if checkDocumentIndicator("-") || checkDocumentIndicator(".") {
                return nil
            }
            var breaks = ""
            while peek() == " " || peek() == "\n" {
                if peek() == " " {
                    forward()
                } else {
                    _ = scanLineBreak()
                    breaks += "\n"
                    if checkDocumentIndicator("-") || checkDocumentIndicator(".") {
                        return nil
                    }
                }
            }
            return breaks.isEmpty ? " " : breaks
        }
        return whitespaces
    }
}
