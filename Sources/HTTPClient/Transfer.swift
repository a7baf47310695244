/// One response as it arrives: status, headers, and where the body goes (the stream
/// callback for a 2xx status, else a bounded buffer). Filled by either transport on the
/// thread running the request.
final class Transfer {
    var status = 0
    var headers = HTTPHeaders()
    var body: [UInt8] = []
    let maxBufferedBody: Int
    var sink: (([UInt8]) throws -> HTTPStreamControl)?
    var callbackError: (any Error)?
    var stopped = false

    init(maxBufferedBody: Int) { self.maxBufferedBody = maxBufferedBody }

    /// Takes a piece of body. Returns false when the transfer must end: the callback said
    /// ``HTTPStreamControl/stop`` or threw (kept in ``callbackError``).
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let sink, (200..<300).contains(status) {
            do {
                if try sink(Array(bytes)) == .stop {
                    stopped = true
                    return false
                }
            } catch {
                callbackError = error
                return false
            }
            return true
        }
        let room = maxBufferedBody - body.count
        if room >= bytes.count {
            body.append(contentsOf: bytes)  // contiguous: one copy
        } else if room > 0 {
            body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<room]))
        }
        return true
    }

    /// Whether the callback ended the transfer.
    var endedByCallback: Bool { stopped || callbackError != nil }
}
