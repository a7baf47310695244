/// Which stream a piece of container output came from.
public enum OutputStream: UInt8, Sendable, Hashable {
    /// Standard input (echoed by attach).
    case stdin = 0
    /// Standard output.
    case stdout = 1
    /// Standard error.
    case stderr = 2
    /// Docker's own error message on an attached stream.
    case systemError = 3
}

/// One frame of container output.
public struct OutputFrame: Sendable, Hashable {
    /// The stream.
    public var stream: OutputStream
    /// The bytes.
    public var bytes: [UInt8]

    /// Creates a frame.
    public init(stream: OutputStream, bytes: [UInt8]) {
        self.stream = stream
        self.bytes = bytes
    }
}

/// Container output (logs or exec), in arrival order.
public struct ContainerOutput: Sendable, Hashable {
    /// The frames in order. A TTY container's output is one `.stdout` stream.
    public var frames: [OutputFrame]

    /// Creates output from frames.
    public init(frames: [OutputFrame] = []) { self.frames = frames }

    /// Every stdout byte, concatenated.
    public var stdout: [UInt8] { frames.filter { $0.stream == .stdout }.flatMap(\.bytes) }
    /// Every stderr (and Docker system-error) byte, concatenated.
    public var stderr: [UInt8] {
        frames.filter { $0.stream == .stderr || $0.stream == .systemError }.flatMap(\.bytes)
    }
    /// ``stdout`` as UTF-8 text.
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// ``stderr`` as UTF-8 text.
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Splits Docker's multiplexed stream (non-TTY logs, attach and exec output) into frames.
///
/// Each frame is an 8-byte header — stream type (0–3), three zero bytes, payload length as a
/// big-endian `UInt32` — followed by the payload. Bytes may arrive in arbitrary pieces.
public struct StreamDemultiplexer: Sendable {
    private var buffer: [UInt8] = []

    /// Creates an empty demultiplexer.
    public init() {}

    /// Feeds bytes; returns every frame they complete.
    /// - Throws: ``DockerError`` `.protocolViolation` when a header is malformed.
    public mutating func feed(_ bytes: [UInt8]) throws(DockerError) -> [OutputFrame] {
        buffer.append(contentsOf: bytes)
        var frames: [OutputFrame] = []
        var offset = 0
        while buffer.count - offset >= 8 {
            let header = buffer[offset..<(offset + 8)]
            let h = Array(header)
            guard let stream = OutputStream(rawValue: h[0]), h[1] == 0, h[2] == 0, h[3] == 0 else {
                throw DockerError(
                    kind: .protocolViolation, operation: "read container output",
                    message: "malformed stream header \(h.map { String($0, radix: 16) }) (is this a TTY container?)")
            }
            let length = Int(h[4]) << 24 | Int(h[5]) << 16 | Int(h[6]) << 8 | Int(h[7])
            guard buffer.count - offset - 8 >= length else { break }
            frames.append(OutputFrame(stream: stream, bytes: Array(buffer[(offset + 8)..<(offset + 8 + length)])))
            offset += 8 + length
        }
        buffer.removeFirst(offset)
        return frames
    }

    /// Call at the end of the stream.
    /// - Throws: ``DockerError`` `.protocolViolation` if a frame was cut off.
    public func finish() throws(DockerError) {
        guard buffer.isEmpty else {
            throw DockerError(
                kind: .protocolViolation, operation: "read container output",
                message: "stream ended inside a frame (\(buffer.count) bytes left over)")
        }
    }
}
