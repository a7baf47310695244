import Configuration
import PluginABI
import Testing

@Suite struct ExpansionTests {
    @Test func bracedFormsAndDefaults() throws {
        let yaml = """
            benchmark:
              name: ${NAME}
              description: "${MISSING:-fallback text}"
              max_t: ${MAX_T}
            a: { image: "${REGISTRY:-docker.io}/${IMAGE}", env: { EMPTY: "${EMPTY:-was empty}" } }
            """
        let loaded = try load(yaml, environment: ["NAME": "expanded", "MAX_T": "45", "IMAGE": "rdt4nn/spin", "EMPTY": ""])
        #expect(loaded.plan.name == "expanded")
        #expect(loaded.plan.description == "fallback text")
        #expect(loaded.plan.maxSeconds == 45)  // expanded before parsing, so it is an integer
        #expect(loaded.plan.containers[0].image == "docker.io/rdt4nn/spin")
        #expect(loaded.plan.containers[0].environment == [EnvironmentVariable(name: "EMPTY", value: "was empty")])
    }

    @Test func unknownVariablesStayLiteralAndAreReported() throws {
        let yaml = """
            benchmark: { name: t, max_t: 9 }
            a: { image: x, command: "echo ${NOPE} and ${1bad}" }
            """
        let loaded = try load(yaml)
        #expect(loaded.plan.containers[0].command == "echo ${NOPE} and ${1bad}")
        #expect(
            loaded.warnings.map(\.description).filter { !$0.contains("no collectors") } == [
                "t.yaml:2:31: environment variable NOPE is not set; ${NOPE} left as written",
                "t.yaml:2:43: '${1bad}' is not an expansion rdt4nn knows (use ${VAR} or ${VAR:-default}); left as written",
            ]
        )
    }

    @Test func commentsAreNotExpanded() throws {
        let yaml = """
            # header ${SECRET_IN_COMMENT}
            benchmark:
              name: t   # ${TRAILING}
              max_t: 9
            a:
              image: x
              command: |
                echo ${INSIDE} # not a comment: block scalar content
              env: { A: "quoted # ${QUOTED}", B: 'single # ${SINGLE}' }
            """
        let environment = ["SECRET_IN_COMMENT": "S", "TRAILING": "T", "INSIDE": "I", "QUOTED": "Q", "SINGLE": "X"]
        let loaded = try load(yaml, environment: environment)
        #expect(loaded.plan.containers[0].command == "echo I # not a comment: block scalar content\n")
        #expect(loaded.plan.containers[0].environment.map(\.value) == ["quoted # Q", "single # X"])
        #expect(loaded.maskedConfigText.contains("# header ${SECRET_IN_COMMENT}"))
        #expect(loaded.maskedConfigText.contains("name: t   # ${TRAILING}"))
        // A variable referenced only in comments is neither expanded nor reported.
        let unset = try load(yaml, environment: ["INSIDE": "I", "QUOTED": "Q", "SINGLE": "X"])
        #expect(unset.warnings.filter { $0.message.contains("environment variable") }.isEmpty)
    }

    @Test func bareDollarOnlyInRdt4nnFormat() throws {
        let rdt4nn = """
            benchmark:
              name: t
              max_t: 9
              data: { profilefrequency: 100, perf: true }
            a: { image: x, command: "run $WORKLOAD --in $HOME_DIR $lower $UNSET" }
            """
        let environment = ["WORKLOAD": "stream", "HOME_DIR": "/h", "lower": "no"]
        let loaded = try load(rdt4nn, environment: environment)
        #expect(loaded.plan.format == .rdt4nn)
        #expect(loaded.plan.containers[0].command == "run stream --in /h $lower $UNSET")
        #expect(loaded.warnings.map(\.description) == ["t.yaml:5:62: environment variable UNSET is not set; $UNSET left as written"])

        let containerBench = """
            benchmark: { name: t, max_t: 9 }
            a: { image: x, start_t: 0, command: "run $WORKLOAD ${WORKLOAD}" }
            """
        let cb = try load(containerBench, environment: environment)
        #expect(cb.plan.format == .containerBench)
        #expect(cb.plan.containers[0].command == "run $WORKLOAD stream")
    }

    @Test func locationsPointAtTheTextAsWritten() {
        // ${H} expands to a longer value; the error after it on the same line keeps its original column.
        let yaml = """
            benchmark: { name: t, max_t: 9 }
            a: { image: "${H}", start: -1 }
            """
        #expect(errors(yaml, environment: ["H": "registry.example.org:5000/a/very/long/image"]) == ["t.yaml:2:28: a.start: start must be 0 or more seconds, found -1"])
        // A value with a newline does not shift the lines that follow.
        let multiline = "benchmark: { name: t, max_t: 9 }\na:\n  image: x\n  command: \"${CMD}\"\n  start: -2\n"
        #expect(errors(multiline, environment: ["CMD": "one\ntwo"]) == ["t.yaml:5:10: a.start: start must be 0 or more seconds, found -2"])
    }
}

@Suite struct MaskingTests {
    static let yaml = """
        benchmark:
          name: secrets
          max_t: 9
          data:
            db:
              host: http://db:8086
              name: bucket
              org: lab
              password: "${INFLUX_TOKEN}"
          docker:
            auth: { registry: reg.example.org, username: bob, password: 'pa''ss-word' }
          sink: { id: influx, config: { token: plain-token-value, batch: 10 } }
        a:
          image: x
          environment:
            API_TOKEN: tok-in-env-1234
            PLAIN: visible
          command: "login --token ${INFLUX_TOKEN}"
        """

    @Test func secretsNeverAppearInPrintedForms() throws {
        let token = "s3cr3t-influx-token"
        let loaded = try load(Self.yaml, environment: ["INFLUX_TOKEN": token])
        #expect(loaded.plan.sink.database?.password?.revealed == token)
        #expect("\(loaded.plan.sink.database!.password!)" == "***")
        let json = loaded.planJSON.prettyText
        let text = loaded.maskedConfigText
        for secret in [token, "pa'ss-word", "pa''ss-word", "plain-token-value", "tok-in-env-1234"] {
            #expect(!json.contains(secret), "JSON shows \(secret)")
            #expect(!text.contains(secret), "config text shows \(secret)")
        }
        #expect(json.contains("visible"))
        #expect(loaded.plan.containers[0].command == "login --token \(token)")  // the plan keeps the value
        #expect(loaded.planJSON["containers"]?.arrayValue?[0]["command"] == .string("login --token ***"))
        #expect(
            text == """
                benchmark:
                  name: secrets
                  max_t: 9
                  data:
                    db:
                      host: http://db:8086
                      name: bucket
                      org: lab
                      password: "***"
                  docker:
                    auth: { registry: reg.example.org, username: bob, password: '***' }
                  sink: { id: influx, config: { token: ***, batch: 10 } }
                a:
                  image: x
                  environment:
                    API_TOKEN: ***
                    PLAIN: visible
                  command: "login --token ***"
                """
        )
        #expect(loaded.masked("connecting with \(token)") == "connecting with ***")
    }

    @Test func blockScalarSecretsAreMasked() throws {
        let yaml = "benchmark:\n  name: t\n  max_t: 9\n  sink:\n    id: influx\n    config:\n      password: |\n        line-one-secret\n        line-two-secret\n      batch: 5\na: { image: x }\n"
        let text = try load(yaml).maskedConfigText
        #expect(text == "benchmark:\n  name: t\n  max_t: 9\n  sink:\n    id: influx\n    config:\n      password: ***\n      batch: 5\na: { image: x }\n")
    }
}
