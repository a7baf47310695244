import CZlib

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A file read failure.
struct ChunkReaderError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot read \(path): \(reason)" }
}

/// Reads a file in chunks of about 1 MB, inflating gzip (one or more
/// concatenated members, as the file sink appends them) on the way, so that
/// a large results file never sits in memory whole.
struct ChunkReader {
    let path: String
    private let handle: Int32
    private let gzip: Bool
    private var stream = z_stream()
    private var streamOpen = false
    private var input: [UInt8] = []
    private var inputOffset = 0
    private var endOfFile = false
    /// Bytes read from the file so far.
    private(set) var consumedBytes = 0

    private static let chunkSize = 1 << 20

    init(path: String, gzip: Bool) throws(ChunkReaderError) {
        self.path = path
        self.gzip = gzip
        handle = open(path, O_RDONLY | O_CLOEXEC)
        guard handle >= 0 else { throw ChunkReaderError(path: path, reason: String(cString: strerror(errno))) }
    }

    mutating func close() {
        if streamOpen { inflateEnd(&stream) }
        streamOpen = false
        Glibc.close(handle)
    }

    /// The next piece of (inflated) content, nil at the end.
    mutating func next() throws(ChunkReaderError) -> [UInt8]? {
        guard gzip else { return try readRaw() }
        var output = [UInt8](repeating: 0, count: Self.chunkSize)
        var produced = 0
        while produced == 0 {
            if inputOffset >= input.count {
                guard let more = try readRaw() else {
                    if streamOpen {
                        throw ChunkReaderError(path: path, reason: "the gzip data is truncated (the last member has no end)")
                    }
                    return nil
                }
                input = more
                inputOffset = 0
            }
            if !streamOpen {
                stream = z_stream()
                let status = CZlib_inflateInitAuto(&stream)
                guard status == Z_OK else { throw ChunkReaderError(path: path, reason: "inflateInit failed (zlib status \(status))") }
                streamOpen = true
            }
            let offset = inputOffset
            var status: Int32 = Z_OK
            input.withUnsafeMutableBufferPointer { inputBuffer in
                output.withUnsafeMutableBufferPointer { outputBuffer in
                    stream.next_in = inputBuffer.baseAddress! + offset
                    stream.avail_in = uInt(inputBuffer.count - offset)
                    stream.next_out = outputBuffer.baseAddress! + produced
                    stream.avail_out = uInt(outputBuffer.count - produced)
                    status = inflate(&stream, Z_NO_FLUSH)
                    produced = outputBuffer.count - Int(stream.avail_out)
                }
            }
            inputOffset = input.count - Int(stream.avail_in)
            switch status {
            case Z_STREAM_END:
                // The next member (if any) starts a new stream.
                inflateEnd(&stream)
                streamOpen = false
            case Z_OK, Z_BUF_ERROR:
                break
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "corrupt gzip data"
                throw ChunkReaderError(path: path, reason: "\(message) (zlib status \(status))")
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    private mutating func readRaw() throws(ChunkReaderError) -> [UInt8]? {
        guard !endOfFile else { return nil }
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(handle, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ChunkReaderError(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 {
                endOfFile = true
                return nil
            }
            consumedBytes += n
            buffer.removeSubrange(n...)
            return buffer
        }
    }
}
