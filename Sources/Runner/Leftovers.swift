import DockerEngine

/// Finds and removes what crashed runs left behind.
public enum Leftovers {
    /// One removed (or failed-to-remove) container.
    public struct Removal: Sendable, Equatable {
        public var name: String
        public var id: String
        public var benchmarkID: String
        public var state: String
        /// nil when removed; else why not.
        public var error: String?
    }

    /// Removes every container labelled `rdt4nn.benchmark` (or `=benchmarkID`).
    public static func removeContainers(docker: DockerClient, benchmarkID: String?) throws(DockerError) -> [Removal] {
        let label = benchmarkID.map { "\(benchmarkLabel)=\($0)" } ?? benchmarkLabel
        let found = try docker.listContainers(labels: [label], all: true)
        return found.map { container in
            var removal = Removal(
                name: container.names.first.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 } ?? container.id,
                id: container.id, benchmarkID: container.labels[benchmarkLabel] ?? "", state: container.state, error: nil)
            do throws(DockerError) {
                try docker.removeContainer(container.id, force: true, removeVolumes: true)
            } catch {
                if !error.isNotFound { removal.error = error.message }
            }
            return removal
        }
    }
}
