import ArgumentParsing
import DockerEngine
import Runner

/// `rdt4nn cleanup [--benchmark ID]`.
struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Remove containers (and other leftovers) of crashed runs, found by their rdt4nn labels.",
        arguments: [
            .option("benchmark", valueName: "id", help: "Only leftovers of this benchmark id (default: every rdt4nn run)."),
            .option("docker-socket", valueName: "path", help: "Docker's socket (default: DOCKER_HOST or /var/run/docker.sock)."),
        ]
    )

    let benchmarkID: String?
    let socket: String?

    init(arguments: ParsedArguments) {
        benchmarkID = arguments.value("benchmark")
        socket = arguments.value("docker-socket")
    }

    func run() throws -> ExitCode {
        let docker: DockerClient
        do {
            docker = try DockerClient(configuration: DockerClient.Configuration(socketPath: socket))
        } catch {
            printError("error: cannot reach dockerd: \(error.message)")
            return .failure
        }
        let removals = try Leftovers.removeContainers(docker: docker, benchmarkID: benchmarkID)
        if removals.isEmpty {
            print("No leftover containers\(benchmarkID.map { " of benchmark \($0)" } ?? "").")
            return .success
        }
        var failed = false
        for removal in removals {
            if let error = removal.error {
                failed = true
                print("not removed: \(removal.name) (\(removal.id.prefix(12)), benchmark \(removal.benchmarkID), \(removal.state)): \(error)")
            } else {
                print("removed \(removal.name) (\(removal.id.prefix(12)), benchmark \(removal.benchmarkID), was \(removal.state))")
            }
        }
        return failed ? .failure : .success
    }
}
