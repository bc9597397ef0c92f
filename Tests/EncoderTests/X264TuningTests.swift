import CFFmpeg
import Encoder
import MediaCore
import MediaPackets
import MediaTestSupport
import Testing
import TestSupport

/// Issue 20, item 6: the keyframe rules and x264 parameters jibri-ffmpeg
/// takes (`-sc_threshold`, `-keyint_min`, `-x264-params`) reach x264, and
/// those the engine sets itself are refused by name.
@Suite struct X264TuningTests {
    /// Keyframes (pts) and whether any packet was reordered, for 60 frames
    /// of veryfast with a GOP of 60: noise, then from frame 20 on a still
    /// bright ramp (a scene cut).
    static func encode(_ tuning: X264Tuning) throws -> (keyframes: [Int64], reordered: Bool, delay: Int32) {
        var settings = try VideoEncoderSettings(width: 320, height: 240, fps: 30, preset: .veryfast, gop: 60, threads: 1)
        settings.x264 = tuning
        let encoder = try VideoEncoder(settings: settings, inputWidth: 320, inputHeight: 240, packetPool: PacketPool(capacity: 8))
        var keyframes: [Int64] = [], reordered = false
        let emit: (consuming Packet) -> Void = { packet in
            if packet.isKeyframe { keyframes.append(packet.pointer.pointee.pts) }
            if packet.pointer.pointee.pts != packet.pointer.pointee.dts { reordered = true }
        }
        var seed: UInt32 = 1
        for index in 0..<60 {
            try encoder.encodeI420(frameIndex: Int64(index), fill: { planes in
                for y in 0..<planes.height {
                    let row = planes.y + y * planes.strideY
                    for x in 0..<planes.width {
                        if index < 20 {
                            seed = seed &* 1_103_515_245 &+ 12_345
                            row[x] = UInt8(truncatingIfNeeded: seed >> 16)
                        } else {
                            row[x] = UInt8(200 - (x + y) / 8)
                        }
                    }
                }
                for y in 0..<planes.chromaHeight {
                    (planes.u + y * planes.strideU).update(repeating: 128, count: planes.chromaWidth)
                    (planes.v + y * planes.strideV).update(repeating: 128, count: planes.chromaWidth)
                }
            }, emit: emit)
        }
        try encoder.flush(emit: emit)
        return (keyframes.sorted(), reordered, encoder.parameters.codecParameters.pointee.video_delay)
    }

    @Test func keyframeRulesAndParametersReachX264() throws {
        TestMedia.quietLibav
        let preset = try Self.encode(X264Tuning())
        #expect(preset.keyframes == [0, 20], "veryfast's scene cut puts a keyframe at the noise: \(preset.keyframes)")
        #expect(preset.reordered && preset.delay > 0, "veryfast uses B-frames")
        // -sc_threshold 0: keyframes only where the GOP says.
        #expect(try Self.encode(X264Tuning(sceneCut: 0)).keyframes == [0])
        // -keyint_min 30: no IDR within 30 frames of the last (x264 codes an I-frame there instead).
        #expect(try Self.encode(X264Tuning(keyframeMinimum: 30)).keyframes == [0])
        // -x264-params bframes=0 with -sc_threshold 0.
        let parameters = try Self.encode(X264Tuning(sceneCut: 0, parameters: [X264Parameter(name: "bframes", value: "0")]))
        #expect(parameters.keyframes == [0] && !parameters.reordered && parameters.delay == 0, "\(parameters)")
        // ffmpeg's spelling with underscores is x264's with dashes.
        #expect(try X264Parameter(name: "rc_lookahead", value: "10").name == "rc-lookahead")
    }

    @Test(arguments: [
        ("open-gop", "1", "not taken: files, segments and streams are cut at IDR keyframes"),
        ("intra_refresh", "1", "not taken: files, segments and streams are cut at IDR keyframes"),
        ("keyint", "60", "give it as the GOP (-g)"),
        ("fps", "25", "not taken: the engine's frame rate"),
        ("no-repeat-headers", "1", "not taken: MP4 and FLV"),
        ("nosuch", "1", "x264 has no parameter of that name"),
        ("bframes", "many", "x264 refuses that value"),
    ])
    func parametersTheEngineSetsOrX264RefusesAreNamed(name: String, value: String, reason: String) {
        do {
            _ = try X264Parameter(name: name, value: value)
            Issue.record("\(name)=\(value) accepted")
        } catch let error as InvalidSetting {
            #expect(error.key == .x264Parameter && error.reason.hasPrefix(reason), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
