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
/// The encoder keeps scratch storage (the tag order and the line being
/// written) between calls, so encoding a point allocates nothing once the
/// buffers have grown to size.
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

    /// The first eight bytes of each tag key as a big-endian number (zero
    /// padded), indexed like `Point.tags`; filled by `selectAndSortTags`.
    private var tagPrefixes: [UInt64]

    /// Where a line is written before it is copied to the caller's buffer;
    /// grows to the longest line seen, then is reused.
    var lineStorage: [UInt8]

    /// Creates an encoder.
    public init(options: Options = Options()) {
        self.options = options
        self.tagOrder = []
        self.tagOrder.reserveCapacity(16)
        self.tagPrefixes = []
        self.tagPrefixes.reserveCapacity(16)
        self.lineStorage = []
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
        // Borrowing the arrays' storage avoids retaining every name.
        try point.tags.withUnsafeBufferPointer { (tags) throws(LineProtocolError) -> Int in
            try point.fields.withUnsafeBufferPointer { (fields) throws(LineProtocolError) -> Int in
                try append(
                    measurement: point.measurement, tags: tags, fields: fields,
                    timestampNanoseconds: point.timestampNanoseconds, to: &buffer)
            }
        }
    }

    private mutating func append(
        measurement: String, tags: UnsafeBufferPointer<Tag>, fields: UnsafeBufferPointer<Field>,
        timestampNanoseconds: Int64, to buffer: inout [UInt8]
    ) throws(LineProtocolError) -> Int {
        // Pass 1 checks the timestamp and measurement and orders the tags.
        // Pass 2 writes the line through a raw pointer into `lineStorage`,
        // checking and escaping on the way, then copies it to `buffer` in one
        // go. Should the line not fit, the storage doubles and pass 2 reruns.
        guard Self.timestampRange.contains(timestampNanoseconds) else {
            throw LineProtocolError(
                .timestampOutOfRange(timestampNanoseconds), element: .timestamp, measurement: measurement)
        }
        if measurement.utf8.isEmpty {
            throw LineProtocolError(.empty, element: .measurement, measurement: measurement)
        }
        if measurement.utf8.first == ASCII.hash {
            throw LineProtocolError(.startsWithHash, element: .measurement, measurement: measurement)
        }
        var storage: [UInt8] = []
        swap(&storage, &lineStorage)
        defer { swap(&storage, &lineStorage) }
        if storage.isEmpty {
            storage = [UInt8](repeating: 0, count: 1_024)
        }
        // Fast path: tags given sorted, with nothing unusual about them; the
        // tag checks then happen while the line is written. Anything else
        // (unsorted or duplicate keys, an omitted tag, an escaped key, any
        // error in the measurement or a tag) takes the general path, which
        // reports errors in its documented order.
        var ordered = false
        while true {
            let outcome: WriteOutcome
            if ordered {
                outcome = tagOrder.withUnsafeBufferPointer { order in
                    storage.withUnsafeMutableBufferPointer { bytes in
                        Self.write(
                            measurement: measurement, tags: tags, tagOrder: order, fields: fields,
                            timestampNanoseconds: timestampNanoseconds, options: options,
                            to: LineWriter(base: bytes.baseAddress!, capacity: bytes.count), buffer: &buffer)
                    }
                }
            } else {
                outcome = storage.withUnsafeMutableBufferPointer { bytes in
                    Self.write(
                        measurement: measurement, tags: tags, tagOrder: nil, fields: fields,
                        timestampNanoseconds: timestampNanoseconds, options: options,
                        to: LineWriter(base: bytes.baseAddress!, capacity: bytes.count), buffer: &buffer)
                }
            }
            switch outcome {
            case .written(let omitted):
                return omitted
            case .needsRoom:
                storage = [UInt8](repeating: 0, count: 2 * storage.count)
            case .generalPath:
                try selectAndSortTags(tags, measurement: measurement)
                ordered = true
            case .failed(let reason, let element, let key):
                throw LineProtocolError(reason, element: element, measurement: measurement, key: key)
            }
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

    // MARK: - Writing

    enum WriteOutcome {
        /// The line was appended; the payload counts omitted fields.
        case written(Int)
        /// The line storage is too small.
        case needsRoom
        case failed(LineProtocolError.Reason, LineProtocolError.Element, key: String?)
        /// The tags need the general path (`tagOrder` from `selectAndSortTags`).
        case generalPath
    }

    /// The most a number takes, plus a separator.
    static var numberRoom: Int { Numbers.maximumNumberBytes + 2 }

    /// Writes the line for a point, then appends it to `buffer`. With a
    /// `tagOrder` the tags are checked and ordered already; without, they are
    /// written in the order given and checked on the way, and anything but
    /// strictly ascending, plain keys returns `.generalPath`.
    private static func write(
        measurement: String, tags: UnsafeBufferPointer<Tag>, tagOrder: UnsafeBufferPointer<Int>?,
        fields: UnsafeBufferPointer<Field>, timestampNanoseconds: Int64, options: Options,
        to start: LineWriter, buffer: inout [UInt8]
    ) -> WriteOutcome {
        var writer = start
        switch Escaping.writeName(measurement, style: .measurement, to: &writer) {
        case .written, .emptyAfterTrimming: break
        case .noRoom: return .needsRoom
        case .failed(let reason):
            // The general path checks the tag keys first.
            if tagOrder == nil { return .generalPath }
            return .failed(reason, .measurement, key: nil)
        }
        if let tagOrder {
            for index in tagOrder {
                let mark = writer.count
                writer.write(ASCII.comma)  // writeName leaves room for one byte after the name
                switch Escaping.writeName(tags[index].key, style: .key, to: &writer) {
                case .written, .emptyAfterTrimming: break
                case .noRoom: return .needsRoom
                case .failed(let reason): return .failed(reason, .tagKey, key: tags[index].key)
                }
                writer.write(ASCII.equals)
                switch Escaping.writeName(tags[index].value, style: .tagValue, to: &writer) {
                case .written: break
                case .emptyAfterTrimming: writer.rewind(to: mark)  // the value was only `\`: omit the tag
                case .noRoom: return .needsRoom
                case .failed(let reason): return .failed(reason, .tagValue, key: tags[index].key)
                }
            }
        } else {
            // Where the previous tag's key sits in the line (unescaped).
            var previousStart = 0
            var previousCount = 0
            for index in tags.indices {
                if tags[index].value.utf8.isEmpty { return .generalPath }  // an omitted tag
                writer.write(ASCII.comma)
                let keyStart = writer.count
                switch Escaping.writeName(tags[index].key, style: .key, to: &writer) {
                case .written: break
                case .emptyAfterTrimming, .failed: return .generalPath
                case .noRoom: return .needsRoom
                }
                let keyCount = writer.count &- keyStart
                // An escaped key (rare) would compare differently from its bytes.
                if keyCount != tags[index].key.utf8.count { return .generalPath }
                if isReserved(writer.base + keyStart, keyCount) { return .generalPath }
                if previousCount > 0
                    && Bytes.compare(writer.base + previousStart, previousCount, writer.base + keyStart, keyCount) >= 0
                {
                    return .generalPath  // unsorted or a duplicate key
                }
                previousStart = keyStart
                previousCount = keyCount
                writer.write(ASCII.equals)
                switch Escaping.writeName(tags[index].value, style: .tagValue, to: &writer) {
                case .written: break
                case .emptyAfterTrimming, .failed: return .generalPath
                case .noRoom: return .needsRoom
                }
            }
        }

        var written = 0
        var omitted = 0
        for index in fields.indices {
            if case .float(let value) = fields[index].value, !value.isFinite {
                let key = fields[index].key
                if key.utf8.isEmpty {
                    return .failed(.empty, .fieldKey, key: key)
                }
                if isReserved(key) {
                    return .failed(.reservedKey, .fieldKey, key: key)
                }
                if options.nonFiniteFloats == .reject {
                    return .failed(.nonFiniteFloat, .fieldValue, key: key)
                }
                // A bad key is an error even when its value is left out.
                if case .failed(let reason) = Escaping.checkName(key) {
                    return .failed(reason, .fieldKey, key: key)
                }
                omitted += 1
                continue
            }
            writer.write(written == 0 ? ASCII.space : ASCII.comma)
            written += 1
            let keyStart = writer.count
            switch Escaping.writeName(fields[index].key, style: .key, to: &writer) {
            case .written: break
            case .emptyAfterTrimming: return .failed(.empty, .fieldKey, key: fields[index].key)
            case .noRoom: return .needsRoom
            case .failed(let reason): return .failed(reason, .fieldKey, key: fields[index].key)
            }
            // Reserved keys need no escaping, so their bytes are written as is.
            if isReserved(writer.base + keyStart, writer.count &- keyStart) {
                return .failed(.reservedKey, .fieldKey, key: fields[index].key)
            }
            writer.write(ASCII.equals)
            if writer.remaining < numberRoom {
                return .needsRoom
            }
            switch fields[index].value {
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
                let length = value.utf8.count
                if length > maximumStringBytes {
                    return .failed(.stringTooLong(length), .fieldValue, key: fields[index].key)
                }
                // Escaping at most triples the bytes; quotes and a separator.
                if writer.remaining < 3 * length + 3 {
                    return .needsRoom
                }
                Escaping.writeStringValue(value, to: &writer)
            }
        }
        if written == 0 {
            return .failed(.noFields, .point, key: nil)
        }
        if writer.remaining < numberRoom {
            return .needsRoom
        }
        writer.write(ASCII.space)
        Numbers.writeDecimal(timestampNanoseconds, to: &writer)
        writer.write(ASCII.newline)
        buffer.append(contentsOf: UnsafeBufferPointer(start: writer.base, count: writer.count))
        return .written(omitted)
    }

    // MARK: - Tags

    /// Fills `tagOrder` with the indices of the tags to write, sorted by key
    /// bytes, after checking keys and dropping tags with nothing to write.
    private mutating func selectAndSortTags(
        _ tags: UnsafeBufferPointer<Tag>, measurement: String
    ) throws(LineProtocolError) {
        tagOrder.removeAll(keepingCapacity: true)
        tagPrefixes.removeAll(keepingCapacity: true)
        // Tags usually arrive sorted: check the order while selecting, and
        // sort only when needed. Keys are compared by their first eight
        // bytes as one big-endian number (read once per key), and byte by
        // byte only when those are equal.
        var sorted = true
        var previous = -1
        for index in tags.indices {
            if tags[index].key.utf8.isEmpty {
                throw LineProtocolError(.empty, element: .tagKey, measurement: measurement, key: tags[index].key)
            }
            let (prefix, reserved) = Bytes.withUTF8(tags[index].key) { bytes in
                (Bytes.prefix(bytes), Self.isReserved(UnsafeMutablePointer(mutating: bytes.baseAddress!), bytes.count))
            }
            tagPrefixes.append(prefix)
            if reserved {
                throw LineProtocolError(.reservedKey, element: .tagKey, measurement: measurement, key: tags[index].key)
            }
            // An empty value omits the tag here; a value of only `\` is
            // dropped while writing (rare, and needs a scan).
            if tags[index].value.utf8.isEmpty {
                // A bad key is an error even when its tag is left out.
                if case .failed(let reason) = Escaping.checkName(tags[index].key) {
                    throw LineProtocolError(reason, element: .tagKey, measurement: measurement, key: tags[index].key)
                }
                continue
            }
            if sorted && previous >= 0 {
                let order = compareKeys(tags, previous, index)
                if order == 0 {
                    try Self.checkDuplicate(tags[previous], tags[index], measurement: measurement)
                } else if order > 0 {
                    sorted = false
                }
            }
            tagOrder.append(index)
            previous = index
        }
        if sorted { return }

        // Insertion sort: tag counts are small, and it needs no extra storage.
        for position in 1..<tagOrder.count {
            let moving = tagOrder[position]
            var hole = position
            while hole > 0 {
                let order = compareKeys(tags, tagOrder[hole - 1], moving)
                if order == 0 {
                    try Self.checkDuplicate(tags[tagOrder[hole - 1]], tags[moving], measurement: measurement)
                }
                if order <= 0 { break }
                tagOrder[hole] = tagOrder[hole - 1]
                hole -= 1
            }
            tagOrder[hole] = moving
        }
    }

    /// Compares the keys of tags `a` and `b` in UTF-8 byte order (negative,
    /// 0, positive), by `tagPrefixes` first.
    @inline(__always)
    private func compareKeys(_ tags: UnsafeBufferPointer<Tag>, _ a: Int, _ b: Int) -> Int {
        let left = tagPrefixes[a]
        let right = tagPrefixes[b]
        if left != right { return left < right ? -1 : 1 }
        return Bytes.compare(tags[a].key, tags[b].key)
    }

    /// Two tags share a key: an error unless one of them will be omitted
    /// (its value is only `\`).
    private static func checkDuplicate(_ first: Tag, _ second: Tag, measurement: String) throws(LineProtocolError) {
        let firstWritten = Bytes.withUTF8(first.value) { Escaping.trimmedCount($0) > 0 }
        let secondWritten = Bytes.withUTF8(second.value) { Escaping.trimmedCount($0) > 0 }
        if firstWritten && secondWritten {
            throw LineProtocolError(.duplicateTagKey, element: .tagKey, measurement: measurement, key: second.key)
        }
    }

    /// `isReserved(_:)` on the UTF-8 bytes of a key.
    @inline(__always)
    static func isReserved(_ bytes: UnsafeMutablePointer<UInt8>, _ count: Int) -> Bool {
        switch count {
        case 4:
            return UnsafeRawPointer(bytes).loadUnaligned(as: UInt32.self) == 0x656D_6974  // "time"
        case 6:
            return UnsafeRawPointer(bytes).loadUnaligned(as: UInt32.self) == 0x6569_665F  // "_fie"
                && UnsafeRawPointer(bytes + 4).loadUnaligned(as: UInt16.self) == 0x646C  // "ld"
        case 12:
            return UnsafeRawPointer(bytes).loadUnaligned(as: UInt64.self) == 0x6572_7573_6165_6D5F  // "_measure"
                && UnsafeRawPointer(bytes + 8).loadUnaligned(as: UInt32.self) == 0x746E_656D  // "ment"
        default:
            return false
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
