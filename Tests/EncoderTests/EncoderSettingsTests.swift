import Encoder
import MediaCore
import Testing

/// Bad settings are refused with the value and the valid choices named.
@Suite struct EncoderSettingsTests {
    /// Runs `body`, which must throw an `InvalidSetting` for `key` and `value`
    /// whose text mentions every string in `mentions`.
    func expectRefusal(_ key: SettingKey, _ value: String, mentioning mentions: [String] = [],
                       sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("\(key) '\(value)' was accepted", sourceLocation: sourceLocation)
        } catch let error as InvalidSetting {
            #expect(error.key == key, sourceLocation: sourceLocation)
            #expect(error.value == value, sourceLocation: sourceLocation)
            #expect(error.description.contains("'\(value)'"), "\(error)", sourceLocation: sourceLocation)
            for mention in mentions {
                #expect(error.description.contains(mention), "\(error) should mention \(mention)",
                        sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func unknownNamesListTheValidOnes() {
        expectRefusal(.preset, "turbo", mentioning: ["ultrafast", "veryfast", "placebo"]) {
            _ = try VideoEncoderSettings.Preset(parsing: "turbo")
        }
        expectRefusal(.tune, "fast", mentioning: ["film", "zerolatency", "ssim"]) {
            _ = try VideoEncoderSettings.Tune(parsing: "fast")
        }
        expectRefusal(.profile, "high10", mentioning: ["baseline", "main", "high"]) {
            _ = try VideoEncoderSettings.Profile(parsing: "high10")
        }
        #expect((try? VideoEncoderSettings.Preset(parsing: "veryfast")) == .veryfast)
        #expect((try? VideoEncoderSettings.Tune(parsing: "zerolatency")) == .zerolatency)
        #expect((try? VideoEncoderSettings.Profile(parsing: "high")) == .high)
    }

    @Test func numbersOutOfRangeAreNamed() {
        expectRefusal(.crf, "52", mentioning: ["1", "51"]) { _ = try VideoEncoderSettings(width: 1280, height: 720, crf: 52) }
        expectRefusal(.crf, "-1") { _ = try VideoEncoderSettings(width: 1280, height: 720, crf: -1) }
        expectRefusal(.fps, "0", mentioning: ["120"]) { _ = try VideoEncoderSettings(width: 1280, height: 720, fps: 0) }
        expectRefusal(.fps, "121") { _ = try VideoEncoderSettings(width: 1280, height: 720, fps: 121) }
        expectRefusal(.gop, "0") { _ = try VideoEncoderSettings(width: 1280, height: 720, gop: 0) }
        expectRefusal(.gop, "-30") { _ = try VideoEncoderSettings(width: 1280, height: 720, gop: -30) }
        expectRefusal(.width, "1279", mentioning: ["even"]) { _ = try VideoEncoderSettings(width: 1279, height: 720) }
        expectRefusal(.bufsize, "5952000", mentioning: ["maxrate"]) {
            _ = try VideoEncoderSettings(width: 1280, height: 720, bufsize: 5_952_000)
        }
        expectRefusal(.audioRate, "12345", mentioning: ["44100", "48000"]) {
            _ = try AudioEncoderSettings(sampleRate: 12_345)
        }
        expectRefusal(.audioChannels, "3") { _ = try AudioEncoderSettings(channels: 3) }
        expectRefusal(.audioBitrate, "0") { _ = try AudioEncoderSettings(bitrate: 0) }
        let boundary = try? VideoEncoderSettings(width: 1280, height: 720, fps: 120, crf: 51, gop: 1)
        #expect(boundary != nil)
        #expect((try? VideoEncoderSettings(width: 1280, height: 720, fps: 1, crf: 1)) != nil)
        // x264 codes CRF 0 as lossless, which no offered profile can carry.
        expectRefusal(.crf, "0", mentioning: ["lossless", "1 to 51"]) {
            _ = try VideoEncoderSettings(width: 1280, height: 720, crf: 0)
        }
        expectRefusal(.maxrate, "900000000", mentioning: ["level 6.2"]) {
            _ = try VideoEncoderSettings(width: 1280, height: 720, maxrate: 900_000_000)
        }
        // Jibri's streaming settings: bufsize given, and defaulted to twice maxrate.
        let streaming = try? VideoEncoderSettings(width: 1280, height: 720, preset: .veryfast, tune: .zerolatency,
                                                  crf: nil, maxrate: 2_976_000)
        #expect(streaming?.bufsize == 5_952_000)
    }

    @Test func bitratesParseAsFFmpegWritesThem() throws {
        #expect(try VideoEncoderSettings.parseBitrate("2976k", key: .maxrate) == 2_976_000)
        #expect(try VideoEncoderSettings.parseBitrate("3M", key: .maxrate) == 3_000_000)
        #expect(try VideoEncoderSettings.parseBitrate("128000", key: .audioBitrate) == 128_000)
        #expect(try VideoEncoderSettings.parseBitrate("2.5M", key: .maxrate) == 2_500_000)
        for bad in ["", "12x", "-5k", "0", "k", "0k", "1e3", "1.k", "M3"] {
            expectRefusal(.bufsize, bad, mentioning: ["2976k"]) {
                _ = try VideoEncoderSettings.parseBitrate(bad, key: .bufsize)
            }
        }
    }

    @Test func levelFollowsSizeAndRate() throws {
        func level(_ width: Int, _ height: Int, _ fps: Int, maxrate: Int? = nil) throws -> Int {
            try VideoEncoderSettings(width: width, height: height, fps: fps, maxrate: maxrate).level.idc
        }
        #expect(try level(1920, 1080, 30) == 40)
        #expect(try level(1280, 720, 30) == 31)
        #expect(try level(2560, 1440, 30) == 50)
        #expect(try level(1280, 720, 60) == 32)
        #expect(try level(1920, 1080, 60) == 42)
        #expect(try level(3840, 2160, 30) == 51)
        #expect(try level(640, 360, 30) == 30)
        // A VBV rate above level 4.0's 20 Mbit/s moves 1080p30 to 4.1.
        #expect(try level(1920, 1080, 30, maxrate: 25_000_000) == 41)
        #expect(try VideoEncoderSettings(width: 1920, height: 1080).level.description == "4.0")
        expectRefusal(.sizeAndRate, "16384x16384@120") {
            _ = try VideoEncoderSettings(width: 16_384, height: 16_384, fps: 120)
        }
    }
}
