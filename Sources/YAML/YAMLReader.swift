/// Reads the YAML subset configuration files use into ``YAMLNode`` trees.
///
/// What is accepted is what PyYAML's `yaml.safe_load` accepts, with the same
/// values (YAML 1.1 typing of plain scalars: `yes`/`no`/`on`/`off` are
/// booleans, `0x1F`, `017`, `1_000` and `1:30` are integers, `1.5`, `.inf` and
/// `.nan` are floats), except:
/// - anchors (`&a`), aliases (`*a`), tags (`!x`), directives (`%YAML`) and
///   merge keys (`<<`) are rejected;
/// - a duplicate key is an error (PyYAML keeps the last value silently);
/// - a stream holds at most one document (as with `safe_load`);
/// - timestamps such as `2024-01-15` stay strings (PyYAML makes dates);
/// - integers must fit in 64 bits;
/// - `\uD800`-style escapes of lone surrogates are rejected (Swift strings
///   cannot hold them);
/// - the line separators U+0085, U+2028 and U+2029 are rejected.
public enum YAMLReader {
    /// Parses `text` as a single YAML document.
    ///
    /// - Parameters:
    ///   - text: The YAML source.
    ///   - file: The name used in error messages (a path, or e.g. `"<stdin>"`).
    /// - Returns: The root node, or nil when the text holds no document or an
    ///   empty one (only comments, or a bare `---`).
    /// - Throws: ``YAMLError`` naming `file:line:col` and what was expected.
    public static func parse(_ text: String, file: String) throws(YAMLError) -> YAMLNode? {
        do {
            var scanner = try Scanner(text)
            var parser = Parser(tokens: try scanner.scan())
            return try parser.parseStream()
        } catch {
            throw YAMLError(file: file, location: error.location, message: error.message)
        }
    }
}
