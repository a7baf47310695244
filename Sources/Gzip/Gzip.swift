import CZlib

/// A gzip failure (zlib's status and message).
public struct GzipError: Error, Sendable, Equatable, CustomStringConvertible {
    /// zlib's return code.
    public var code: Int32
    /// What failed.
    public var message: String
    public var description: String { "gzip: \(message) (zlib status \(code))" }
}

/// gzip (RFC 1952) compression through the system's zlib.
public enum Gzip {
    /// Compresses `input` into one complete gzip member.  Members can be
    /// concatenated: `gunzip` and InfluxDB read them as one stream.
    public static func compress(_ input: [UInt8], level: Int32 = 6) throws(GzipError) -> [UInt8] {
        var stream = z_stream()
        var status = CZlib_deflateInitGzip(&stream, level)
        guard status == Z_OK else { throw GzipError(code: status, message: "cannot initialise deflate") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        var input = input
        status = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw GzipError(code: status, message: "deflate did not finish") }
        output.removeLast(Int(stream.avail_out))
        return output
    }

    /// Decompresses one or more concatenated gzip members.
    public static func decompress(_ input: [UInt8]) throws(GzipError) -> [UInt8] {
        var result: [UInt8] = []
        var offset = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = input
        while offset < input.count {
            var stream = z_stream()
            var status = CZlib_inflateInitAuto(&stream)
            guard status == Z_OK else { throw GzipError(code: status, message: "cannot initialise inflate") }
            defer { inflateEnd(&stream) }
            let consumedBefore = offset
            status = Z_OK
            input.withUnsafeMutableBufferPointer { inputBuffer in
                stream.next_in = inputBuffer.baseAddress! + consumedBefore
                stream.avail_in = uInt(inputBuffer.count - consumedBefore)
                while status == Z_OK {
                    chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                        stream.next_out = chunkBuffer.baseAddress
                        stream.avail_out = uInt(chunkBuffer.count)
                        status = inflate(&stream, Z_NO_FLUSH)
                        result += chunkBuffer[0..<(chunkBuffer.count - Int(stream.avail_out))]
                    }
                    if status == Z_BUF_ERROR && stream.avail_in == 0 { break }
                }
            }
            guard status == Z_STREAM_END else {
                throw GzipError(code: status, message: stream.msg.map { String(cString: $0) } ?? "truncated or corrupt gzip data")
            }
            offset = input.count - Int(stream.avail_in)
        }
        return result
    }
}
