#if canImport(Glibc)
import Glibc
#endif

/// A point whose names and string values are NUL-terminated UTF-8 C strings
/// owned by the caller, e.g. a sample of the plugin ABI's `rdt4nn_batch`.
///
/// ``LineProtocolEncoder/append(_:to:)-(CStringPoint,_)`` encodes it exactly
/// as it would encode the ``Point`` made of the same strings
/// (`String(cString:)`), without making those strings. The pointers must stay
/// valid during the call; nothing is kept.
public struct CStringPoint {
    /// One tag: key and value, both NUL-terminated.
    public struct Tag {
        /// The tag key.
        public var key: UnsafePointer<CChar>
        /// The tag value; an empty one omits the tag.
        public var value: UnsafePointer<CChar>

        /// Creates a tag.
        public init(key: UnsafePointer<CChar>, value: UnsafePointer<CChar>) {
            self.key = key
            self.value = value
        }
    }

    /// A field value; ``FieldValue`` with a C string for `.string`.
    public enum Value {
        /// See ``FieldValue/float(_:)``.
        case float(Double)
        /// See ``FieldValue/integer(_:)``.
        case integer(Int64)
        /// See ``FieldValue/unsigned(_:)``.
        case unsigned(UInt64)
        /// See ``FieldValue/boolean(_:)``.
        case boolean(Bool)
        /// See ``FieldValue/string(_:)``; NUL-terminated.
        case string(UnsafePointer<CChar>)
    }

    /// One field.
    public struct Field {
        /// The field key.
        public var key: UnsafePointer<CChar>
        /// The value.
        public var value: Value

        /// Creates a field.
        public init(key: UnsafePointer<CChar>, value: Value) {
            self.key = key
            self.value = value
        }
    }

    /// The measurement name.
    public var measurement: UnsafePointer<CChar>
    /// The tags, in any order.
    public var tags: UnsafeBufferPointer<Tag>
    /// The fields, in order.
    public var fields: UnsafeBufferPointer<Field>
    /// Nanoseconds since the Unix epoch.
    public var timestampNanoseconds: Int64

    /// Creates a point over borrowed storage.
    public init(
        measurement: UnsafePointer<CChar>, tags: UnsafeBufferPointer<Tag>, fields: UnsafeBufferPointer<Field>,
        timestampNanoseconds: Int64
    ) {
        self.measurement = measurement
        self.tags = tags
        self.fields = fields
        self.timestampNanoseconds = timestampNanoseconds
    }

    /// The same point with `String`s (copies; invalid UTF-8 repaired).
    public var point: Point {
        Point(
            measurement: String(cString: measurement),
            tags: tags.map { LineProtocol.Tag(String(cString: $0.key), String(cString: $0.value)) },
            fields: fields.map { field in
                let key = String(cString: field.key)
                switch field.value {
                case .float(let value): return LineProtocol.Field(key, .float(value))
                case .integer(let value): return LineProtocol.Field(key, .integer(value))
                case .unsigned(let value): return LineProtocol.Field(key, .unsigned(value))
                case .boolean(let value): return LineProtocol.Field(key, .boolean(value))
                case .string(let value): return LineProtocol.Field(key, .string(String(cString: value)))
                }
            },
            timestampNanoseconds: timestampNanoseconds)
    }
}

extension LineProtocolEncoder {
    /// Appends one line for `point` to `buffer`: the same bytes, return value
    /// and errors as ``append(_:to:)-(Point,_)`` with ``CStringPoint/point``.
    ///
    /// Points with ASCII names and values and nothing to report are written
    /// straight from the C strings (tags not given sorted are sorted first,
    /// on the stack); any other point (an error to report, an omitted tag or
    /// field, duplicate tag keys, non-ASCII bytes, which `String` would check
    /// and repair) is converted to a ``Point`` and encoded as such.
    @discardableResult
    public mutating func append(_ point: CStringPoint, to buffer: inout [UInt8]) throws(LineProtocolError) -> Int {
        var storage: [UInt8] = []
        swap(&storage, &lineStorage)
        var outcome = WriteOutcome.generalPath
        while true {
            if storage.isEmpty {
                storage = [UInt8](repeating: 0, count: 1_024)
            }
            outcome = storage.withUnsafeMutableBufferPointer { bytes in
                Self.write(
                    point, options: options, to: LineWriter(base: bytes.baseAddress!, capacity: bytes.count),
                    buffer: &buffer)
            }
            if case .needsRoom = outcome {
                storage = [UInt8](repeating: 0, count: 2 * storage.count)
                continue
            }
            break
        }
        if case .generalPath = outcome, point.tags.count > 1, !Self.tagsAreSorted(point.tags) {
            // Tags not given sorted: sort a copy (on the stack) and try the
            // direct path again; should that fail too, the `Point` below
            // reports errors in the order the tags were given.
            outcome = withUnsafeTemporaryAllocation(of: CStringPoint.Tag.self, capacity: point.tags.count) { sorted in
                _ = sorted.initialize(from: point.tags)
                Self.sortTags(sorted)
                var ordered = point
                ordered.tags = UnsafeBufferPointer(sorted)
                var result = WriteOutcome.generalPath
                while true {
                    result = storage.withUnsafeMutableBufferPointer { bytes in
                        Self.write(
                            ordered, options: options, to: LineWriter(base: bytes.baseAddress!, capacity: bytes.count),
                            buffer: &buffer)
                    }
                    if case .needsRoom = result {
                        storage = [UInt8](repeating: 0, count: 2 * storage.count)
                        continue
                    }
                    return result
                }
            }
        }
        swap(&storage, &lineStorage)
        if case .written(let omitted) = outcome {
            return omitted
        }
        return try append(point.point, to: &buffer)
    }

    /// Whether the tag keys ascend strictly in byte order (`strcmp` compares
    /// bytes as unsigned, like ``Bytes/compare(_:_:)``).
    private static func tagsAreSorted(_ tags: UnsafeBufferPointer<CStringPoint.Tag>) -> Bool {
        for index in 1..<tags.count where strcmp(tags[index - 1].key, tags[index].key) >= 0 {
            return false
        }
        return true
    }

    /// Sorts tags by key bytes (insertion sort: few tags, stable).
    private static func sortTags(_ tags: UnsafeMutableBufferPointer<CStringPoint.Tag>) {
        for position in 1..<tags.count {
            let moving = tags[position]
            var hole = position
            while hole > 0 && strcmp(tags[hole - 1].key, moving.key) > 0 {
                tags[hole] = tags[hole - 1]
                hole -= 1
            }
            tags[hole] = moving
        }
    }

    /// The bytes of a C string.
    @inline(__always)
    private static func bytes(_ text: UnsafePointer<CChar>) -> UnsafeBufferPointer<UInt8> {
        UnsafeRawPointer(text).withMemoryRebound(to: UInt8.self, capacity: 1) { base in
            UnsafeBufferPointer(start: base, count: strlen(text))
        }
    }

    /// The fast path of ``append(_:to:)-(CStringPoint,_)``: `.written`,
    /// `.needsRoom` or `.generalPath`.
    private static func write(
        _ point: CStringPoint, options: Options, to start: LineWriter, buffer: inout [UInt8]
    ) -> WriteOutcome {
        guard timestampRange.contains(point.timestampNanoseconds) else { return .generalPath }
        var writer = start
        let measurement = bytes(point.measurement)
        if measurement.isEmpty || measurement[0] == ASCII.hash { return .generalPath }
        switch Escaping.writeName(measurement, style: .measurement, to: &writer) {
        case .written: break
        case .noRoom: return .needsRoom
        case .emptyAfterTrimming, .failed: return .generalPath
        }
        var previousStart = 0
        var previousCount = 0
        for tag in point.tags {
            let value = bytes(tag.value)
            if value.isEmpty { return .generalPath }  // an omitted tag
            let key = bytes(tag.key)
            writer.write(ASCII.comma)
            let keyStart = writer.count
            switch Escaping.writeName(key, style: .key, to: &writer) {
            case .written: break
            case .emptyAfterTrimming, .failed: return .generalPath
            case .noRoom: return .needsRoom
            }
            let keyCount = writer.count &- keyStart
            if keyCount != key.count { return .generalPath }  // escaped: compares differently
            if isReserved(writer.base + keyStart, keyCount) { return .generalPath }
            if previousCount > 0
                && Bytes.compare(writer.base + previousStart, previousCount, writer.base + keyStart, keyCount) >= 0
            {
                return .generalPath  // unsorted or a duplicate key
            }
            previousStart = keyStart
            previousCount = keyCount
            writer.write(ASCII.equals)
            switch Escaping.writeName(value, style: .tagValue, to: &writer) {
            case .written: break
            case .emptyAfterTrimming, .failed: return .generalPath
            case .noRoom: return .needsRoom
            }
        }
        var written = 0
        for field in point.fields {
            if case .float(let value) = field.value, !value.isFinite { return .generalPath }
            writer.write(written == 0 ? ASCII.space : ASCII.comma)
            written &+= 1
            let keyStart = writer.count
            switch Escaping.writeName(bytes(field.key), style: .key, to: &writer) {
            case .written: break
            case .emptyAfterTrimming, .failed: return .generalPath
            case .noRoom: return .needsRoom
            }
            if isReserved(writer.base + keyStart, writer.count &- keyStart) { return .generalPath }
            writer.write(ASCII.equals)
            if writer.remaining < numberRoom {
                return .needsRoom
            }
            switch field.value {
            case .float(let value):
                Numbers.writeFloat(value, to: &writer)
            case .integer(let value):
                Numbers.writeDecimal(value, to: &writer)
                writer.write(ASCII.lowercaseI)
            case .unsigned(let value):
                switch options.unsignedIntegers {
                case .clampedToInteger:
                    Numbers.writeDecimal(Int64(clamping: value), to: &writer)
                    writer.write(ASCII.lowercaseI)
                case .unsigned:
                    Numbers.writeDecimal(value, to: &writer)
                    writer.write(ASCII.lowercaseU)
                }
            case .boolean(let value):
                Escaping.writeBoolean(value, to: &writer)
            case .string(let value):
                let text = bytes(value)
                if text.count > maximumStringBytes { return .generalPath }
                if writer.remaining < 3 * text.count + 3 {
                    return .needsRoom
                }
                Escaping.writeStringValue(text, to: &writer)
            }
        }
        if written == 0 { return .generalPath }
        if writer.remaining < numberRoom {
            return .needsRoom
        }
        writer.write(ASCII.space)
        Numbers.writeDecimal(point.timestampNanoseconds, to: &writer)
        writer.write(ASCII.newline)
        // Non-ASCII bytes: `String(cString:)` would check (and repair) them.
        if !isASCII(writer.base, writer.count) { return .generalPath }
        buffer.append(contentsOf: UnsafeBufferPointer(start: writer.base, count: writer.count))
        return .written(0)
    }

    /// True when no byte of the `count` at `base` has its high bit set.
    @inline(__always)
    private static func isASCII(_ base: UnsafeMutablePointer<UInt8>, _ count: Int) -> Bool {
        var index = 0
        var high: UInt64 = 0
        while index &+ 8 <= count {
            high |= UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            index &+= 8
        }
        while index < count {
            high |= UInt64(base[index])
            index &+= 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }
}
