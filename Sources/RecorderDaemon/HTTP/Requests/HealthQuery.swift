import Hummingbird
import RecorderEngine

/// `GET /health`'s query: the size of the one more recording to ask about
/// (the configured probe's by default).
struct HealthQuery: Sendable {
    var width: Int?
    var height: Int?
    var fps: Int?
    var preset: String?

    init(_ query: Request) throws {
        let parameters = query.uri.queryParameters
        func number(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text = parameters[key[...]] else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw FieldError(field: key, reason: "'\(text)' is not an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        width = try number("width", 16...16_384)
        height = try number("height", 16...16_384)
        fps = try number("fps", 1...120)
        preset = parameters["preset"].map(String.init)
        if let preset, VideoEncoderSettings.Preset(rawValue: preset) == nil {
            throw FieldError(field: "preset", reason: "'\(preset)' is not an x264 preset")
        }
    }
}
