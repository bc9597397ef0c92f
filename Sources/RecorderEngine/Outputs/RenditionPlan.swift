import Encoder
import MediaCore

/// Which video encodes a recording runs and which output takes which:
/// the configuration's renditions resolved by name, with renditions of the
/// same options folded into one encode (an output costs muxing, not a
/// second encoder, when its settings match another's).
///
/// Checked before anything opens: rendition names, sizes, an output naming
/// a rendition that does not exist, a rendition no output takes.
struct RenditionPlan {
    /// One encode: its options and the names of the renditions it serves.
    struct Encode: Equatable {
        var names: [String]
        var options: VideoEncodingOptions
    }

    /// The encodes, in the order outputs first take them (file, streams, HLS).
    private(set) var encodes: [Encode] = []
    /// The encode the file output takes (nil: no file, or no video).
    private(set) var fileEncode: Int?
    /// The encode each stream takes (empty without video).
    private(set) var streamEncodes: [Int] = []
    /// The encode the HLS output takes.
    private(set) var hlsEncode: Int?

    init(_ configuration: RecordingConfiguration) throws(InvalidSetting) {
        var defined: [String: VideoEncodingOptions] = [VideoRendition.mainName: configuration.video]
        var order = [VideoRendition.mainName]
        for (index, rendition) in configuration.renditions.enumerated() {
            guard VideoRendition.isValidName(rendition.name) else {
                throw InvalidSetting(.renditionName(index: index), value: rendition.name,
                                     reason: "expected 1 to 32 characters from A-Z a-z 0-9 _ -")
            }
            guard defined[rendition.name] == nil else {
                throw InvalidSetting(.renditionName(index: index), value: rendition.name,
                                     reason: rendition.name == VideoRendition.mainName
                                         ? "is the main rendition's (the encoding options outside any rendition)"
                                         : "is given twice")
            }
            defined[rendition.name] = rendition.options
            order.append(rendition.name)
        }
        guard configuration.recordsVideo else {
            if let size = configuration.video.size {
                throw InvalidSetting(.noVideo, value: "\(size)", reason: "records no picture to size")
            }
            if let first = configuration.renditions.first {
                throw InvalidSetting(.noVideo, value: first.name, reason: "records no picture to encode")
            }
            return
        }
        try configuration.video.size?.validate(key: .size)
        for (index, rendition) in configuration.renditions.enumerated() {
            try rendition.options.size?.validate(key: .renditionSize(index: index))
        }
        var taken: Set<String> = []
        func encode(for name: String?, output: SettingKey) throws(InvalidSetting) -> Int {
            let name = name ?? VideoRendition.mainName
            guard let options = defined[name] else {
                throw InvalidSetting(output, value: name,
                                     reason: "names no rendition (defined: \(order.joined(separator: ", ")))")
            }
            taken.insert(name)
            if let index = encodes.firstIndex(where: { $0.options == options }) {
                if !encodes[index].names.contains(name) { encodes[index].names.append(name) }
                return index
            }
            encodes.append(Encode(names: [name], options: options))
            return encodes.count - 1
        }
        if let output = configuration.output { fileEncode = try encode(for: output.rendition, output: .outputRendition) }
        for (index, stream) in configuration.streams.enumerated() {
            streamEncodes.append(try encode(for: stream.rendition, output: .streamRendition(index: index)))
        }
        if let hls = configuration.hls { hlsEncode = try encode(for: hls.rendition, output: .hlsRendition) }
        if let unused = configuration.renditions.firstIndex(where: { !taken.contains($0.name) }) {
            throw InvalidSetting(.rendition(index: unused), value: configuration.renditions[unused].name,
                                 reason: "no output takes it")
        }
    }

    /// The outputs each encode feeds: the file's, the streams', the HLS'.
    func outputs(of encode: Int) -> (file: Bool, streams: [Int], hls: Bool) {
        (fileEncode == encode, streamEncodes.indices.filter { streamEncodes[$0] == encode }, hlsEncode == encode)
    }
}
