/// Encodes ``Point``s as InfluxDB line protocol, appending UTF-8 bytes to a
/// caller-owned buffer.
///
/// One line per point: `measurement[,tag=value…] field=value[,…] timestamp\n`.
///
/// - Escaping: `,` and space in the measurement; `,` `=` space in tag keys, tag
///   values and field keys; `"` and `\` inside string values. Nothing else is
///   escaped, so a `\` in a name is written as is.
/// - Tags are written sorted by key in UTF-8 byte order. A tag whose value is
///   empty is omitted; trailing `\` are trimmed from tag values first (a trailing
///   `\` would escape the separator) and the tag is omitted if nothing is left.
/// - Fields keep their order. Floats use the shortest decimal that reads back as
///   the same `Double`; integers end in `i`; booleans are `true`/`false`.
/// - Names (measurement, tag keys and values, field keys) may not contain ASCII
///   control characters, nor a `\` at the end or right before `,` `=` space or
///   `"`: InfluxDB has no spelling that reads back as those (it drops such a
///   `\`), so they are errors. Every other `\` is written and read as is.
///   In string values, `\n` `\r` `\t` `\f` are replaced by the two-character
///   sequences `\n` `\r` `\t` `\f` (stored literally), so every line ends at its
///   one and only `\n` and the output stays readable line by line
///   (`influx -import`, `wc -l`).
///
/// The encoder keeps scratch storage (for sorting tags) between calls, so
/// encoding a point allocates nothing once the buffer has grown to size.
/// Keep one encoder per writer; it is a value type and not shared.
public struct LineProtocolEncoder: Sendable {
    /// Choices where InfluxDB versions differ or where data must be dropped.
    public struct Options: Sendable, Equatable {
        /// How ``FieldValue/unsigned(_:)`` is written.
        public enum UnsignedIntegers: Sendable, Equatable {
            /// As a signed `i` integer, clamped to `Int64.max`. Works with
            /// InfluxDB 1.x, whose parser has unsigned integers disabled. The default.
            case clampedToInteger
            /// As an unsigned `u` integer (InfluxDB 2.x only).
            case unsigned
        }

        /// What to do with a NaN or ±infinite ``FieldValue/float(_:)``.
        public enum NonFiniteFloats: Sendable, Equatable {
            /// Leave the field out (a metric that cannot be measured is absent,
            /// never a made-up number); the point is still written if another
            /// field remains. ``LineProtocolEncoder/append(_:to:)`` returns how
            /// many fields it left out. The default.
            case omitField
            /// Throw ``LineProtocolError/Reason/nonFiniteFloat`` naming the field.
            case reject
        }

        /// How unsigned integers are written. Default: ``UnsignedIntegers/clampedToInteger``.
        public var unsignedIntegers: UnsignedIntegers
        /// What happens to NaN and ±infinity. Default: ``NonFiniteFloats/omitField``.
        public var nonFiniteFloats: NonFiniteFloats

        /// Creates options; the defaults suit InfluxDB 1.x and 2.x.
        public init(
            unsignedIntegers: UnsignedIntegers = .clampedToInteger,
            nonFiniteFloats: NonFiniteFloats = .omitField
        ) {
            self.unsignedIntegers = unsignedIntegers
            self.nonFiniteFloats = nonFiniteFloats
        }
    }

    /// The longest string value InfluxDB stores, in UTF-8 bytes (64 KB).
    public static let maximumStringBytes = 65_535

    /// The nanosecond timestamps InfluxDB accepts (1677-09-21 … 2262-04-11).
    public static let timestampRange: ClosedRange<Int64> = (Int64.min + 2)...(Int64.max - 1)

    /// The options in effect.
    public var options: Options

    /// Indices into `Point.tags` of the tags to write, in output order.
    /// Reused between calls so that sorting tags allocates nothing.
    private var tagOrder: [Int]

    /// Creates an encoder.
    public init(options: Options = Options()) {
        self.options = options
        self.tagOrder = []
        self.tagOrder.reserveCapacity(16)
    }

    /// Appends one line (ending in `\n`) for `point` to `buffer`.
    ///
    /// On error nothing is appended: `buffer` is left exactly as it was.
    ///
    /// - Returns: the number of fields left out because they were NaN or
    ///   infinite (always 0 with ``Options/NonFiniteFloats/reject``).
    /// - Throws: ``LineProtocolError`` naming the measurement and key at fault.
    @discardableResult
    public mutating func append(_ point: Point, to buffer: inout [UInt8]) throws(LineProtocolError) -> Int {
        let start = buffer.count
        do {
            return try encode(point, into: &buffer)
        } catch {
            buffer.removeLast(buffer.count - start)
            throw error
        }
    }

    /// Returns the line for `point`, including its final `\n`.
    ///
    /// A convenience for tests and logs; writers should use ``append(_:to:)``
    /// with a reused buffer.
    public mutating func line(for point: Point) throws(LineProtocolError) -> String {
        var bytes: [UInt8] = []
        try append(point, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - One point

    private mutating func encode(_ point: Point, into buffer: inout [UInt8]) throws(LineProtocolError) -> Int {
        let measurement = point.measurement
        guard Self.timestampRange.contains(point.timestampNanoseconds) else {
            throw LineProtocolError(
                .timestampOutOfRange(point.timestampNanoseconds), element: .timestamp, measurement: measurement)
        }
        if measurement.utf8.isEmpty {
            throw LineProtocolError(.empty, element: .measurement, measurement: measurement)
        }
        if measurement.utf8.first == ASCII.hash {
            throw LineProtocolError(.startsWithHash, element: .measurement, measurement: measurement)
        }
        if case .failed(let reason) = Escaping.appendName(measurement, style: .measurement, into: &buffer) {
            throw LineProtocolError(reason, element: .measurement, measurement: measurement)
        }

        try selectAndSortTags(point.tags, measurement: measurement, scratch: &buffer)
        for index in tagOrder {
            buffer.append(ASCII.comma)
            if case .failed(let reason) = Escaping.appendName(point.tags[index].key, style: .key, into: &buffer) {
                throw LineProtocolError(reason, element: .tagKey, measurement: measurement, key: point.tags[index].key)
            }
            buffer.append(ASCII.equals)
            if case .failed(let reason) = Escaping.appendName(
                point.tags[index].value, style: .tagValue, into: &buffer)
            {
                throw LineProtocolError(reason, element: .tagValue, measurement: measurement, key: point.tags[index].key)
            }
        }

        var written = 0
        var omitted = 0
        for field in point.fields {
            if field.key.utf8.isEmpty {
                throw LineProtocolError(.empty, element: .fieldKey, measurement: measurement, key: field.key)
            }
            if Self.isReserved(field.key) {
                throw LineProtocolError(.reservedKey, element: .fieldKey, measurement: measurement, key: field.key)
            }
            if case .float(let value) = field.value, !value.isFinite {
                if options.nonFiniteFloats == .reject {
                    throw LineProtocolError(
                        .nonFiniteFloat, element: .fieldValue, measurement: measurement, key: field.key)
                }
                // A bad key is an error even when its value is left out.
                if case .failed(let reason) = Escaping.validateName(field.key, style: .key, scratch: &buffer) {
                    throw LineProtocolError(reason, element: .fieldKey, measurement: measurement, key: field.key)
                }
                omitted += 1
                continue
            }
            buffer.append(written == 0 ? ASCII.space : ASCII.comma)
            written += 1
            if case .failed(let reason) = Escaping.appendName(field.key, style: .key, into: &buffer) {
                throw LineProtocolError(reason, element: .fieldKey, measurement: measurement, key: field.key)
            }
            buffer.append(ASCII.equals)
            switch field.value {
            case .float(let value):
                Numbers.appendFloat(value, into: &buffer)
            case .integer(let value):
                Numbers.appendDecimal(value, into: &buffer)
                buffer.append(ASCII.lowercaseI)
            case .unsigned(let value):
                switch options.unsignedIntegers {
                case .clampedToInteger:
                    Numbers.appendDecimal(Int64(clamping: value), into: &buffer)
                    buffer.append(ASCII.lowercaseI)
                case .unsigned:
                    Numbers.appendDecimal(value, negative: false, into: &buffer)
                    buffer.append(ASCII.lowercaseU)
                }
            case .boolean(let value):
                Escaping.appendBoolean(value, into: &buffer)
            case .string(let value):
                let length = value.utf8.count
                if length > Self.maximumStringBytes {
                    throw LineProtocolError(
                        .stringTooLong(length), element: .fieldValue, measurement: measurement, key: field.key)
                }
                Escaping.appendStringValue(value, into: &buffer)
            }
        }
        if written == 0 {
            throw LineProtocolError(.noFields, element: .point, measurement: measurement)
        }

        buffer.append(ASCII.space)
        Numbers.appendDecimal(point.timestampNanoseconds, into: &buffer)
        buffer.append(ASCII.newline)
        return omitted
    }

    // MARK: - Tags

    /// Fills `tagOrder` with the indices of the tags to write, sorted by key
    /// bytes, after checking keys and dropping tags with nothing to write.
    /// `scratch` (the output buffer) is used, and restored, to check the keys
    /// of omitted tags.
    private mutating func selectAndSortTags(
        _ tags: [Tag], measurement: String, scratch: inout [UInt8]
    ) throws(LineProtocolError) {
        tagOrder.removeAll(keepingCapacity: true)
        for index in tags.indices {
            let key = tags[index].key
            if key.utf8.isEmpty {
                throw LineProtocolError(.empty, element: .tagKey, measurement: measurement, key: key)
            }
            if Self.isReserved(key) {
                throw LineProtocolError(.reservedKey, element: .tagKey, measurement: measurement, key: key)
            }
            if !Escaping.hasWritableTagValue(tags[index].value) {
                // A bad key is an error even when its tag is left out.
                if case .failed(let reason) = Escaping.validateName(key, style: .key, scratch: &scratch) {
                    throw LineProtocolError(reason, element: .tagKey, measurement: measurement, key: key)
                }
                continue
            }
            tagOrder.append(index)
        }
        guard tagOrder.count > 1 else { return }

        // Tags usually arrive sorted: check first, sort only when needed.
        var sorted = true
        for position in 1..<tagOrder.count {
            let order = Bytes.compare(tags[tagOrder[position - 1]].key, tags[tagOrder[position]].key)
            if order == 0 {
                throw LineProtocolError(
                    .duplicateTagKey, element: .tagKey, measurement: measurement, key: tags[tagOrder[position]].key)
            }
            if order > 0 {
                sorted = false
                break
            }
        }
        if sorted { return }

        // Insertion sort: tag counts are small, and it needs no extra storage.
        for position in 1..<tagOrder.count {
            let moving = tagOrder[position]
            var hole = position
            while hole > 0 {
                let order = Bytes.compare(tags[tagOrder[hole - 1]].key, tags[moving].key)
                if order == 0 {
                    throw LineProtocolError(
                        .duplicateTagKey, element: .tagKey, measurement: measurement, key: tags[moving].key)
                }
                if order < 0 { break }
                tagOrder[hole] = tagOrder[hole - 1]
                hole -= 1
            }
            tagOrder[hole] = moving
        }
    }

    /// `time` cannot be a tag or field key in InfluxDB 1.x, and points with a
    /// `_field` or `_measurement` key are dropped.
    @inline(__always)
    private static func isReserved(_ key: String) -> Bool {
        switch key.utf8.count {
        case 4: return key == "time"
        case 6: return key == "_field"
        case 12: return key == "_measurement"
        default: return false
        }
    }
}
