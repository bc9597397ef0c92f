public import MediaCore

extension VideoEncoderSettings.Preset {
    /// Parses a preset name as given on a command line.
    public init(parsing text: String) throws(InvalidSetting) {
        self = try parseChoice(text, key: .preset)
    }
}

extension VideoEncoderSettings.Tune {
    /// Parses a tuning name as given on a command line.
    public init(parsing text: String) throws(InvalidSetting) {
        self = try parseChoice(text, key: .tune)
    }
}

extension VideoEncoderSettings.Profile {
    /// Parses a profile name as given on a command line.
    public init(parsing text: String) throws(InvalidSetting) {
        self = try parseChoice(text, key: .profile)
    }
}

/// The case named `text`, or an error that lists every valid name.
func parseChoice<Choice: RawRepresentable & CaseIterable>(_ text: String, key: SettingKey) throws(InvalidSetting) -> Choice
where Choice.RawValue == String {
    if let choice = Choice(rawValue: text) { return choice }
    let valid = Choice.allCases.map(\.rawValue).joined(separator: ", ")
    throw InvalidSetting(key, value: text, reason: "valid values: \(valid)")
}

extension VideoEncoderSettings {
    /// Parses a bit rate as ffmpeg's options take it: "128000", "2976k", "3M",
    /// "2.5M" (k = 1000, M = 1000000). Refuses an empty, zero, negative or
    /// malformed value with an `InvalidSetting` for `key`.
    public static func parseBitrate(_ text: String, key: SettingKey) throws(InvalidSetting) -> Int {
        func refuse() -> InvalidSetting {
            InvalidSetting(key, value: text,
                           reason: "expected a positive bit rate in bits/s such as 128000, 2976k or 3M")
        }
        var digits = Substring(text)
        var multiplier = 1.0
        switch digits.last {
        case "k", "K": multiplier = 1e3; digits = digits.dropLast()
        case "m", "M": multiplier = 1e6; digits = digits.dropLast()
        default: break
        }
        // Only digits and one point: Double(_:) alone would take "1e3", "inf", "+5".
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              digits.filter({ $0 == "." }).count <= 1, digits.first != ".", digits.last != ".",
              let number = Double(digits) else { throw refuse() }
        let bits = (number * multiplier).rounded()
        guard bits >= 1, bits <= 100e9 else { throw refuse() }
        return Int(bits)
    }
}
