import Foundation

/// A benchmark run's id: sortable by start time, unique without a database.
///
/// Format: `<name>-YYYYMMDD-HHMMSS-<8 hex>` (UTC), e.g.
/// `neighbours-20261129-083702-3f9a2c1d`; the name part is lower-cased and
/// reduced to `[a-z0-9-]`, at most 32 characters.  Valid as a Docker
/// container-name prefix, an InfluxDB tag value and a directory name.
public struct BenchmarkID: Sendable, Hashable, CustomStringConvertible {
    /// The id text.
    public let value: String

    /// Makes a new id for a benchmark `name` started at `date`.
    public init(name: String, date: Date = Date(), random: UInt32 = UInt32.random(in: .min ... .max)) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
        let stamp = "\(c.year ?? 0)\(two(c.month))\(two(c.day))-\(two(c.hour))\(two(c.minute))\(two(c.second))"
        let slug = Self.slug(name)
        let suffix = String(format: "%08x", random)
        value = slug.isEmpty ? "\(stamp)-\(suffix)" : "\(slug)-\(stamp)-\(suffix)"
    }

    /// Wraps an existing id (e.g. from `--benchmark ID`).
    public init(existing value: String) { self.value = value }

    /// `name` reduced to `[a-z0-9-]`, no leading/trailing/double dashes, ≤ 32 characters.
    static func slug(_ name: String) -> String {
        var out = ""
        for scalar in name.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty && !out.hasSuffix("-") {
                out += "-"
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return String(out.prefix(32)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    public var description: String { value }
}
