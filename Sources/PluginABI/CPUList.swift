/// A Linux cpulist ("0-3,8,10-11"): the format of cpusets, `/sys/.../online`
/// and `thread_siblings_list`.
public struct CPUList: Sendable, Hashable, CustomStringConvertible {
    /// The CPU numbers, ascending, without duplicates.
    public private(set) var cpus: [Int]

    /// A list of the given CPUs.
    public init<S: Sequence>(_ cpus: S) where S.Element == Int {
        self.cpus = Array(Set(cpus)).sorted()
    }

    /// Parses cpulist text; whitespace and a trailing newline are ignored.
    /// - Throws: ``CPUListError`` naming the bad part.
    public init(parsing text: String) throws(CPUListError) {
        var result = Set<Int>()
        let trimmed = text.filter { !$0.isWhitespace }
        guard !trimmed.isEmpty else {
            cpus = []
            return
        }
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let first = Int(bounds[0]), first >= 0 else {
                throw CPUListError(text: text, part: String(part))
            }
            let last = bounds.count == 2 ? Int(bounds[1]) : first
            guard let last, last >= first, last < 65_536 else { throw CPUListError(text: text, part: String(part)) }
            result.formUnion(first...last)
        }
        cpus = result.sorted()
    }

    /// The canonical text: ranges collapsed ("0-3,8").
    public var description: String {
        var parts: [String] = []
        var index = 0
        while index < cpus.count {
            var end = index
            while end + 1 < cpus.count, cpus[end + 1] == cpus[end] + 1 { end += 1 }
            parts.append(end == index ? "\(cpus[index])" : "\(cpus[index])-\(cpus[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// Whether the list is empty.
    public var isEmpty: Bool { cpus.isEmpty }
}

/// Text that is not a cpulist.
public struct CPUListError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The whole text.
    public var text: String
    /// The offending element.
    public var part: String

    /// Creates an error.
    public init(text: String, part: String) {
        self.text = text
        self.part = part
    }

    public var description: String {
        "'\(text)' is not a CPU list like \"0-3,8\" (bad element '\(part)')"
    }
}
