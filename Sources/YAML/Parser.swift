/// Builds nodes from tokens: the grammar of PyYAML's `Parser` and the single-document
/// rule of its `Composer`, plus scalar resolution and the duplicate-key check.
struct Parser {
    /// Deeper nesting than this is rejected instead of risking the stack.
    static let maximumDepth = 256

    private let tokens: [Token]
    private var position = 0
    private var depth = 0

    init(tokens: [Token]) {
        self.tokens = tokens
    }

    // MARK: Token access

    private var current: Token { tokens[position] }

    private func check(_ kinds: Token.Kind...) -> Bool {
        kinds.contains(current.kind)
    }

    private mutating func next() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func error(_ message: String, at location: SourceLocation? = nil) -> LocatedError {
        LocatedError(location: location ?? current.start, message: message)
    }

    // MARK: Documents

    /// Parses the stream: at most one document; nil if there is none or it is empty.
    mutating func parseStream() throws(LocatedError) -> YAMLNode? {
        var root: YAMLNode?
        var sawDocument = false
        if !check(.documentStart, .streamEnd) {
            root = try parseNode(block: true)
            sawDocument = true
            if check(.documentEnd) { _ = next() }
        }
        while true {
            while check(.documentEnd) { _ = next() }
            if check(.streamEnd) { break }
            guard check(.documentStart) else {
                throw error("expected the end of the document, found \(current.summary) (check the indentation)")
            }
            let start = next()
            if sawDocument {
                throw error(
                    "found a second document ('---'); a configuration file holds exactly one document",
                    at: start.start)
            }
            sawDocument = true
            if !check(.documentStart, .documentEnd, .streamEnd) {
                root = try parseNode(block: true)
            }
            if check(.documentEnd) { _ = next() }
        }
        return root
    }

    // MARK: Nodes

    private func emptyNode(at location: SourceLocation) -> YAMLNode {
        YAMLNode(location: location, kind: .scalar(YAMLScalar(text: "", style: .plain, value: .null)))
    }

    private mutating func parseNode(block: Bool, indentlessSequence: Bool = false) throws(LocatedError) -> YAMLNode {
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maximumDepth {
            throw error("collections are nested more than \(Parser.maximumDepth) levels deep")
        }
        let token = current
        if indentlessSequence && token.kind == .blockEntry {
            return try parseIndentlessSequence()
        }
        switch token.kind {
        case .scalar:
            _ = next()
            return try scalarNode(token)
        case .flowSequenceStart:
            return try parseFlowSequence()
        case .flowMappingStart:
            return try parseFlowMapping()
        case .blockSequenceStart where block:
            return try parseBlockSequence()
        case .blockMappingStart where block:
            return try parseBlockMapping()
        default:
            throw error("expected a value (a scalar, sequence or mapping), found \(token.summary)")
        }
    }

    private func scalarNode(_ token: Token) throws(LocatedError) -> YAMLNode {
        let value: YAMLValue
        if token.style == .plain {
            do {
                value = try Resolver.resolve(token.text)
            } catch {
                throw LocatedError(location: token.start, message: error.text)
            }
        } else {
            value = .string(token.text)
        }
        return YAMLNode(location: token.start, kind: .scalar(YAMLScalar(text: token.text, style: token.style, value: value)))
    }

    private mutating func parseBlockSequence() throws(LocatedError) -> YAMLNode {
        let start = next().start
        var items: [YAMLNode] = []
        while check(.blockEntry) {
            let entry = next()
            if check(.blockEntry, .blockEnd) {
                items.append(emptyNode(at: entry.end))
            } else {
                items.append(try parseNode(block: true))
            }
        }
        guard check(.blockEnd) else {
            throw error(
                "expected a sequence entry '- ' at the indentation of the sequence started at line \(start.line), found \(current.summary)"
            )
        }
        _ = next()
        return YAMLNode(location: start, kind: .sequence(items))
    }

    private mutating func parseIndentlessSequence() throws(LocatedError) -> YAMLNode {
        let start = current.start
        var items: [YAMLNode] = []
        while check(.blockEntry) {
            let entry = next()
            if check(.blockEntry, .key, .value, .blockEnd) {
                items.append(emptyNode(at: entry.end))
            } else {
                items.append(try parseNode(block: true))
            }
        }
        return YAMLNode(location: start, kind: .sequence(items))
    }

    private mutating func parseBlockMapping() throws(LocatedError) -> YAMLNode {
        let start = next().start
        var builder = MappingBuilder()
        while check(.key) {
            let keyToken = next()
            let key: YAMLNode
            if check(.key, .value, .blockEnd) {
                key = emptyNode(at: keyToken.end)
            } else {
                key = try parseNode(block: true, indentlessSequence: true)
            }
            let value: YAMLNode
            if check(.value) {
                let valueToken = next()
                if check(.key, .value, .blockEnd) {
                    value = emptyNode(at: valueToken.end)
                } else {
                    value = try parseNode(block: true, indentlessSequence: true)
                }
            } else {
                value = emptyNode(at: current.start)
            }
            try builder.add(key: key, value: value)
        }
        guard check(.blockEnd) else {
            throw error(
                "expected a mapping key at the indentation of the mapping started at line \(start.line), found \(current.summary)"
            )
        }
        _ = next()
        return YAMLNode(location: start, kind: .mapping(builder.entries))
    }

    private mutating func parseFlowSequence() throws(LocatedError) -> YAMLNode {
        let start = next().start
        var items: [YAMLNode] = []
        var first = true
        while !check(.flowSequenceEnd) {
            if !first {
                guard check(.flowEntry) else {
                    throw error("expected ',' or ']' in the flow sequence started at \(start), found \(current.summary)")
                }
                _ = next()
                if check(.flowSequenceEnd) { break }
            }
            first = false
            if check(.key) {
                // `[a: b]`: a single-pair mapping.
                let keyToken = next()
                let key =
                    check(.value, .flowEntry, .flowSequenceEnd)
                    ? emptyNode(at: keyToken.end) : try parseNode(block: false)
                let value: YAMLNode
                if check(.value) {
                    let valueToken = next()
                    value =
                        check(.flowEntry, .flowSequenceEnd) ? emptyNode(at: valueToken.end) : try parseNode(block: false)
                } else {
                    value = emptyNode(at: current.start)
                }
                var builder = MappingBuilder()
                try builder.add(key: key, value: value)
                items.append(YAMLNode(location: keyToken.start, kind: .mapping(builder.entries)))
            } else {
                items.append(try parseNode(block: false))
            }
        }
        _ = next()
        return YAMLNode(location: start, kind: .sequence(items))
    }

    private mutating func parseFlowMapping() throws(LocatedError) -> YAMLNode {
        let start = next().start
        var builder = MappingBuilder()
        var first = true
        while !check(.flowMappingEnd) {
            if !first {
                guard check(.flowEntry) else {
                    throw error("expected ',' or '}' in the flow mapping started at \(start), found \(current.summary)")
                }
                _ = next()
                if check(.flowMappingEnd) { break }
            }
            first = false
            if check(.key) {
                let keyToken = next()
                let key =
                    check(.value, .flowEntry, .flowMappingEnd)
                    ? emptyNode(at: keyToken.end) : try parseNode(block: false)
                let value: YAMLNode
                if check(.value) {
                    let valueToken = next()
                    value =
                        check(.flowEntry, .flowMappingEnd) ? emptyNode(at: valueToken.end) : try parseNode(block: false)
                } else {
                    value = emptyNode(at: current.start)
                }
                try builder.add(key: key, value: value)
            } else {
                let key = try parseNode(block: false)
                try builder.add(key: key, value: emptyNode(at: current.start))
            }
        }
        _ = next()
        return YAMLNode(location: start, kind: .mapping(builder.entries))
    }
}

/// Collects mapping entries, rejecting non-scalar and duplicate keys.
///
/// Keys are the same when their resolved values are equal the way Python
/// compares them (so `1`, `0x1`, `1.0` and `true` are one key, as in the
/// dictionary PyYAML would build), but `1` and `"1"` differ.
private struct MappingBuilder {
    private enum Identity: Hashable {
        case null
        case integer(Int64)
        case float(Double)
        case string(String)
    }

    private(set) var entries: [YAMLMappingEntry] = []
    private var seen: [Identity: SourceLocation] = [:]

    mutating func add(key: YAMLNode, value: YAMLNode) throws(LocatedError) {
        guard let scalar = key.scalar else {
            let what = key.sequence != nil ? "a sequence" : "a mapping"
            throw LocatedError(location: key.location, message: "mapping keys must be scalars, found \(what)")
        }
        let identity: Identity?
        switch scalar.value {
        case .null: identity = .null
        case .bool(let flag): identity = .integer(flag ? 1 : 0)
        case .int(let number): identity = .integer(number)
        case .float(let number):
            if number.isNaN {
                identity = nil  // NaN never equals another key.
            } else if number == number.rounded(), let exact = Int64(exactly: number) {
                identity = .integer(exact)
            } else {
                identity = .float(number)
            }
        case .string(let text): identity = .string(text)
        }
        if let identity {
            if let first = seen[identity] {
                throw LocatedError(
                    location: key.location,
                    message: "duplicate key '\(scalar.text)' (first defined at line \(first.line))")
            }
            seen[identity] = key.location
        }
        entries.append(YAMLMappingEntry(key: key, value: value))
    }
}
