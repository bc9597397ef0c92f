import Encoder
import MediaCore
import MediaPackets
import MediaTestSupport
import Testing

/// Issue 11 part 5: every documented encoder option, at both ends of its
/// range and in every combination of the named choices, either opens the real
/// libx264/AAC encoder and encodes, or is refused by the settings (before
/// anything opens) with the option named. None may reach libav and fail there.
@Suite struct EncoderOptionRangeTests {
    /// Opens the encoder with `make()`'s settings and encodes two small frames;
    /// a refusal must be an `InvalidSetting` (returned), anything else fails.
    private func openOrRefuse(_ label: String, sourceLocation: SourceLocation = #_sourceLocation,
                              _ make: () throws -> VideoEncoderSettings) -> InvalidSetting? {
        _ = TestMedia.quietLibav
        let settings: VideoEncoderSettings
        do {
            settings = try make()
        } catch let refusal as InvalidSetting {
            return refusal
        } catch {
            Issue.record("\(label): \(error)", sourceLocation: sourceLocation)
            return nil
        }
        do {
            let encoder = try VideoEncoder(settings: settings, inputWidth: settings.width, inputHeight: settings.height)
            var packets = 0
            for index in 0..<2 {
                try encoder.encodeI420(frameIndex: Int64(index), fill: { planes in
                    planes.y.update(repeating: 128, count: planes.strideY * planes.height)
                    planes.u.update(repeating: 128, count: planes.strideU * planes.height / 2)
                    planes.v.update(repeating: 128, count: planes.strideV * planes.height / 2)
                }, emit: { _ in packets += 1 })
            }
            try encoder.flush { _ in packets += 1 }
            #expect(packets == 2, "\(label): \(packets) packets for 2 frames", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(label): accepted by the settings but libav refused it: \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    @Test func everyPresetTuneAndProfileOpens() {
        for preset in VideoEncoderSettings.Preset.allCases {
            #expect(openOrRefuse("preset \(preset)") { try VideoEncoderSettings(width: 320, height: 240, preset: preset) } == nil)
        }
        for tune in VideoEncoderSettings.Tune.allCases {
            for profile in VideoEncoderSettings.Profile.allCases {
                #expect(openOrRefuse("tune \(tune), profile \(profile)") {
                    try VideoEncoderSettings(width: 320, height: 240, tune: tune, profile: profile)
                } == nil)
            }
        }
    }

    @Test func numericOptionsAtBothEnds() {
        for profile in VideoEncoderSettings.Profile.allCases {
            for crf in [1, 51] {
                #expect(openOrRefuse("crf \(crf) \(profile)") {
                    try VideoEncoderSettings(width: 320, height: 240, profile: profile, crf: crf)
                } == nil)
            }
            #expect(openOrRefuse("crf 0 \(profile)") {
                try VideoEncoderSettings(width: 320, height: 240, profile: profile, crf: 0)
            }?.key == .crf)
        }
        #expect(openOrRefuse("fps 1") { try VideoEncoderSettings(width: 320, height: 240, fps: 1) } == nil)
        #expect(openOrRefuse("fps 120") { try VideoEncoderSettings(width: 320, height: 240, fps: 120) } == nil)
        #expect(openOrRefuse("gop 1") { try VideoEncoderSettings(width: 320, height: 240, gop: 1) } == nil)
        #expect(openOrRefuse("gop 100000") { try VideoEncoderSettings(width: 320, height: 240, gop: 100_000) } == nil)
        // Past the engine's limit (x264 takes keyint as an int32; recorderd's
        // video.gop and record-display's --gop both end here).
        #expect(openOrRefuse("gop 100001") { try VideoEncoderSettings(width: 320, height: 240, gop: 100_001) }?.key == .gop)
        #expect(openOrRefuse("gop 2^32") { try VideoEncoderSettings(width: 320, height: 240, gop: 1 << 32) }?.key == .gop)
        #expect(openOrRefuse("threads 64") { try VideoEncoderSettings(width: 320, height: 240, threads: 64) } == nil)
        #expect(openOrRefuse("16x16") { try VideoEncoderSettings(width: 16, height: 16) } == nil)
        #expect(openOrRefuse("8192x4320 at 30") { try VideoEncoderSettings(width: 8192, height: 4320, fps: 30) } == nil)
        #expect(openOrRefuse("maxrate 1000 bit/s") { try VideoEncoderSettings(width: 320, height: 240, maxrate: 1_000) } == nil)
        #expect(openOrRefuse("maxrate 999 bit/s") { try VideoEncoderSettings(width: 320, height: 240, maxrate: 999) }?.key == .maxrate)
        #expect(openOrRefuse("maxrate 1000 bufsize 1000") {
            try VideoEncoderSettings(width: 320, height: 240, maxrate: 1_000, bufsize: 1_000)
        } == nil)
        #expect(openOrRefuse("maxrate at level 6.2's top") {
            try VideoEncoderSettings(width: 320, height: 240, crf: nil, maxrate: 800_000_000)
        } == nil)
        #expect(openOrRefuse("maxrate over level 6.2") {
            try VideoEncoderSettings(width: 320, height: 240, maxrate: 800_000_001)
        }?.key == .maxrate)
        #expect(openOrRefuse("bufsize over level 6.2") {
            try VideoEncoderSettings(width: 320, height: 240, maxrate: 1_000_000, bufsize: 900_000_000)
        }?.key == .bufsize)
    }

    @Test func everyAACRateAtTheLowestAndHighestBitRate() throws {
        _ = TestMedia.quietLibav
        let input = AudioFormat(sampleFormat: .s16, sampleRate: 48_000, channels: 2)
        let silence = UnsafeMutableRawPointer.allocate(byteCount: 4800 * 4, alignment: 16)
        defer { silence.deallocate() }
        silence.initializeMemory(as: UInt8.self, repeating: 0, count: 4800 * 4)
        for rate in AudioEncoderSettings.supportedSampleRates() {
            for channels in [1, 2] {
                for bitrate in [8_000, 512_000] {
                    let settings = try AudioEncoderSettings(sampleRate: rate, channels: channels, bitrate: bitrate)
                    let encoder = try AudioEncoder(settings: settings, inputFormat: input)
                    var packets = 0
                    for _ in 0..<10 {
                        try encoder.encode(interleaved: UnsafeRawPointer(silence), frameCount: 4800) { _ in packets += 1 }
                    }
                    try encoder.flush { _ in packets += 1 }
                    #expect(packets > 0, "AAC \(rate) Hz \(channels) ch \(bitrate) bit/s wrote nothing")
                }
            }
        }
    }
}
