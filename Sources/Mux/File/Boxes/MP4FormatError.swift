/// A file that is not laid out as an MP4 (or as one of our recordings) where
/// it must be.
struct MP4FormatError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
