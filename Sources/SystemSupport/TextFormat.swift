#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// printf-exact number text (what `String(format:)` gave) without Foundation.
public enum TextFormat {
    /// `value` with `decimals` digits after the point, right-aligned in at
    /// least `width` characters: printf's `%<width>.<decimals>f`.
    public static func fixed(_ value: Double, decimals: Int, width: Int = 0) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        while true {
            let needed = withVaList([Int32(width), Int32(decimals), value]) { arguments in
                buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, "%*.*f", arguments) }
            }
            if needed < 0 { return "\(value)" }
            if Int(needed) < buffer.count {
                return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            }
            buffer = [CChar](repeating: 0, count: Int(needed) + 1)
        }
    }

    /// `value` in decimal, zero-padded to at least `width` digits: printf's `%0<width>d`.
    public static func zeroPadded(_ value: some BinaryInteger, width: Int) -> String {
        pad(String(value.magnitude), width: width, negative: value < 0)
    }

    /// `value` in lower-case hexadecimal, zero-padded to at least `width`
    /// digits: printf's `%0<width>x` (for non-negative values).
    public static func hex(_ value: some BinaryInteger, width: Int) -> String {
        pad(String(value.magnitude, radix: 16), width: width, negative: value < 0)
    }

    private static func pad(_ digits: String, width: Int, negative: Bool) -> String {
        let sign = negative ? "-" : ""
        let zeros = max(0, width - sign.count - digits.count)
        return sign + String(repeating: "0", count: zeros) + digits
    }
}

extension String {
    /// This text cut or padded with spaces to exactly `length` characters:
    /// what `padding(toLength:withPad: " ", startingAt: 0)` gave for ASCII text.
    public func padded(toLength length: Int) -> String {
        count >= length ? String(prefix(length)) : self + String(repeating: " ", count: length - count)
    }
}

extension StringProtocol {
    /// This text without leading and trailing white space (tab, and the
    /// Unicode space separators): Foundation's `CharacterSet.whitespaces`.
    public func trimmingWhitespace() -> String {
        trimming(where: isWhitespace)
    }

    /// This text without leading and trailing white space and line breaks:
    /// Foundation's `CharacterSet.whitespacesAndNewlines`.
    public func trimmingWhitespaceAndNewlines() -> String {
        trimming { isWhitespace($0) || (0x0A...0x0D).contains($0.value) || $0.value == 0x85 || $0.value == 0x2028 || $0.value == 0x2029 }
    }

    private func trimming(where drop: (Unicode.Scalar) -> Bool) -> String {
        let scalars = String(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !drop($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !drop($0) })!
        return String(scalars[first...last])
    }
}

/// Foundation's `CharacterSet.whitespaces`: tab, the space separators (Zs) and U+200B.
private func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    scalar == "\t" || scalar.value == 0x200B || scalar.properties.generalCategory == .spaceSeparator
}

extension Unicode.Scalar {
    /// Whether this is an ASCII letter or digit (`[A-Za-z0-9]`).
    public var isASCIILetterOrDigit: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}
