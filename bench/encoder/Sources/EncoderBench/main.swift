// Measures LineProtocolEncoder throughput on one thread (= per core) for a
// realistic perf point, next to a naive String-interpolation encoder.
import CBenchMallocCounter
import LineProtocol

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Workload

/// A perf sample as rdt4nn writes it: 5 tags, 8 fields of mixed types.
func perfPoint(_ index: Int, shuffleTags: Bool) -> Point {
    var tags = [
        Tag("benchmark_id", "20261129-083700-7f3a"),
        Tag("collector", "perf"),
        Tag("container_id", "3f2a9c1b7d0e"),
        Tag("container_index", String(index % 8)),
        Tag("container_name", "victim-\(index % 8)"),
    ]
    if shuffleTags { tags.reverse() }
    let instructions = Int64(1_234_567_890 + index * 7919)
    let cycles = Int64(987_654_321 + index * 104_729)
    return Point(
        measurement: "perf",
        tags: tags,
        fields: [
            Field("instructions", .integer(instructions)),
            Field("cycles", .integer(cycles)),
            Field("instructions_enabled_ns", .integer(1_000_000_000)),
            Field("instructions_running_ns", .integer(Int64(500_000_000 + index))),
            Field("ipc", .float(Double(instructions) / Double(cycles))),
            Field("cache_miss_rate", .float(Double(index % 1000) / 1337.0)),
            Field("multiplexed", .boolean(index % 2 == 0)),
            Field("event_source", .string("software")),
        ],
        timestampNanoseconds: 1_732_874_400_000_000_000 + Int64(index) * 1_000_000_000)
}

// MARK: - Baseline

/// What one writes first: Strings, interpolation, `sorted`, `map`, `joined`.
func naiveLine(_ point: Point) -> String {
    func escaped(_ text: String, _ special: Set<Character>) -> String {
        var out = ""
        for character in text {
            if special.contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
    let nameSpecial: Set<Character> = [",", " "]
    let keySpecial: Set<Character> = [",", "=", " "]
    var line = escaped(point.measurement, nameSpecial)
    for tag in point.tags.sorted(by: { $0.key < $1.key }) where !tag.value.isEmpty {
        line += ",\(escaped(tag.key, keySpecial))=\(escaped(tag.value, keySpecial))"
    }
    let fields = point.fields.map { field -> String in
        let value: String
        switch field.value {
        case .float(let number): value = "\(number)"
        case .integer(let number): value = "\(number)i"
        case .unsigned(let number): value = "\(Int64(clamping: number))i"
        case .boolean(let flag): value = "\(flag)"
        case .string(let text): value = "\"\(escaped(text, ["\"", "\\"]))\""
        }
        return "\(escaped(field.key, keySpecial))=\(value)"
    }
    line += " \(fields.joined(separator: ",")) \(point.timestampNanoseconds)\n"
    return line
}

// MARK: - Measurement

let pointsPerBatch = 5_000  // the documented write batch size
let points = (0..<1_024).map { perfPoint($0, shuffleTags: false) }
let shuffled = (0..<1_024).map { perfPoint($0, shuffleTags: true) }

/// Seconds on `clock`: CLOCK_THREAD_CPUTIME_ID counts only the time this
/// thread ran, so other processes on the shared machine do not dilute the
/// per-core figure; CLOCK_MONOTONIC gives wall-clock time for comparison.
func now(_ clock: clockid_t) -> Double {
    var time = timespec()
    clock_gettime(clock, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

struct Measurement {
    /// Points per second of this thread's CPU time, one entry per round.
    var pointsPerSecond: [Double] = []
    /// Points per second of wall-clock time, one entry per round.
    var pointsPerWallSecond: [Double] = []
    var bytesPerPoint = 0.0
    var allocationsPerPoint = 0.0
}

/// Encodes batches of `pointsPerBatch` points into one reused buffer, for
/// `rounds` rounds of about `seconds` each; also counts heap allocations.
func measure(rounds: Int, seconds: Double, _ encodeBatch: (inout [UInt8], Int) -> Void) -> Measurement {
    var buffer: [UInt8] = []
    buffer.reserveCapacity(pointsPerBatch * 512)
    var result = Measurement()
    encodeBatch(&buffer, 0)  // warm up: the buffer and any scratch reach their size
    result.bytesPerPoint = Double(buffer.count) / Double(pointsPerBatch)
    var batchIndex = 1
    for _ in 0..<rounds {
        var encoded = 0
        let allocationsBefore = bench_malloc_count()
        let start = now(CLOCK_THREAD_CPUTIME_ID)
        let wallStart = now(CLOCK_MONOTONIC)
        var elapsed = 0.0
        repeat {
            buffer.removeAll(keepingCapacity: true)
            encodeBatch(&buffer, batchIndex)
            batchIndex += 1
            encoded += pointsPerBatch
            elapsed = now(CLOCK_THREAD_CPUTIME_ID) - start
        } while elapsed < seconds
        let wall = now(CLOCK_MONOTONIC) - wallStart
        result.allocationsPerPoint = Double(bench_malloc_count() - allocationsBefore) / Double(encoded)
        result.pointsPerSecond.append(Double(encoded) / elapsed)
        result.pointsPerWallSecond.append(Double(encoded) / wall)
    }
    return result
}

func encoderBatch(_ source: [Point]) -> (inout [UInt8], Int) -> Void {
    var encoder = LineProtocolEncoder()
    return { buffer, batch in
        var index = batch &* 7 & 1023
        for _ in 0..<pointsPerBatch {
            do {
                try encoder.append(source[index], to: &buffer)
            } catch {
                fatalError("\(error)")
            }
            index = (index + 1) & 1023
        }
    }
}

/// The same points as C strings, as the influx sink reads them from the
/// plugin ABI's batch (allocated once, never freed: the process ends).
struct CPoints {
    var tags: [UnsafeMutableBufferPointer<CStringPoint.Tag>] = []
    var fields: [UnsafeMutableBufferPointer<CStringPoint.Field>] = []
    var measurements: [UnsafeMutablePointer<CChar>] = []
    var times: [Int64] = []

    init(_ points: [Point]) {
        for point in points {
            measurements.append(strdup(point.measurement)!)
            let tagBuffer = UnsafeMutableBufferPointer<CStringPoint.Tag>.allocate(capacity: point.tags.count)
            for (index, tag) in point.tags.enumerated() {
                tagBuffer[index] = CStringPoint.Tag(key: strdup(tag.key)!, value: strdup(tag.value)!)
            }
            tags.append(tagBuffer)
            let fieldBuffer = UnsafeMutableBufferPointer<CStringPoint.Field>.allocate(capacity: point.fields.count)
            for (index, field) in point.fields.enumerated() {
                let value: CStringPoint.Value
                switch field.value {
                case .float(let number): value = .float(number)
                case .integer(let number): value = .integer(number)
                case .unsigned(let number): value = .unsigned(number)
                case .boolean(let flag): value = .boolean(flag)
                case .string(let text): value = .string(strdup(text)!)
                }
                fieldBuffer[index] = CStringPoint.Field(key: strdup(field.key)!, value: value)
            }
            fields.append(fieldBuffer)
            times.append(point.timestampNanoseconds)
        }
    }

    func point(_ index: Int) -> CStringPoint {
        CStringPoint(
            measurement: measurements[index], tags: UnsafeBufferPointer(tags[index]),
            fields: UnsafeBufferPointer(fields[index]), timestampNanoseconds: times[index])
    }
}

func cStringBatch(_ source: CPoints) -> (inout [UInt8], Int) -> Void {
    var encoder = LineProtocolEncoder()
    return { buffer, batch in
        var index = batch &* 7 & 1023
        for _ in 0..<pointsPerBatch {
            do {
                try encoder.append(source.point(index), to: &buffer)
            } catch {
                fatalError("\(error)")
            }
            index = (index + 1) & 1023
        }
    }
}

func naiveBatch(_ source: [Point]) -> (inout [UInt8], Int) -> Void {
    { buffer, batch in
        var index = batch &* 7 & 1023
        for _ in 0..<pointsPerBatch {
            buffer.append(contentsOf: naiveLine(source[index]).utf8)
            index = (index + 1) & 1023
        }
    }
}

let cPoints = CPoints(points)
let cShuffled = CPoints(shuffled)

// All encoders must produce the same bytes, or the comparison is void.
do {
    var encoder = LineProtocolEncoder()
    for (source, cSource) in [(points, cPoints), (shuffled, cShuffled)] {
        for (index, point) in source.enumerated() {
            let line = try encoder.line(for: point)
            precondition(line == naiveLine(point), "encoders disagree:\n\(line)\(naiveLine(point))")
            var bytes: [UInt8] = []
            try encoder.append(cSource.point(index), to: &bytes)
            precondition(bytes == Array(line.utf8), "C string encoding differs:\n\(line)")
        }
    }
} catch {
    fatalError("\(error)")
}

let arguments = CommandLine.arguments
let rounds = arguments.count > 1 ? Int(arguments[1]) ?? 5 : 5
let seconds = arguments.count > 2 ? Double(arguments[2]) ?? 1 : 1

func format(_ value: Double, _ decimals: Int) -> String {
    if decimals == 0 { return "\(Int(value.rounded()))" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) - 1 < decimals {
        text += String(repeating: "0", count: decimals - text.distance(from: dot, to: text.endIndex) + 1)
    }
    return text
}

func report(_ name: String, _ measurement: Measurement) -> Double {
    let sorted = measurement.pointsPerSecond.sorted()
    let median = sorted[sorted.count / 2]
    let best = sorted.last!
    let wall = measurement.pointsPerWallSecond.sorted()[sorted.count / 2]
    print(
        name + String(repeating: " ", count: max(1, 36 - name.count))
            + "median \(format(median / 1e6, 2)) M points/s, best \(format(best / 1e6, 2)) M"
            + " (\(format(1e9 / median, 0)) ns/point, \(format(median * measurement.bytesPerPoint / 1e6, 0)) MB/s,"
            + " \(format(measurement.allocationsPerPoint, 2)) allocations/point; wall-clock median \(format(wall / 1e6, 2)) M)")
    return median
}

print("Line protocol encoder, 1 thread: points per second of thread CPU time (= per core),")
print("\(rounds) rounds of \(seconds) CPU-s each, batches of \(pointsPerBatch) into one reused buffer")
print("point: perf, 5 tags, 8 fields (4 integer, 2 float, 1 boolean, 1 string), ns timestamp")
let sortedResult = measure(rounds: rounds, seconds: seconds, encoderBatch(points))
print("line: \(format(sortedResult.bytesPerPoint, 0)) bytes")
let encoderMedian = report("LineProtocolEncoder, tags sorted", sortedResult)
let unsortedMedian = report("LineProtocolEncoder, tags reversed", measure(rounds: rounds, seconds: seconds, encoderBatch(shuffled)))
_ = report("CStringPoint, tags sorted", measure(rounds: rounds, seconds: seconds, cStringBatch(cPoints)))
_ = report("CStringPoint, tags reversed", measure(rounds: rounds, seconds: seconds, cStringBatch(cShuffled)))
if getenv("BENCH_ENCODER_ONLY") != nil { exit(0) }  // for profiling
let naiveMedian = report("naive String interpolation", measure(rounds: rounds, seconds: seconds, naiveBatch(points)))
print("ratio encoder/naive (median, tags sorted): \(format(encoderMedian / naiveMedian, 1))x; tags reversed: \(format(unsortedMedian / naiveMedian, 1))x")
