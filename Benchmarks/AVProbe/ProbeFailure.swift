/// A probe that could not open its window or PCM, or a recording it could not
/// read, with a readable reason.
package struct ProbeFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
