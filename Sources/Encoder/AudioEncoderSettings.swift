import CFFmpeg
import MediaCore

/// How to encode audio with libavcodec's native AAC encoder (planar float,
/// 1024 samples per frame), checked when made.
public struct AudioEncoderSettings: Sendable, Equatable {
    /// Output sample rate in Hz (44100 as Jibri records, or 48000).
    public let sampleRate: Int
    /// Output channels: 1 or 2.
    public let channels: Int
    /// Bit rate in bits/s.
    public let bitrate: Int

    /// The bit rates accepted, in bits/s.
    public static let bitrateRange = 8_000...512_000

    /// Checks every value; throws `InvalidSetting` naming the first bad one.
    ///
    /// A sample rate is accepted when the AAC encoder lists it in
    /// `supported_samplerates` (the MPEG-4 rates 7350...96000); an encoder that
    /// publishes no list gets the common rates from 8000 to 96000.
    public init(sampleRate: Int = 44_100, channels: Int = 2, bitrate: Int = 128_000) throws {
        let rates = Self.supportedSampleRates()
        guard rates.contains(sampleRate) else {
            throw InvalidSetting(.audioRate, value: "\(sampleRate)",
                                 reason: "valid rates: " + rates.map(String.init).joined(separator: ", "))
        }
        guard channels == 1 || channels == 2 else {
            throw InvalidSetting(.audioChannels, value: "\(channels)", reason: "must be 1 or 2")
        }
        guard Self.bitrateRange.contains(bitrate) else {
            throw InvalidSetting(.audioBitrate, value: "\(bitrate)",
                                 reason: "must be from 8000 to 512000 bits/s")
        }
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitrate = bitrate
    }

    /// The rates the AAC encoder takes, in ascending order.
    public static func supportedSampleRates() -> [Int] {
        let common = [8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 64_000, 88_200, 96_000]
        guard let codec = avcodec_find_encoder_by_name("aac"), var rate = codec.pointee.supported_samplerates else {
            return common
        }
        var rates: [Int] = []
        while rate.pointee != 0 {
            rates.append(Int(rate.pointee))
            rate += 1
        }
        return rates.sorted()
    }
}
