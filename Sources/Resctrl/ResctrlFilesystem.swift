#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A resctrl tree: the kernel's (`/sys/fs/resctrl`) or a fake one built by
/// tests, behind one API.
///
/// The root is configurable.  At the default root the tree must be a real
/// resctrl mount (a `resctrl` line for it in `/proc/mounts`); elsewhere, a
/// directory that is not a resctrl mount but has an `info/` directory is
/// treated as a fake tree (``Backing/directoryTree``).  On a fake tree the
/// library stands in for the kernel only where a plain directory cannot
/// behave like resctrl: removing a populated group.  Everything a write must
/// satisfy (CBM and MB rules) is validated by this library on both backings,
/// exactly as the kernel would.
///
/// Multi-file sequences take `flock` on the mount directory (exclusive for
/// changes, shared for reads), as the kernel documentation asks.
public struct ResctrlFilesystem: Sendable {
    /// What is behind the root.
    public enum Backing: Sendable, Equatable {
        /// The kernel's resctrl file system, with its mount options
        /// (`cdp`, `mba_MBps`, ...).
        case kernel(mountOptions: [String])
        /// A plain directory tree shaped like resctrl (tests).
        case directoryTree
    }

    /// Where resctrl is mounted by convention.
    public static let defaultRoot = "/sys/fs/resctrl"
    /// The mount point (or fake tree) without a trailing slash.
    public let root: String
    /// Kernel or fake tree.
    public let backing: Backing

    /// Opens the tree at `root`.
    /// - Parameter mountsFile: where to read mount options (`/proc/mounts`).
    /// - Throws: ``ResctrlError/notMounted(root:detail:)`` when `root` is not a
    ///   resctrl mount (at the default root) or not a resctrl-shaped tree.
    public init(root: String = ResctrlFilesystem.defaultRoot, mountsFile: String = "/proc/mounts") throws(ResctrlError) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
        guard SystemFiles.isDirectory(root) else {
            throw .notMounted(root: root, detail: SystemFiles.exists(root) ? "\(root) is not a directory" : "\(root) does not exist")
        }
        if let options = Self.resctrlMountOptions(at: root, mountsFile: mountsFile) {
            backing = .kernel(mountOptions: options)
            return
        }
        if root == Self.defaultRoot {
            throw .notMounted(root: root, detail: "the directory exists but no resctrl file system is mounted on it")
        }
        guard SystemFiles.isDirectory(root + "/info") else {
            throw .notMounted(root: root, detail: "it is neither a resctrl mount nor a resctrl-shaped tree with info/")
        }
        backing = .directoryTree
    }

    /// True on the kernel's resctrl.
    public var isKernel: Bool {
        if case .kernel = backing { return true }
        return false
    }

    /// The options of the resctrl mount at `root` (compared after resolving
    /// symbolic links) listed in `mountsFile`, nil when none is listed.
    static func resctrlMountOptions(at root: String, mountsFile: String) -> [String]? {
        guard case .success(let text) = SystemFiles.read(mountsFile) else { return nil }
        let resolved = SystemFiles.realPath(root) ?? root
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 4, fields[2] == "resctrl" else { continue }
            // Mount points escape space, tab, newline and backslash as octal.
            let point = String(fields[1]).replacingOctalEscapes()
            if point == root || point == resolved {
                return fields[3].split(separator: ",").map(String.init)
            }
        }
        return nil
    }

    // MARK: - Paths and small reads

    /// Absolute path of `relative` below the root.
    public func path(_ relative: String) -> String {
        relative.isEmpty ? root : root + "/" + relative
    }

    /// Absolute directory of `group`.
    public func directory(of group: ResctrlGroup) -> String {
        path(group.relativePath)
    }

    /// Reads `relative` (below the root) as text.
    func readText(_ relative: String) throws(ResctrlError) -> String {
        let full = path(relative)
        switch SystemFiles.read(full) {
        case .success(let text): return text
        case .failure(let error): throw Self.readError(error.code, path: full)
        }
    }

    static func readError(_ code: Int32, path: String) -> ResctrlError {
        switch code {
        case ENOENT, ENODEV, ENOTDIR: .gone(path: path)
        case EACCES, EPERM: .permission(path: path, detail: "reading needs root", status: nil)
        default: .io(path: path, operation: "read", errno: code, status: nil)
        }
    }

    /// The kernel's explanation of the last failed command
    /// (`info/last_cmd_status`), nil when unreadable or `ok`.
    public func lastCommandStatus() -> String? {
        guard case .success(let text) = SystemFiles.read(path("info/last_cmd_status")) else { return nil }
        let status = text.trimmingWhitespace()
        return status.isEmpty || status == "ok" ? nil : status
    }

    // MARK: - Features

    /// Reads `info/`: cache allocation, MBA and L3 monitoring.
    public func features() throws(ResctrlError) -> ResctrlFeatures {
        let entries: [(name: String, isDirectory: Bool)]
        switch SystemFiles.list(path("info")) {
        case .success(let list): entries = list
        case .failure(let error): throw Self.readError(error.code, path: path("info"))
        }
        let mountOptions: [String]
        if case .kernel(let options) = backing { mountOptions = options } else { mountOptions = [] }
        var caches: [CacheAllocation] = []
        var bandwidth: MemoryBandwidthAllocation?
        var monitoring: L3Monitoring?
        for entry in entries where entry.isDirectory {
            let dir = "info/" + entry.name
            switch entry.name {
            case "L3", "L3CODE", "L3DATA", "L2", "L2CODE", "L2DATA":
                let minBits = try integer(dir + "/min_cbm_bits")
                let sparse = try optionalInteger(dir + "/sparse_masks").map { $0 != 0 } ?? (minBits == 0)
                caches.append(
                    CacheAllocation(
                        resource: entry.name,
                        cbmMask: try hex(dir + "/cbm_mask"),
                        minCBMBits: minBits,
                        numCLOSIDs: try integer(dir + "/num_closids"),
                        shareableBits: try optionalHex(dir + "/shareable_bits") ?? 0,
                        sparseMasks: sparse
                    )
                )
            case "MB":
                let minimum = try integer(dir + "/min_bandwidth")
                let mode = try optionalText(dir + "/thread_throttle_mode")
                let isMBps = mountOptions.contains("mba_MBps")
                bandwidth = MemoryBandwidthAllocation(
                    minBandwidth: minimum,
                    granularity: max(1, try integer(dir + "/bandwidth_gran")),
                    delayLinear: (try optionalInteger(dir + "/delay_linear") ?? 1) != 0,
                    numCLOSIDs: try integer(dir + "/num_closids"),
                    throttleMode: mode,
                    maxBandwidth: MemoryBandwidthAllocation.inferredMax(minBandwidth: minimum, throttleMode: mode, isMBps: isMBps),
                    isMBps: isMBps
                )
            case "L3_MON":
                let features = try readText(dir + "/mon_features")
                    .split(separator: "\n").map { $0.trimmingWhitespace() }
                    .filter { !$0.isEmpty && !$0.hasSuffix("_config") }
                monitoring = L3Monitoring(
                    numRMIDs: try integer(dir + "/num_rmids"),
                    events: features,
                    maxThresholdOccupancy: try optionalInteger(dir + "/max_threshold_occupancy").map { UInt64($0) }
                )
            default:
                continue
            }
        }
        return ResctrlFeatures(caches: caches.sorted { $0.resource < $1.resource }, memoryBandwidth: bandwidth, monitoring: monitoring)
    }

    private func optionalText(_ relative: String) throws(ResctrlError) -> String? {
        do {
            return try readText(relative).trimmingWhitespace()
        } catch {
            if error.isGone { return nil }
            throw error
        }
    }

    private func integer(_ relative: String) throws(ResctrlError) -> Int {
        let text = try readText(relative).trimmingWhitespace()
        guard let value = Int(text) else { throw .malformed(path: path(relative), detail: "'\(text)' is not a decimal number") }
        return value
    }

    private func optionalInteger(_ relative: String) throws(ResctrlError) -> Int? {
        guard let text = try optionalText(relative) else { return nil }
        guard let value = Int(text) else { throw .malformed(path: path(relative), detail: "'\(text)' is not a decimal number") }
        return value
    }

    private func hex(_ relative: String) throws(ResctrlError) -> UInt64 {
        let text = try readText(relative).trimmingWhitespace()
        guard let value = UInt64(text, radix: 16) else { throw .malformed(path: path(relative), detail: "'\(text)' is not a hex mask") }
        return value
    }

    private func optionalHex(_ relative: String) throws(ResctrlError) -> UInt64? {
        guard let text = try optionalText(relative) else { return nil }
        guard let value = UInt64(text, radix: 16) else { throw .malformed(path: path(relative), detail: "'\(text)' is not a hex mask") }
        return value
    }

    // MARK: - Groups

    /// True when `group`'s directory exists.
    public func exists(_ group: ResctrlGroup) -> Bool {
        SystemFiles.isDirectory(directory(of: group))
    }

    /// The CTRL_MON groups below the root (the root group itself excluded).
    public func controlGroups() throws(ResctrlError) -> [ResctrlGroup] {
        switch SystemFiles.list(root) {
        case .failure(let error): throw Self.readError(error.code, path: root)
        case .success(let entries):
            return entries.filter { $0.isDirectory && !["info", "mon_groups", "mon_data"].contains($0.name) }
                .map { ResctrlGroup(controlGroup: $0.name) }
        }
    }

    /// The MON groups of the CTRL_MON group `parent` (the root when nil).
    public func monitorGroups(in parent: ResctrlGroup = .root) throws(ResctrlError) -> [ResctrlGroup] {
        let dir = directory(of: parent.parentControlGroup) + "/mon_groups"
        switch SystemFiles.list(dir) {
        case .failure(let error):
            if error.code == ENOENT { return [] }
            throw Self.readError(error.code, path: dir)
        case .success(let entries):
            return entries.filter(\.isDirectory).map { ResctrlGroup(controlGroup: parent.controlGroup, monitorGroup: $0.name) }
        }
    }

    /// Every group below the root: CTRL_MON groups and all MON groups.
    public func allGroups() throws(ResctrlError) -> [ResctrlGroup] {
        var groups: [ResctrlGroup] = []
        for control in [ResctrlGroup.root] + (try controlGroups()) {
            if !control.isRoot { groups.append(control) }
            groups += try monitorGroups(in: control)
        }
        return groups
    }

    /// Creates a CTRL_MON group `name` at the top level (takes a CLOSID and an RMID).
    public func createControlGroup(_ name: String) throws(ResctrlError) -> ResctrlGroup {
        let group = ResctrlGroup(controlGroup: name)
        try create(group, name: name)
        return group
    }

    /// Creates a MON group `name` in `parent`'s `mon_groups/` (takes an RMID).
    public func createMonitorGroup(_ name: String, in parent: ResctrlGroup = .root) throws(ResctrlError) -> ResctrlGroup {
        let group = ResctrlGroup(controlGroup: parent.controlGroup, monitorGroup: name)
        try create(group, name: name)
        return group
    }

    private func create(_ group: ResctrlGroup, name: String) throws(ResctrlError) {
        let full = directory(of: group)
        if let problem = ResctrlGroup.nameProblem(name) { throw .invalid(path: full, message: "bad group name: \(problem)") }
        let lock = MountLock(root: root, exclusive: true)
        defer { lock?.release() }
        guard let error = SystemFiles.makeDirectory(full) else { return }
        // Read the kernel's reason before any other resctrl command clears it.
        let status = lastCommandStatus()
        switch error.code {
        case ENOSPC:
            throw outOfIDs(full, group: group, status: status)
        case EBUSY:
            throw .busy(path: full, status: status)
        case EEXIST:
            throw .exists(path: full)
        case ENOENT:
            throw .gone(path: (full as String).deletingLastPathComponent())
        case EPERM, EACCES:
            let detail: String
            if !group.isMonitorGroup, let features = try? features(), !features.hasAllocation {
                detail = "CTRL_MON groups need cache or bandwidth allocation, and this system only monitors: create MON groups in mon_groups/ instead"
            } else {
                detail = "creating resctrl groups needs root"
            }
            throw .permission(path: full, detail: detail, status: status)
        default:
            throw .io(path: full, operation: "mkdir", errno: error.code, status: status)
        }
    }

    private func outOfIDs(_ full: String, group: ResctrlGroup, status: String?) -> ResctrlError {
        let features = try? features()
        let groups = (try? allGroups()) ?? []
        let controlCount = groups.filter { !$0.isMonitorGroup }.count + 1
        // Every group holds one RMID: the root, each CTRL_MON and each MON group.
        let rmids = ResctrlError.outOfIDs(path: full, kind: "RMIDs", inUse: groups.count + 1, limit: features?.monitoring?.numRMIDs, status: status)
        let closids = ResctrlError.outOfIDs(path: full, kind: "CLOSIDs", inUse: controlCount, limit: features?.closidLimit, status: status)
        let lower = status?.lowercased() ?? ""
        if lower.contains("closid") { return closids }
        if lower.contains("rmid") { return rmids }
        if lower.hasPrefix("no space on") {
            return .outOfIDs(path: full, kind: "cache ways (no free bits for a new group's default mask)", inUse: controlCount, limit: features?.closidLimit, status: status)
        }
        if !group.isMonitorGroup, let limit = features?.closidLimit, controlCount >= limit { return closids }
        return rmids
    }

    /// Removes `group` (`rmdir`): its tasks go back to the parent group, and a
    /// CTRL_MON group's MON groups vanish with it.  On a fake tree the files
    /// the kernel would drop are removed too.
    /// - Throws: ``ResctrlError/gone(path:)`` when it does not exist.
    public func remove(_ group: ResctrlGroup) throws(ResctrlError) {
        guard !group.isRoot else { throw .invalid(path: root, message: "the root group cannot be removed") }
        let full = directory(of: group)
        let lock = MountLock(root: root, exclusive: true)
        defer { lock?.release() }
        var error = SystemFiles.removeDirectory(full)
        if let failure = error, backing == .directoryTree, failure.code == ENOTEMPTY || failure.code == EEXIST {
            error = SystemFiles.removeTree(full)
        }
        guard let error else { return }
        switch error.code {
        case ENOENT: throw .gone(path: full)
        case EPERM, EACCES: throw .permission(path: full, detail: "removing resctrl groups needs root", status: lastCommandStatus())
        case EBUSY: throw .busy(path: full, status: lastCommandStatus())
        default: throw .io(path: full, operation: "rmdir", errno: error.code, status: lastCommandStatus())
        }
    }

    /// Groups whose directory name starts with `prefix` — leftovers of runs
    /// that crashed before removing theirs.  MON groups come before their
    /// CTRL_MON parents, so removing in order never removes a parent first.
    /// MON groups inside a prefixed CTRL_MON group are not listed (removing the
    /// parent removes them).
    public func leftoverGroups(prefix: String) throws(ResctrlError) -> [ResctrlGroup] {
        guard !prefix.isEmpty else { throw .invalid(path: root, message: "an empty prefix would match every group") }
        var monitors: [ResctrlGroup] = []
        var controls: [ResctrlGroup] = []
        for control in [ResctrlGroup.root] + (try controlGroups()) {
            if let name = control.controlGroup, name.hasPrefix(prefix) {
                controls.append(control)
                continue
            }
            monitors += try monitorGroups(in: control).filter { $0.monitorGroup!.hasPrefix(prefix) }
        }
        return monitors + controls
    }

    /// Removes every group ``leftoverGroups(prefix:)`` lists; returns each
    /// group with the error that kept it, if any.
    public func removeLeftovers(prefix: String) throws(ResctrlError) -> [(group: ResctrlGroup, error: ResctrlError?)] {
        var results: [(group: ResctrlGroup, error: ResctrlError?)] = []
        for group in try leftoverGroups(prefix: prefix) {
            do {
                try remove(group)
                results.append((group, nil))
            } catch {
                results.append((group, error.isGone ? nil : error))
            }
        }
        return results
    }

    // MARK: - Tasks

    /// The task ids (TIDs) in `group`'s `tasks` file.
    public func tasks(of group: ResctrlGroup) throws(ResctrlError) -> [Int32] {
        try readText(group.relativePath.isEmpty ? "tasks" : group.relativePath + "/tasks")
            .split(separator: "\n").compactMap { Int32($0.trimmingWhitespace()) }
    }

    /// The CTRL_MON group that holds task `tid` (the root when none of the
    /// others lists it).  Reads `/proc/<tid>/resctrl` on the kernel when the
    /// kernel provides it, else scans the CTRL_MON groups' `tasks` files.
    public func controlGroup(ofTask tid: Int32, procRoot: String = "/proc") throws(ResctrlError) -> ResctrlGroup {
        if isKernel, case .success(let text) = SystemFiles.read("\(procRoot)/\(tid)/resctrl") {
            for line in text.split(separator: "\n") where line.hasPrefix("res:") {
                let name = line.dropFirst(4).trimmingWhitespace().split(separator: "/").first.map(String.init)
                return ResctrlGroup(controlGroup: name)
            }
        }
        for group in try controlGroups() {
            let ids: [Int32]
            do {
                ids = try tasks(of: group)
            } catch {
                if error.isGone { continue }
                throw error
            }
            if ids.contains(tid) { return group }
        }
        return .root
    }

    /// Moves the tasks `tids` into `group`, one TID per `write(2)` (the only
    /// form every kernel accepts).  A task that exited meanwhile (ESRCH) is
    /// counted, not an error; other refusals are collected with the kernel's
    /// `last_cmd_status` text.
    /// - Throws: ``ResctrlError/gone(path:)`` when the group's `tasks` file
    ///   does not exist (group removed; on a fake tree: not populated yet).
    public func assign(_ tids: [Int32], to group: ResctrlGroup) throws(ResctrlError) -> TaskAssignment {
        var result = TaskAssignment()
        guard !tids.isEmpty else { return result }
        let file = path(group.relativePath.isEmpty ? "tasks" : group.relativePath + "/tasks")
        let lock = MountLock(root: root, exclusive: true)
        defer { lock?.release() }
        // O_APPEND: like `echo $tid >> tasks`; the kernel ignores the offset,
        // a fake tree keeps every written line.
        let fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT, ENODEV: throw .gone(path: file)
            case EACCES, EPERM: throw .permission(path: file, detail: "moving tasks needs root", status: nil)
            default: throw .io(path: file, operation: "open", errno: code, status: nil)
            }
        }
        defer { close(fd) }
        for tid in tids {
            if let error = SystemFiles.writeOnce(fd: fd, "\(tid)\n") {
                switch error.code {
                case ESRCH:
                    result.exited += 1
                case ENODEV, ENOENT:
                    throw .gone(path: file)
                default:
                    result.refused.append(TaskAssignment.Refusal(tid: tid, errno: error.code, status: lastCommandStatus()))
                }
            } else {
                result.moved += 1
            }
        }
        return result
    }

    // MARK: - Schemata

    /// The parsed `schemata` of a CTRL_MON group (the root included).
    public func schemata(of group: ResctrlGroup) throws(ResctrlError) -> Schemata {
        guard !group.isMonitorGroup else { throw .invalid(path: directory(of: group), message: "MON groups have no schemata") }
        let relative = group.relativePath.isEmpty ? "schemata" : group.relativePath + "/schemata"
        return try Schemata(parsing: try readText(relative), path: path(relative))
    }

    /// The group's `mode` (`shareable`, `exclusive`, ...).
    public func mode(of group: ResctrlGroup) throws(ResctrlError) -> String {
        let relative = group.relativePath.isEmpty ? "mode" : group.relativePath + "/mode"
        return try readText(relative).trimmingWhitespace()
    }

    /// A validator for writes to `group`'s schemata, with the domains and
    /// other groups as they are now.
    public func validator(for group: ResctrlGroup) throws(ResctrlError) -> SchemataValidator {
        let features = try features()
        let rootSchemata = try schemata(of: .root)
        var others: [SchemataValidator.OtherGroup] = []
        for other in [ResctrlGroup.root] + (try controlGroups()) where other != group {
            guard let otherSchemata = try? schemata(of: other) else { continue }
            others.append(.init(name: other.description, mode: (try? mode(of: other)) ?? "shareable", schemata: otherSchemata))
        }
        return SchemataValidator(
            features: features,
            domains: rootSchemata.domainsByResource,
            mode: (try? mode(of: group)) ?? "shareable",
            others: others
        )
    }

    /// Applies `update` (only the resources and domains it names change) to
    /// `group`'s schemata: validated first exactly as the kernel validates,
    /// then written as the whole merged schemata in one `write(2)`, under an
    /// exclusive lock.  MB values are rounded up to the granularity as the
    /// kernel does, so the returned schemata is what is in effect.
    public func writeSchemata(_ update: Schemata, to group: ResctrlGroup) throws(ResctrlError) -> Schemata {
        guard !group.isMonitorGroup else { throw .invalid(path: directory(of: group), message: "MON groups have no schemata") }
        let relative = group.relativePath.isEmpty ? "schemata" : group.relativePath + "/schemata"
        let full = path(relative)
        let lock = MountLock(root: root, exclusive: true)
        defer { lock?.release() }
        let validator = try validator(for: group)
        let effective: Schemata
        switch validator.validate(writing: update.text) {
        case .failure(let rejection): throw .invalid(path: full, message: rejection.description)
        case .success(let validated): effective = validated
        }
        var merged = try schemata(of: group)
        merged.apply(effective)
        if let error = SystemFiles.writeOnce(full, merged.text, flags: O_WRONLY | O_TRUNC) {
            let status = lastCommandStatus()
            switch error.code {
            case EINVAL: throw .invalid(path: full, message: status ?? "EINVAL without a status text (unknown domain id?)")
            case ENOENT, ENODEV: throw .gone(path: full)
            case EACCES, EPERM: throw .permission(path: full, detail: "writing schemata needs root", status: status)
            default: throw .io(path: full, operation: "write", errno: error.code, status: status)
            }
        }
        return merged
    }
}

/// What ``ResctrlFilesystem/assign(_:to:)`` did.
public struct TaskAssignment: Sendable, Equatable {
    /// One refused task.
    public struct Refusal: Sendable, Equatable, CustomStringConvertible {
        /// The task id.
        public var tid: Int32
        /// The errno of its `write(2)`.
        public var errno: Int32
        /// `info/last_cmd_status` right after it.
        public var status: String?

        /// "task 42: No permission to move task 42 (EPERM ...)".
        public var description: String {
            "task \(tid): \(status ?? ResctrlError.errnoText(errno)) (errno \(errno))"
        }
    }

    /// Tasks written successfully.
    public var moved = 0
    /// Tasks that exited before the write (ESRCH): normal for short-lived ones.
    public var exited = 0
    /// Tasks the kernel refused.
    public var refused: [Refusal] = []

    /// Creates an empty result.
    public init() {}
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension String {
    /// `\040` → space etc., as `/proc/mounts` escapes mount points.
    func replacingOctalEscapes() -> String {
        guard contains("\\") else { return self }
        var bytes: [UInt8] = []
        let utf8 = Array(self.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == 0x5C, index + 3 < utf8.count,
               let value = UInt8(String(decoding: utf8[(index + 1)...(index + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The path without its last component.
    func deletingLastPathComponent() -> String {
        guard let slash = lastIndex(of: "/") else { return "." }
        return slash == startIndex ? "/" : String(self[..<slash])
    }
}
