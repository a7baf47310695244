/// Lines of line protocol in one buffer, each ending in `\n`, addressable by
/// index so that a write can be split, and rejected lines named.
public struct LineBatch: Sendable {
    /// The lines, back to back.
    public private(set) var bytes: [UInt8] = []
    /// End offset (exclusive, after the `\n`) of each line.
    public private(set) var lineEnds: [Int] = []

    /// An empty batch.
    public init() {}

    /// Number of lines.
    public var count: Int { lineEnds.count }

    /// Whether there are no lines.
    public var isEmpty: Bool { lineEnds.isEmpty }

    /// Line `index` without its `\n`.
    public func line(_ index: Int) -> ArraySlice<UInt8> {
        let start = index == 0 ? 0 : lineEnds[index - 1]
        return bytes[start..<(lineEnds[index] - 1)]
    }

    /// Line `index` as text, for messages.
    public func text(_ index: Int) -> String { String(decoding: line(index), as: UTF8.self) }

    /// Appends one line; a `\n` is added when it does not end in one.
    /// The line must not contain other newlines.
    public mutating func append<Bytes: BidirectionalCollection<UInt8>>(line: Bytes) {
        bytes.append(contentsOf: line)
        if line.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        lineEnds.append(bytes.count)
    }

    /// Lets `body` append exactly one line (ending in `\n`) to the buffer, as
    /// `LineProtocolEncoder.append(_:to:)` does. Nothing is recorded when
    /// `body` throws or appends nothing.
    /// - Returns: whether a line was added.
    @discardableResult
    public mutating func appendEncoded<E: Error>(_ body: (inout [UInt8]) throws(E) -> Void) throws(E) -> Bool {
        let before = bytes.count
        do {
            try body(&bytes)
        } catch {
            bytes.removeSubrange(before...)
            throw error
        }
        guard bytes.count > before else { return false }
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        lineEnds.append(bytes.count)
        return true
    }

    /// Empties the batch, keeping its storage.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        lineEnds.removeAll(keepingCapacity: true)
    }

    /// The request body for the lines at `indices` (ascending).
    func body(for indices: ArraySlice<Int>) -> [UInt8] {
        if indices.count == count, indices.first == 0 { return bytes }
        var body: [UInt8] = []
        var runStart = indices.first ?? 0
        var previous = runStart - 1
        func flush(_ end: Int) {
            guard end > runStart else { return }
            let from = runStart == 0 ? 0 : lineEnds[runStart - 1]
            body.append(contentsOf: bytes[from..<lineEnds[end - 1]])
        }
        for index in indices {
            if index != previous + 1 {
                flush(previous + 1)
                runStart = index
            }
            previous = index
        }
        flush(previous + 1)
        return body
    }
}
