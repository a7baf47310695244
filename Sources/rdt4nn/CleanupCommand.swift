import ArgumentParsing
import DockerEngine
import Resctrl
import Runner

/// `rdt4nn cleanup [--benchmark ID]`.
struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Remove containers (and other leftovers) of crashed runs, found by their rdt4nn labels.",
        arguments: [
            .option("benchmark", valueName: "id", help: "Only leftovers of this benchmark id (default: every rdt4nn run)."),
            .option("docker-socket", valueName: "path", help: "Docker's socket (default: DOCKER_HOST or /var/run/docker.sock)."),
            .option("resctrl-root", valueName: "path", help: "Where resctrl is mounted.", default: "/sys/fs/resctrl"),
        ]
    )

    let benchmarkID: String?
    let socket: String?
    let resctrlRoot: String

    init(arguments: ParsedArguments) {
        benchmarkID = arguments.value("benchmark")
        socket = arguments.value("docker-socket")
        resctrlRoot = arguments.value("resctrl-root") ?? ResctrlFilesystem.defaultRoot
    }

    func run() throws -> ExitCode {
        var failed = false
        // Containers, by label.
        do {
            let docker = try DockerClient(configuration: DockerClient.Configuration(socketPath: socket))
            let removals = try Leftovers.removeContainers(docker: docker, benchmarkID: benchmarkID)
            if removals.isEmpty { print("No leftover containers\(benchmarkID.map { " of benchmark \($0)" } ?? "").") }
            for removal in removals {
                if let error = removal.error {
                    failed = true
                    print("not removed: container \(removal.name) (\(removal.id.prefix(12)), benchmark \(removal.benchmarkID), \(removal.state)): \(error)")
                } else {
                    print("removed container \(removal.name) (\(removal.id.prefix(12)), benchmark \(removal.benchmarkID), was \(removal.state))")
                }
            }
        } catch {
            failed = true
            printError("error: cannot clean up containers: \(error.message)")
        }
        // resctrl groups the collectors and schedulers name rdt4nn-<benchmark id>-...
        do {
            let resctrl = try ResctrlFilesystem(root: resctrlRoot)
            let prefix = "rdt4nn-" + (benchmarkID.map { "\($0)-" } ?? "")
            let removals = try resctrl.removeLeftovers(prefix: prefix)
            if removals.isEmpty { print("No leftover resctrl groups under \(resctrlRoot).") }
            for (group, error) in removals {
                if let error {
                    failed = true
                    print("not removed: resctrl group \(group): \(error)")
                } else {
                    print("removed resctrl group \(group)")
                }
            }
        } catch .notMounted {
            print("resctrl is not mounted at \(resctrlRoot): no groups to remove.")
        } catch {
            failed = true
            printError("error: cannot clean up resctrl groups: \(error)")
        }
        return failed ? .failure : .success
    }
}
