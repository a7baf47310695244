import ArgumentParsing

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

let code = CommandLineParser.main(root: RootCommand.self, arguments: Array(CommandLine.arguments.dropFirst()))
exit(code.rawValue)
