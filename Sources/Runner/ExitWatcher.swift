import Dispatch
import DockerEngine
import Synchronization
import SystemSupport

/// Learns which of a run's containers died from Docker's event stream, read
/// in one-second windows on its own thread: one request per second for the
/// whole run instead of an inspect per container per poll.
final class ExitWatcher: Sendable {
    private let state = Mutex<(died: Set<String>, stopped: Bool)>(([], false))
    private let finished = DispatchSemaphore(value: 0)

    /// Starts watching `die` events of containers labelled with `benchmarkID`.
    init(docker: DockerClient, benchmarkID: String) {
        let filters = ["type": ["container"], "event": ["die"], "label": ["\(benchmarkLabel)=\(benchmarkID)"]]
        POSIXThread.detach(name: "rdt4nn-exits") { [self] in
            var since = DockerTimestamp.now()
            while !state.withLock({ $0.stopped }) {
                let until = DockerTimestamp(nanosecondsSinceEpoch: since.nanosecondsSinceEpoch + 1_000_000_000)
                do {
                    try docker.events(since: since, until: until, filters: filters) { event in
                        self.state.withLock { _ = $0.died.insert(event.actorID) }
                        return .continue
                    }
                } catch {
                    // dockerd busy or restarting: the runner still finds exits at the end; try the next window.
                    POSIXThread.sleep(nanoseconds: 200_000_000)
                }
                since = until
            }
            finished.signal()
        }
    }

    /// Whether the container with this full id has died since the watch began.
    func hasDied(_ id: String) -> Bool { state.withLock { $0.died.contains(id) } }

    /// Ends the watch (within about a second).
    func stop() {
        let wasRunning = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        if wasRunning { finished.wait() }
    }
}
