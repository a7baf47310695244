/// A resctrl resource group, named by where it sits in the tree.
///
/// - the root (default) CTRL_MON group: `controlGroup == nil, monitorGroup == nil`;
/// - a CTRL_MON group: `<root>/<controlGroup>`;
/// - a MON group: `<root>[/<controlGroup>]/mon_groups/<monitorGroup>`.
public struct ResctrlGroup: Sendable, Hashable, CustomStringConvertible {
    /// The CTRL_MON group's directory name; nil for the root group.
    public var controlGroup: String?
    /// The MON group's directory name; nil for a CTRL_MON group.
    public var monitorGroup: String?

    /// Creates a group reference (no file system access).
    public init(controlGroup: String?, monitorGroup: String? = nil) {
        self.controlGroup = controlGroup
        self.monitorGroup = monitorGroup
    }

    /// The root (default) group.
    public static let root = ResctrlGroup(controlGroup: nil)

    /// True for the root group.
    public var isRoot: Bool { controlGroup == nil && monitorGroup == nil }
    /// True for a MON group.
    public var isMonitorGroup: Bool { monitorGroup != nil }

    /// The CTRL_MON group this group belongs to (itself for a CTRL_MON group).
    public var parentControlGroup: ResctrlGroup { ResctrlGroup(controlGroup: controlGroup) }

    /// The directory relative to the mount root ("" for the root group).
    public var relativePath: String {
        var parts: [String] = []
        if let controlGroup { parts.append(controlGroup) }
        if let monitorGroup { parts += ["mon_groups", monitorGroup] }
        return parts.joined(separator: "/")
    }

    /// The directory name of the group itself (`"/"` for root).
    public var name: String { monitorGroup ?? controlGroup ?? "/" }

    /// `/`, `/<ctrl>`, `/<ctrl>/mon_groups/<mon>`: as `/proc/<pid>/resctrl` shows it.
    public var description: String { "/" + relativePath }

    /// Names the kernel forbids or that would escape the group's directory.
    static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.utf8.count > 255 { return "the name is longer than 255 bytes" }
        if name == "." || name == ".." { return "'\(name)' is not a directory name" }
        if ["info", "mon_groups", "mon_data"].contains(name) { return "'\(name)' is reserved by resctrl" }
        if name.contains("/") || name.contains("\n") || name.contains("\0") { return "the name contains '/', a newline or NUL" }
        return nil
    }

    /// A group name `<prefix>-<part>-<part>...` made of `[A-Za-z0-9_.-]`
    /// (other characters become `_`; empty parts are skipped), cut to 255 bytes.
    public static func makeName(prefix: String, _ parts: [String]) -> String {
        func clean(_ text: String) -> String {
            String(text.unicodeScalars.map { scalar -> Character in
                let ok = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
                    || scalar == "_" || scalar == "." || scalar == "-"
                return ok ? Character(scalar) : "_"
            })
        }
        let name = ([clean(prefix)] + parts.map(clean).filter { !$0.isEmpty }).joined(separator: "-")
        return String(name.utf8.prefix(255)) ?? name
    }
}
