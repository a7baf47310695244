import CZlib
import Dispatch
import Synchronization

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
        try input.withUnsafeBufferPointer { (bytes) throws(GzipError) in try compress(bytes, level: level) }
    }

    /// Compresses the bytes at `input` into one complete gzip member.
    public static func compress(_ input: UnsafeBufferPointer<UInt8>, level: Int32 = 6) throws(GzipError) -> [UInt8] {
        var stream = z_stream()
        var status = CZlib_deflateInitGzip(&stream, level)
        guard status == Z_OK else { throw GzipError(code: status, message: "cannot initialise deflate") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        status = output.withUnsafeMutableBufferPointer { outputBuffer in
            // zlib reads next_in only (it is not declared const).
            stream.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
            stream.avail_in = uInt(input.count)
            stream.next_out = outputBuffer.baseAddress
            stream.avail_out = uInt(outputBuffer.count)
            return deflate(&stream, Z_FINISH)
        }
        guard status == Z_STREAM_END else { throw GzipError(code: status, message: "deflate did not finish") }
        output.removeLast(Int(stream.avail_out))
        return output
    }

    /// The least input a part of ``compress(_:level:parts:)`` gets: smaller
    /// inputs are not worth a second thread.
    public static let minimumPartBytes = 256 * 1024

    /// Compresses `input` in up to `parts` slices at once, one gzip member
    /// each, concatenated in order: the output decompresses (gunzip,
    /// InfluxDB, ``decompress(_:)``) to exactly `input`.  A large request
    /// body then costs a fraction of the wall time on a multi-core host;
    /// inputs under two ``minimumPartBytes`` are compressed in one piece on
    /// the calling thread.
    public static func compress(_ input: [UInt8], level: Int32 = 6, parts: Int) throws(GzipError) -> [UInt8] {
        let count = min(parts, input.count / minimumPartBytes)
        guard count > 1 else { return try compress(input, level: level) }
        let size = (input.count + count - 1) / count
        let results = Mutex<[Result<[UInt8], GzipError>?]>(Array(repeating: nil, count: count))
        input.withUnsafeBufferPointer { whole in
            let base = UnsafeBufferPointerBox(whole)
            DispatchQueue.concurrentPerform(iterations: count) { part in
                let slice = UnsafeBufferPointer(rebasing: base.buffer[(part * size)..<min(base.buffer.count, (part + 1) * size)])
                let result = Result { () throws(GzipError) in try compress(slice, level: level) }
                results.withLock { $0[part] = result }
            }
        }
        var output: [UInt8] = []
        for result in results.withLock({ $0 }) {
            guard let result else { throw GzipError(code: Z_STREAM_ERROR, message: "a part was not compressed") }
            output += try result.get()
        }
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

/// Lends a read-only buffer to the threads of one `concurrentPerform` call.
///
/// `@unchecked Sendable` is sound: the buffer is only read, and
/// `concurrentPerform` returns only after every thread is done with it, while
/// the owner keeps it alive for the whole call.
private struct UnsafeBufferPointerBox: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<UInt8>
    init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }
}
