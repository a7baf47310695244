import Foundation
import PluginABI
import PluginHost
import Synchronization
import Testing

@testable import Pipeline

/// A sink double whose answers the test scripts.
private final class ScriptedSink: PipelineSink, Sendable {
    /// Decides the outcome of each write from the batch.
    let answer: @Sendable (_ call: Int, _ batch: [PluginSample]) -> SinkWriteOutcome
    let stored = Mutex<[PluginSample]>([])
    let calls = Mutex(0)
    let flushed = Mutex(0)

    init(answer: @escaping @Sendable (_ call: Int, _ batch: [PluginSample]) -> SinkWriteOutcome) {
        self.answer = answer
    }

    func write(_ samples: [PluginSample]) throws(PluginContractError) -> SinkWriteOutcome {
        let call = calls.withLock { value -> Int in
            value += 1
            return value
        }
        let outcome = answer(call, samples)
        stored.withLock { stored in
            for (index, sample) in samples.prefix(outcome.processedCount).enumerated() where !outcome.rejectedIndices.contains(index) {
                stored.append(sample)
            }
        }
        return outcome
    }

    func flush() throws(PluginCallError) { flushed.withLock { $0 += 1 } }

    var storedValues: [Int64] {
        stored.withLock { $0 }.compactMap { sample in
            if case .integer(let value)? = sample.fields.first?.value { value } else { nil }
        }
    }
}

private func ok(_ batch: [PluginSample]) -> SinkWriteOutcome {
    SinkWriteOutcome(status: .ok, processedCount: batch.count, rejectedIndices: [], httpStatus: 204, retryAfterNs: 0, message: nil)
}

private func retry(_ after: Int64 = 0) -> SinkWriteOutcome {
    SinkWriteOutcome(status: .retry, processedCount: 0, rejectedIndices: [], httpStatus: 503, retryAfterNs: after, message: "influxd is down")
}

private func samples(_ range: Range<Int>) -> [PluginSample] {
    range.map { PluginSample(measurement: "m", tags: [("container_name", "c\($0 % 3)")], fields: [("value", .integer(Int64($0)))], timestampNanoseconds: Int64($0)) }
}

private func temporarySpool() -> String {
    NSTemporaryDirectory() + "rdt4nn-spool-" + UUID().uuidString + ".jsonl"
}

@Suite(.serialized) struct PipelineTests {
    let ms: Int64 = 1_000_000

    @Test func everySampleIsWrittenInBatches() {
        let sink = ScriptedSink { _, batch in ok(batch) }
        let pipeline = Pipeline(sinks: [("s", sink, SinkPolicy(batchSize: 100, flushIntervalNs: 20 * ms))], log: { _ in })
        for start in stride(from: 0, to: 1_000, by: 50) { pipeline.submit(samples(start..<start + 50)) }
        let summary = pipeline.finish()[0]
        #expect(summary.received == 1_000)
        #expect(summary.written == 1_000)
        #expect(summary.pendingInMemory == 0 && summary.pendingInSpool == 0)
        #expect(Set(sink.storedValues) == Set(0..<1_000).reduce(into: Set<Int64>()) { $0.insert(Int64($1)) })
        #expect(sink.calls.withLock { $0 } >= 10)
        #expect(sink.flushed.withLock { $0 } == 1)
    }

    @Test func aSinkOutageSpoolsToDiskAndReplaysEverythingAfterwards() throws {
        // Down for the first 0.3 s of writes, then healthy.
        let downUntil = HostClock.monotonicNanoseconds() + 300 * ms
        let sink = ScriptedSink { _, batch in HostClock.monotonicNanoseconds() < downUntil ? retry() : ok(batch) }
        let spool = temporarySpool()
        let policy = SinkPolicy(bufferLimit: 200, batchSize: 100, flushIntervalNs: 10 * ms, overflow: .spool, spoolPath: spool, maximumBackoffNs: 50 * ms)
        let pipeline = Pipeline(sinks: [("influx", sink, policy)], log: { _ in })
        var peakInMemory = 0
        for start in stride(from: 0, to: 3_000, by: 100) {
            pipeline.submit(samples(start..<start + 100))
            peakInMemory = max(peakInMemory, pipeline.backlog)
            Thread.sleep(forTimeInterval: 0.01)
        }
        let summary = pipeline.finish()[0]
        #expect(peakInMemory <= 200, "memory stays bounded by the buffer limit")
        #expect(summary.spooled > 0)
        #expect(summary.retries > 0)
        #expect(summary.written == 3_000)
        #expect(summary.replayed == summary.spooled)
        #expect(summary.pendingInSpool == 0 && summary.pendingInMemory == 0)
        #expect(Set(sink.storedValues).count == 3_000)
        #expect(!FileManager.default.fileExists(atPath: spool), "a fully replayed spool file is removed")
    }

    @Test func rejectedSamplesAreCountedWithReasonsAndTheRestWritten() {
        let sink = ScriptedSink { _, batch in
            SinkWriteOutcome(status: .ok, processedCount: batch.count, rejectedIndices: [0], httpStatus: 400, retryAfterNs: 0,
                             message: "field type conflict: input field \"value\" on measurement \"m\" is type integer, already exists as type float")
        }
        let pipeline = Pipeline(sinks: [("s", sink, SinkPolicy(batchSize: 10, flushIntervalNs: 10 * ms))], log: { _ in })
        pipeline.submit(samples(0..<50))
        let summary = pipeline.finish()[0]
        #expect(summary.written + summary.rejected == 50)
        #expect(summary.rejected == 5)
        #expect(summary.rejectReasons.first?.hasPrefix("field type conflict") == true)
        #expect(summary.description.contains("5 rejected"))
    }

    @Test func partialProgressKeepsTheRestForTheNextWrite() {
        // Each write takes only the first half (as a 413 split would).
        let sink = ScriptedSink { _, batch in
            let half = max(1, batch.count / 2)
            return SinkWriteOutcome(status: half == batch.count ? .ok : .retry, processedCount: half, rejectedIndices: [], httpStatus: 413, retryAfterNs: 0, message: "split")
        }
        let pipeline = Pipeline(sinks: [("s", sink, SinkPolicy(batchSize: 64, flushIntervalNs: 5 * ms, maximumBackoffNs: 5 * ms))], log: { _ in })
        pipeline.submit(samples(0..<64))
        let summary = pipeline.finish()[0]
        #expect(summary.written == 64)
        #expect(sink.storedValues == (0..<64).map(Int64.init))
    }

    @Test func dropOldestCountsWhatItDrops() {
        let sink = ScriptedSink { _, _ in retry() }
        let logs = Mutex<[String]>([])
        let policy = SinkPolicy(bufferLimit: 100, batchSize: 50, flushIntervalNs: 5 * ms, overflow: .dropOldest, maximumBackoffNs: 10 * ms, finalFlushTimeoutNs: 50 * ms)
        let pipeline = Pipeline(sinks: [("s", sink, policy)], log: { line in logs.withLock { $0.append(line) } })
        pipeline.submit(samples(0..<250))
        #expect(pipeline.backlog == 100)
        let summary = pipeline.finish()[0]
        #expect(summary.written == 0)
        // 150 dropped on overflow; the last 100 could not be written and had no spool to go to.
        #expect(summary.dropped == 250)
        #expect(logs.withLock { $0 }.contains { $0.contains("no spool file configured") })
    }

    @Test func failPolicyStopsTheRun() {
        let sink = ScriptedSink { _, _ in retry() }
        let policy = SinkPolicy(bufferLimit: 10, batchSize: 5, overflow: .fail, finalFlushTimeoutNs: 10 * ms)
        let pipeline = Pipeline(sinks: [("influx", sink, policy)], log: { _ in })
        #expect(pipeline.submit(samples(0..<10)) == .ok)
        #expect(pipeline.submit(samples(10..<11)) == .backpressure)
        #expect(pipeline.failure == "sink 'influx': buffer full (10 samples) and the overflow policy is 'fail'")
        _ = pipeline.finish()
    }

    @Test func aSinkThatFailsForGoodKeepsEverythingOnDisk() throws {
        let sink = ScriptedSink { _, _ in
            SinkWriteOutcome(status: .fatal, processedCount: 0, rejectedIndices: [], httpStatus: 404, retryAfterNs: 0, message: "database \"bench\" not found")
        }
        let spool = temporarySpool()
        let pipeline = Pipeline(sinks: [("influx", sink, SinkPolicy(batchSize: 10, flushIntervalNs: 5 * ms, spoolPath: spool))], log: { _ in })
        pipeline.submit(samples(0..<30))
        Thread.sleep(forTimeInterval: 0.05)
        pipeline.submit(samples(30..<40))
        let summary = pipeline.finish()[0]
        #expect(summary.failure == "write returned FATAL: database \"bench\" not found")
        #expect(summary.written == 0)
        #expect(summary.spooled == 40)
        #expect(summary.pendingInSpool == 40)
        let replayed = try SpoolFile(path: spool).read(maximum: 1_000)
        #expect(replayed.count == 0, "a new SpoolFile object starts counting from zero")
        let lines = try String(contentsOfFile: spool, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 40)
        let values = try lines.map { line throws -> Int64 in
            let sample = try SpoolFile.decode(String(line))
            guard case .integer(let value)? = sample.fields.first?.value else { return -1 }
            return value
        }
        #expect(Set(values).count == 40)
        try FileManager.default.removeItem(atPath: spool)
    }

    @Test func overflowDuringASlowWriteNeverLosesTheSamplesBeingWritten() throws {
        // Regression: samples in flight must not be spooled, or the write's result
        // would remove other, unsent samples from the buffer.
        let sink = ScriptedSink { _, batch in
            Thread.sleep(forTimeInterval: 0.03)
            return ok(batch)
        }
        let spool = temporarySpool()
        let policy = SinkPolicy(bufferLimit: 150, batchSize: 100, flushIntervalNs: 5 * ms, overflow: .spool, spoolPath: spool)
        let pipeline = Pipeline(sinks: [("slow", sink, policy)], log: { _ in })
        for start in stride(from: 0, to: 2_000, by: 40) {
            pipeline.submit(samples(start..<start + 40))
            Thread.sleep(forTimeInterval: 0.004)
        }
        let summary = pipeline.finish()[0]
        #expect(summary.spooled > 0)
        #expect(summary.written == 2_000)
        #expect(sink.storedValues.sorted() == (0..<2_000).map(Int64.init), "every sample exactly once")
    }

    @Test func aWaitingSampleIsWrittenWithinTheFlushInterval() {
        let sink = ScriptedSink { _, batch in ok(batch) }
        let pipeline = Pipeline(sinks: [("s", sink, SinkPolicy(batchSize: 5_000, flushIntervalNs: 50 * ms))], log: { _ in })
        pipeline.submit(samples(0..<1))
        Thread.sleep(forTimeInterval: 0.25)
        #expect(sink.storedValues == [0])
        _ = pipeline.finish()
    }

    @Test func twoSinksEachGetEverySample() {
        let a = ScriptedSink { _, batch in ok(batch) }
        let b = ScriptedSink { _, batch in ok(batch) }
        let pipeline = Pipeline(sinks: [("file", a, SinkPolicy(batchSize: 7)), ("influx", b, SinkPolicy(batchSize: 13))], log: { _ in })
        pipeline.submit(samples(0..<100))
        let summaries = pipeline.finish()
        #expect(summaries.map(\.written) == [100, 100])
        #expect(a.storedValues.sorted() == b.storedValues.sorted())
    }
}

struct SpoolFileTests {
    @Test func linesRoundTripExactly() throws {
        let sample = PluginSample(
            measurement: "perf,x y",
            tags: [("container_name", "web \"1\""), ("k", "a=b")],
            fields: [("f", .float(0.1)), ("i", .integer(-5)), ("u", .unsigned(UInt64.max)), ("b", .boolean(true)), ("s", .string("line\nbreak \\ \"q\"")), ("nan", .float(.nan))],
            timestampNanoseconds: 1_700_000_000_123_456_789
        )
        let decoded = try SpoolFile.decode(SpoolFile.encode(sample))
        var expected = sample
        expected.fields.removeLast()  // NaN is absent, never a made-up number
        #expect(decoded == expected)
    }

    @Test func readBackIsIncrementalAndTheFileGoesWhenDone() throws {
        let path = temporarySpool()
        let spool = SpoolFile(path: path)
        try spool.append(samples(0..<10))
        #expect(spool.unreadCount == 10)
        let first = try spool.read(maximum: 4)
        try spool.append(samples(10..<12))
        let rest = try spool.read(maximum: 100)
        #expect((first + rest).map(\.timestampNanoseconds) == (0..<12).map(Int64.init))
        #expect(spool.unreadCount == 0)
        spool.close()
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
