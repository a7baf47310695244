/// Why a YAML text could not be read, and where.
///
/// `description` is `"<file>:<line>:<col>: <message>"`, where the message
/// says what was found and what was expected.
public struct YAMLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file name given to ``YAMLReader/parse(_:file:)``.
    public var file: String
    /// Where the problem is.
    public var location: SourceLocation
    /// What went wrong, e.g. "expected ':' after mapping key".
    public var message: String

    /// Creates an error.
    public init(file: String, location: SourceLocation, message: String) {
        self.file = file
        self.location = location
        self.message = message
    }

    /// `"<file>:<line>:<col>: <message>"`.
    public var description: String {
        "\(file):\(location.line):\(location.column): \(message)"
    }
}

/// An error before the file name is attached.
struct LocatedError: Error {
    var location: SourceLocation
    var message: String
}
