import DockerEngine
import Foundation
import HTTPClient
import Testing

/// Tests against the real dockerd on this machine (skipped with the reason when unreachable).
/// Every container is labelled with a per-test benchmark id and removed, with its image,
/// by ``withTestImage(_:)`` even when the test fails.
@Suite("DockerEngine against the real dockerd", .serialized, .enabled(if: LiveDocker.isAvailable, LiveDocker.skipComment))
struct DockerLiveTests {
    @Test func pingAndVersionNegotiation() throws {
        let client = try DockerClient()
        let ping = try client.ping()
        #expect(ping.body == "OK")
        let version = try client.version()
        let daemon = try #require(DockerAPIVersion(version.apiVersion))
        #expect(ping.apiVersion == version.apiVersion)
        #expect(client.apiVersion == min(daemon, DockerAPIVersion.maximumSupported))
        #expect(client.apiVersion >= DockerAPIVersion.minimumSupported)
    }

    @Test func importInspectAndRemoveImage() throws {
        try withTestImage { client, image, _ in
            let inspected = try client.inspectImage(image)
            #expect(inspected.id.hasPrefix("sha256:"))
            #expect(inspected.repoTags.contains(image))
            #expect(try client.imageExists(image))
            #expect(try !client.imageExists("rdt4nn-test/absent:\(UUID().uuidString.prefix(8).lowercased())"))
        }
    }

    @Test func createAppliesEveryHostConfigField() throws {
        let bindSource = FileManager.default.temporaryDirectory.appendingPathComponent("rdt4nn-bind-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: bindSource, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: bindSource) }
        try withTestImage { client, image, benchmarkID in
            let hostConfig = HostConfig(
                cpusetCpus: "0", cpusetMems: "0", memory: 64 << 20, nanoCpus: 500_000_000, privileged: true,
                binds: ["\(bindSource.path):/data:ro"],
                portBindings: ["8080/tcp": [PortBinding(hostIP: "127.0.0.1", hostPort: "18080")]],
                networkMode: "none")
            let spec = ContainerSpec(
                benchmarkID: benchmarkID, container: "all-fields", image: image,
                command: ["sleep", "1000"], entrypoint: ["/bin/busybox"], environment: ["RDT4NN_TEST=1"],
                labels: ["extra": "x"], hostConfig: hostConfig)
            let created = try client.createContainer(spec)
            #expect(created.id.count == 64)
            let inspected = try client.inspectContainer(spec.name)
            #expect(inspected.id == created.id)
            #expect(inspected.name == "bench-\(benchmarkID)-all-fields")
            #expect(inspected.hostConfig == hostConfig)
            #expect(inspected.config.command == ["sleep", "1000"])
            #expect(inspected.config.entrypoint == ["/bin/busybox"])
            #expect(inspected.config.environment.contains("RDT4NN_TEST=1"))
            #expect(inspected.config.labels[benchmarkLabel] == benchmarkID)
            #expect(inspected.config.labels[containerLabel] == "all-fields")
            #expect(inspected.config.labels["extra"] == "x")
            #expect(inspected.state.status == "created")
            #expect(inspected.state.pid == 0)
            #expect(inspected.state.startedAtTimestamp == nil)
            // Same name again: 409 with the daemon's message and the name.
            let conflict = #expect(throws: DockerError.self) { _ = try client.createContainer(spec) }
            #expect(conflict?.isConflict == true)
            #expect(conflict?.description.hasPrefix("docker: cannot create container '\(spec.name)': ") == true)
        }
    }

    @Test func startLogsExecStopWaitRemove() throws {
        try withTestImage { client, image, benchmarkID in
            let spec = ContainerSpec(
                benchmarkID: benchmarkID, container: "life", image: image,
                command: ["sh", "-c", "echo out; echo err >&2; trap 'echo term; exit 3' TERM; while true; do sleep 0.1; done"],
                hostConfig: HostConfig(networkMode: "none"))
            _ = try client.createContainer(spec)
            let before = DockerTimestamp.now()
            #expect(try client.startContainer(spec.name))
            #expect(try !client.startContainer(spec.name))  // 304: already running
            let running = try client.inspectContainer(spec.name)
            #expect(running.state.running)
            #expect(running.state.pid > 0)
            let startedAt = try #require(running.state.startedAtTimestamp)
            #expect(abs(startedAt.nanosecondsSinceEpoch - before.nanosecondsSinceEpoch) < 10_000_000_000)

            // Attached exec: output and exit code.
            let result = try client.exec(container: spec.name, spec: ExecSpec(command: ["sh", "-c", "echo hi; echo oops >&2; exit 7"]))
            #expect(result.exitCode == 7)
            #expect(result.output.stdoutText == "hi\n")
            #expect(result.output.stderrText == "oops\n")
            // Detached exec, then inspect for its exit code.
            let execID = try client.createExec(container: spec.name, spec: ExecSpec(command: ["sh", "-c", "exit 5"]))
            try client.startExec(execID)
            #expect(try client.waitForExec(execID) == 5)

            // Logs, demultiplexed (poll briefly: the shell may not have flushed yet).
            var logs = try client.logs(spec.name)
            for _ in 0..<50 where !logs.stderrText.contains("err") {
                usleep(100_000)
                logs = try client.logs(spec.name)
            }
            #expect(logs.stdoutText == "out\n")
            #expect(logs.stderrText == "err\n")

            let clock = ContinuousClock()
            let stopStart = clock.now
            #expect(try client.stopContainer(spec.name, timeout: .seconds(10)))
            #expect(clock.now - stopStart < .seconds(8))  // SIGTERM handled, no SIGKILL needed
            #expect(try !client.stopContainer(spec.name, timeout: .seconds(1)))  // 304: already stopped
            let waited = try client.waitContainer(spec.name, condition: .notRunning, timeout: .seconds(10))
            #expect(waited.statusCode == 3)
            let stopped = try client.inspectContainer(spec.name)
            #expect(stopped.state.exitCode == 3)
            #expect(!stopped.state.running && stopped.state.pid == 0)
            #expect(try client.logs(spec.name).stdoutText == "out\nterm\n")

            try client.removeContainer(spec.name, force: false, removeVolumes: true)
            let gone = #expect(throws: DockerError.self) { _ = try client.inspectContainer(spec.name) }
            #expect(gone?.isNotFound == true)
            #expect(gone?.description.contains("'\(spec.name)'") == true)
        }
    }

    @Test func killThenWaitAndForceRemove() throws {
        try withTestImage { client, image, benchmarkID in
            let spec = ContainerSpec(
                benchmarkID: benchmarkID, container: "victim", image: image, command: ["sleep", "1000"],
                hostConfig: HostConfig(networkMode: "none"))
            _ = try client.createContainer(spec)
            try client.startContainer(spec.name)
            try client.killContainer(spec.name, signal: "SIGKILL")
            let waited = try client.waitContainer(spec.name, timeout: .seconds(20))
            #expect(waited.statusCode == 137)
            let notRunning = #expect(throws: DockerError.self) { try client.killContainer(spec.name) }
            #expect(notRunning?.isConflict == true)
            // Force-remove a running container.
            let second = ContainerSpec(
                benchmarkID: benchmarkID, container: "running", image: image, command: ["sleep", "1000"],
                hostConfig: HostConfig(networkMode: "none"))
            _ = try client.createContainer(second)
            try client.startContainer(second.name)
            let refused = #expect(throws: DockerError.self) {
                try client.removeContainer(second.name, force: false)
            }
            #expect(refused?.isConflict == true)
            try client.removeContainer(second.name, force: true)
            #expect(try client.listContainers(labels: ["\(containerLabel)=running", "\(benchmarkLabel)=\(benchmarkID)"]).isEmpty)
        }
    }

    @Test func listContainersByLabel() throws {
        try withTestImage { client, image, benchmarkID in
            let other = benchmarkID + "-other"
            var names: [String] = []
            for (id, name) in [(benchmarkID, "a"), (benchmarkID, "b"), (other, "c")] {
                let spec = ContainerSpec(
                    benchmarkID: id, container: name, image: image, command: ["true"],
                    hostConfig: HostConfig(networkMode: "none"))
                _ = try client.createContainer(spec)
                names.append(spec.name)
            }
            defer { try? client.removeContainer(names[2], force: true) }
            let mine = try client.listContainers(labels: ["\(benchmarkLabel)=\(benchmarkID)"])
            #expect(Set(mine.flatMap(\.names)) == Set(names[0..<2]))
            #expect(mine.allSatisfy { $0.labels[benchmarkLabel] == benchmarkID && $0.state == "created" })
            let one = try client.listContainers(labels: ["\(benchmarkLabel)=\(other)", "\(containerLabel)=c"])
            #expect(one.map(\.names) == [[names[2]]])
        }
    }

    @Test func eventsBetweenSinceAndUntil() throws {
        try withTestImage { client, image, benchmarkID in
            let since = DockerTimestamp.now()
            let spec = ContainerSpec(
                benchmarkID: benchmarkID, container: "ev", image: image, command: ["sh", "-c", "exit 4"],
                hostConfig: HostConfig(networkMode: "none"))
            _ = try client.createContainer(spec)
            try client.startContainer(spec.name)
            #expect(try client.waitContainer(spec.name).statusCode == 4)
            let until = DockerTimestamp(nanosecondsSinceEpoch: DockerTimestamp.now().nanosecondsSinceEpoch + 500_000_000)
            var events: [DockerEvent] = []
            try client.events(
                since: since, until: until,
                filters: ["type": ["container"], "label": ["\(benchmarkLabel)=\(benchmarkID)"]]
            ) { event in
                events.append(event)
                return .continue
            }
            let actions = events.map(\.action)
            #expect(actions.starts(with: ["create", "start"]))
            #expect(actions.contains("die"))
            let die = try #require(events.first { $0.action == "die" })
            #expect(die.attributes["exitCode"] == "4")
            #expect(die.attributes["name"] == spec.name)
            #expect(die.timeNano >= since.nanosecondsSinceEpoch)

            // Stopping early from the callback ends the stream without an error.
            var count = 0
            try client.events(since: since, until: until, filters: ["label": ["\(benchmarkLabel)=\(benchmarkID)"]]) { _ in
                count += 1
                return .stop
            }
            #expect(count == 1)
        }
    }

    @Test func pullOfAMissingImageFailsWithTheDaemonsMessage() throws {
        let client = try DockerClient()
        let reference = "rdt4nn-no-such-registry.invalid/none/image:\(UUID().uuidString.prefix(8).lowercased())"
        let error = #expect(throws: DockerError.self) { try client.pullImage(reference) }
        // No registry is reachable here: a lookup/network error from the daemon is the expected
        // outcome. Either way it must be a failure carrying the daemon's message and the image.
        #expect(error?.kind == .daemon || error?.kind == .stream)
        #expect(error?.message.isEmpty == false)
        #expect(error?.description.hasPrefix("docker: cannot pull image '\(reference)': ") == true)
    }

    @Test func createWithMissingImageIs404() throws {
        let client = try DockerClient()
        let spec = ContainerSpec(
            benchmarkID: "missing", container: "x", image: "rdt4nn-test/absent:\(UUID().uuidString.prefix(8).lowercased())",
            hostConfig: HostConfig(networkMode: "none"))
        let error = #expect(throws: DockerError.self) { _ = try client.createContainer(spec) }
        #expect(error?.isNotFound == true)
        #expect(error?.message.contains("No such image") == true)
        #expect(error?.description.hasPrefix("docker: cannot create container 'bench-missing-x': ") == true)
    }
}
