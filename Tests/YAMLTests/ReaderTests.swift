import Testing
import YAML

/// Parses `text` and returns the canonical encoding of its value.
private func load(_ text: String) throws -> String {
    Canonical.encode(try YAMLReader.parse(text, file: "t.yaml"))
}

/// The full error description for `text`, or a note that it loaded.
private func failure(_ text: String) -> String {
    do {
        let node = try YAMLReader.parse(text, file: "t.yaml")
        return "loaded: \(Canonical.encode(node))"
    } catch {
        return error.description
    }
}

@Suite("Values")
struct ValueTests {
    @Test func blockMappingsAndSequences() throws {
        let text = """
            # leading comment
            name: bench   # trailing comment
            list:
              - a
              - b:  1
                c: [x, y]
            indentless:
            - 1
            - - 2
              - 3
            nested:
                deep:
                    deeper: {k: v, n: ~}
            """
        #expect(
            try load(text)
                == #"{"indentless":[1,[2,3]],"list":["a",{"b":1,"c":["x","y"]}],"name":"bench","nested":{"deep":{"deeper":{"k":"v","n":null}}}}"#
        )
    }

    @Test func emptyDocuments() throws {
        #expect(try YAMLReader.parse("", file: "e") == nil)
        #expect(try YAMLReader.parse("# only a comment\n\n", file: "e") == nil)
        #expect(try YAMLReader.parse("---\n", file: "e") == nil)
        #expect(try YAMLReader.parse("--- # c\n...\n", file: "e") == nil)
        #expect(try load("~") == "null")
        #expect(try load("--- 5\n...\n# after\n") == "5")
    }

    @Test(arguments: [
        ("true", "true"), ("True", "true"), ("TRUE", "true"), ("yes", "true"), ("Yes", "true"), ("on", "true"),
        ("ON", "true"), ("false", "false"), ("no", "false"), ("NO", "false"), ("off", "false"), ("Off", "false"),
        ("tRue", "\"tRue\""), ("y", "\"y\""), ("n", "\"n\""),
        ("~", "null"), ("null", "null"), ("Null", "null"), ("NULL", "null"), ("nULL", "\"nULL\""),
        ("0", "0"), ("-0", "0"), ("+7", "7"), ("42", "42"), ("-17", "-17"), ("1_000", "1000"),
        ("0x1F", "31"), ("-0x1f", "-31"), ("0x_1_F", "31"), ("017", "15"), ("0_17", "15"), ("-017", "-15"),
        ("0b101", "5"), ("-0b1_1", "-3"), ("1:30", "90"), ("-1:0:0", "-3600"), ("190:20:30", "685230"),
        ("0o17", "\"0o17\""), ("09", "\"09\""), ("018", "\"018\""), ("0X1F", "\"0X1F\""), ("1:60", "\"1:60\""),
        ("9223372036854775807", "9223372036854775807"), ("-9223372036854775808", "-9223372036854775808"),
        ("1.5", "1.5"), ("-0.25", "-0.25"), ("+1.0", "1.0"), ("1.", "1.0"), (".5", "0.5"), ("1_000.5", "1000.5"),
        ("1.0e+3", "1000.0"), ("1.5E-2", "0.015"), ("1e3", "\"1e3\""), ("1.0e3", "\"1.0e3\""),
        ("-.5", "\"-.5\""), (".inf", "Infinity"), ("-.Inf", "-Infinity"), ("+.INF", "Infinity"), (".NaN", "NaN"),
        ("-.nan", "\"-.nan\""), (".", "\".\""), ("-0.0", "-0.0"), ("1:30.5", "90.5"), ("6.02e+23", "6.02e+23"),
        ("2024-01-15", "\"2024-01-15\""), ("1.2.3", "\"1.2.3\""), ("0x", "\"0x\""), ("-", "[null]"),
        ("- a", "[\"a\"]"), ("'yes'", "\"yes\""), ("\"123\"", "\"123\""),
    ])
    func plainScalarResolution(text: String, expected: String) throws {
        #expect(try load(text) == expected, "\(text)")
    }

    @Test func quotedScalars() throws {
        #expect(try load(#"'it''s # not a comment'"#) == #""it's # not a comment""#)
        #expect(try load(#"'back\slash "q"'"#) == #""back\\slash \"q\"""#)
        #expect(try load(#""tab\there\nnl \"q\" \\ \x41\u00e9\U0001F600 \/ \0 \e \_ \N \L""#)
            == #""tab\there\nnl \"q\" \\ A\u00e9\ud83d\ude00 / \u0000 \u001b \u00a0 \u0085 \u2028""#)
        #expect(try load("\"folded\n  line\n\n  para \\\n  joined\"") == #""folded line\npara joined""#)
        #expect(try load("'single\n  folded\n\n\n  x'") == #""single folded\n\nx""#)
        #expect(try load("k: \"a\tb\"") == #"{"k":"a\tb"}"#)
    }

    @Test func plainMultiLine() throws {
        #expect(try load("key: one two\n  three\n\n  four\nnext: x") == #"{"key":"one two three\nfour","next":"x"}"#)
        #expect(try load("url: http://host:8086/x#frag") == #"{"url":"http://host:8086/x#frag"}"#)
        #expect(try load("a: b:c") == #"{"a":"b:c"}"#)
        #expect(try load("a: -1x") == #"{"a":"-1x"}"#)
    }

    @Test func blockScalars() throws {
        let text = """
            clip: |
              line 1
               indented
              line 3

            strip: |-
              text

            keep: |+
              text


            folded: >
              one
              two

              three
                more
              four
            explicit: |2
                four spaces
              two
            header: >- # comment
              x
            empty: |
            last: end
            """
        #expect(
            try load(text)
                == #"{"clip":"line 1\n indented\nline 3\n","empty":"","explicit":"  four spaces\ntwo\n","folded":"one two\nthree\n  more\nfour\n","header":"x","keep":"text\n\n\n","last":"end","strip":"text"}"#
        )
    }

    @Test func flowCollections() throws {
        #expect(try load("[a, 'b', \"c\", 1, ~, [], {}]") == #"["a","b","c",1,null,[],{}]"#)
        #expect(try load("{a: 1, b: [x, y], c: {d: e}, }") == #"{"a":1,"b":["x","y"],"c":{"d":"e"}}"#)
        #expect(try load("{a, b: , \"c\": d}") == #"{"a":null,"b":null,"c":"d"}"#)
        #expect(try load("[a: 1, b]") == #"[{"a":1},"b"]"#)
        #expect(try load("k: {host: \"${H}\",\n     name: x }\nz: 1") == #"{"k":{"host":"${H}","name":"x"},"z":1}"#)
        #expect(try load("[http://a:1/b, a:b]") == #"["http://a:1/b","a:b"]"#)
    }

    @Test func keysOfOtherTypes() throws {
        #expect(try load("1: a\nno: b\n~: c\n1.5: d\n\"1\": e") == #"{"1":"e",1:"a",1.5:"d",false:"b",null:"c"}"#)
    }

    @Test func locationsAndAccessors() throws {
        let text = """
            benchmark:
              name: demo
              max_t: -1
              rdt: yes
              ratio: 0.5
              none:
            victim: { index: 0, image: "redis:7" }
            list:
              - x
            """
        let root = try #require(try YAMLReader.parse(text, file: "c.yaml"))
        #expect(root.location == SourceLocation(line: 1, column: 1))
        let benchmark = try #require(root["benchmark"])
        #expect(benchmark.location == SourceLocation(line: 2, column: 3))
        #expect(benchmark["name"]?.stringValue == "demo")
        #expect(benchmark["name"]?.location == SourceLocation(line: 2, column: 9))
        #expect(benchmark["max_t"]?.intValue == -1)
        #expect(benchmark["rdt"]?.boolValue == true)
        #expect(benchmark["rdt"]?.scalar?.text == "yes")
        #expect(benchmark["ratio"]?.doubleValue == 0.5)
        #expect(benchmark["max_t"]?.doubleValue == -1)
        #expect(benchmark["none"]?.isNull == true)
        #expect(benchmark["none"]?.location == SourceLocation(line: 6, column: 8))
        #expect(benchmark["missing"] == nil)
        #expect(benchmark.entry(forKey: "ratio")?.key.location == SourceLocation(line: 5, column: 3))
        let image = try #require(root["victim"]?["image"])
        #expect(image.location == SourceLocation(line: 7, column: 28))
        #expect(image.scalar?.style == .doubleQuoted)
        #expect(root["victim"]?.location == SourceLocation(line: 7, column: 9))
        #expect(root["list"]?.location == SourceLocation(line: 9, column: 3))
        #expect(root["list"]?.sequence?.first?.location == SourceLocation(line: 9, column: 5))
        #expect(root.mapping?.map { $0.key.stringValue ?? "?" } == ["benchmark", "victim", "list"])
        #expect(
            root["victim"]?.plainValue
                == .mapping([
                    .init(key: .scalar(.string("index")), value: .scalar(.int(0))),
                    .init(key: .scalar(.string("image")), value: .scalar(.string("redis:7"))),
                ]))
    }

    @Test func byteOrderMarkAndCarriageReturns() throws {
        #expect(try load("\u{FEFF}a: 1\r\nb: |\r\n  x\r\n  y\r\n") == #"{"a":1,"b":"x\ny\n"}"#)
    }
}

@Suite("Errors")
struct ErrorTests {
    /// Documents and the exact outcome: an error description or `loaded: <canonical value>`.
    static let cases: [(text: String, expected: String)] = [
        ("a: 1\nb\nc: 2\n", "t.yaml:2:1: expected ':' after mapping key"),
        ("image: a\nport: 1\nimage: b\n", "t.yaml:3:1: duplicate key 'image' (first defined at line 1)"),
        ("x:\n  - 1\n  - {a: 1, a: 2}\n", "t.yaml:3:12: duplicate key 'a' (first defined at line 3)"),
        ("1: a\n0x1: b\n", "t.yaml:2:1: duplicate key '0x1' (first defined at line 1)"),
        ("a:\n\tb: 1\n", "t.yaml:2:1: tab characters are not allowed for indentation"),
        ("a: 1\t# c\n", "t.yaml:1:5: found a tab character where a token was expected; tabs are allowed only inside quoted scalars"),
        ("a: &x 1\n", "t.yaml:1:4: anchors and aliases are not supported"),
        ("a: *x\n", "t.yaml:1:4: anchors and aliases are not supported"),
        ("a: !!str 1\n", "t.yaml:1:4: tags are not supported"),
        ("%YAML 1.1\n---\na: 1\n", "t.yaml:1:1: directives (%YAML, %TAG) are not supported"),
        ("<<: {a: 1}\n", "t.yaml:1:1: merge keys ('<<') are not supported"),
        ("a: 1\n---\nb: 2\n", "t.yaml:2:1: found a second document ('---'); a configuration file holds exactly one document"),
        ("a: \"open\nb: 1\n", "t.yaml:1:4: unterminated double-quoted scalar; expected a closing '\"'"),
        ("a: 'open\n", "t.yaml:1:4: unterminated single-quoted scalar; expected a closing \"'\""),
        ("a: \"x\n---\n\"", "t.yaml:1:4: unterminated quoted scalar; found a document marker ('---' or '...') before the closing quote"),
        ("a: [1, 2\n  b: 3]\n", "t.yaml:2:4: expected ',' or ']' in the flow sequence started at 1:4, found ':'"),
        ("a: [1, 2\n", "t.yaml:1:4: unclosed '['; expected ']' before the end of the file"),
        ("a: {b: 1]\n", "t.yaml:1:9: expected ',' or '}' in the flow mapping started at 1:4, found ']'"),
        ("a: 1]\n", "loaded: {\"a\":\"1]\"}"),
        ("a: 1\n]\n", "t.yaml:2:1: unexpected ']' outside a flow collection"),
        ("yes: a\n1: b\n", "t.yaml:2:1: duplicate key '1' (first defined at line 1)"),
        ("a:\n  b: 1\n c: 2\n", "t.yaml:3:2: expected a mapping key at the indentation of the mapping started at line 1, found mapping key"),
        ("- a\n- b\nc: d\n", "t.yaml:3:1: expected a sequence entry '- ' at the indentation of the sequence started at line 1, found mapping key"),
        ("a: b: c\n", "t.yaml:1:5: unexpected ':'; a mapping value is not allowed here (quote a scalar that contains ': ')"),
        ("a: - b\n", "t.yaml:1:4: a sequence entry '-' is not allowed here; start it on its own line"),
        ("a: \"\\q\"\n", "t.yaml:1:6: unknown escape sequence '\\q' in a double-quoted scalar"),
        ("a: \"\\x4\"\n", "t.yaml:1:7: expected an escape sequence of 2 hexadecimal digits, but found '\"'"),
        ("a: \"\\ud800\"\n", "t.yaml:1:7: escape sequence \\ud800 is not a valid Unicode scalar"),
        ("a: |0\n  x\n", "t.yaml:1:5: expected an indentation indicator in the range 1-9, but found 0"),
        ("a: |x\n", "t.yaml:1:5: expected a chomping indicator ('+' or '-') or an indentation indicator (1-9) after '|', but found 'x'"),
        ("a: | x\n", "t.yaml:1:6: expected a comment or a line break after the block scalar header, but found 'x'"),
        ("a: @x\n", "t.yaml:1:4: found character '@' that cannot start any token; quote the scalar"),
        ("a: 99999999999999999999\n", "t.yaml:1:4: integer 99999999999999999999 does not fit in 64 bits"),
        ("a: 0b_\n", "t.yaml:1:4: integer 0b_ has no digits"),
        ("[1, 2]: x\n", "t.yaml:1:1: mapping keys must be scalars, found a sequence"),
        ("a: 1\n...\nb: 2\n", "t.yaml:3:1: expected the end of the document, found mapping key (check the indentation)"),
        ("a: \u{01}\n", "t.yaml:1:4: control character U+0001 is not allowed; escape it in a double-quoted scalar"),
        ("a: b\u{2028}c\n", "t.yaml:1:5: line separator U+2028 is not supported; use a plain line feed"),
        ("key:\n- a\n  - b\n", "loaded: {\"key\":[\"a - b\"]}"),
        ("key: a\n  - b: c\n", "t.yaml:2:6: unexpected ':'; a mapping value is not allowed here (quote a scalar that contains ': ')"),
        ("a: [b, c]]\n", "t.yaml:1:10: unexpected ']' outside a flow collection"),
        ("? a\n: 1\n", "loaded: {\"a\":1}"),
        ("a: =\n", "t.yaml:1:4: a plain '=' is reserved by YAML 1.1 (the value key); quote it"),
    ]

    @Test(arguments: cases)
    func rejected(text: String, expected: String) {
        #expect(failure(text) == expected)
    }

    @Test func errorFieldsAndDescription() {
        do {
            _ = try YAMLReader.parse("a: 1\na: 2\n", file: "configs/x.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "configs/x.yaml")
            #expect(error.location == SourceLocation(line: 2, column: 1))
            #expect(error.message == "duplicate key 'a' (first defined at line 1)")
            #expect(error.description == "configs/x.yaml:2:1: duplicate key 'a' (first defined at line 1)")
        }
    }

    @Test func deepNestingIsRejected() {
        let text = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(failure(text).contains("nested more than 256 levels deep"))
    }
}
