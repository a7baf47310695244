import LineProtocol

/// Swift Testing also exports a `Tag`; in this module `Tag` is the line-protocol one.
typealias Tag = LineProtocol.Tag
