import CFFmpeg
import Encoder
import Foundation
import MediaCore
import MediaPackets
@testable import Mux
import Testing

/// The network sink's rules without a network: congestion drops, reconnect
/// delays, non-reference detection, shared payloads, the protocol whitelist
/// and the CA bundle.
@Suite struct StreamPolicyTests {
    @Test func audioIsNeverDroppedAndVideoFollowsTheThresholds() {
        var gate = CongestionGate(policy: CongestionPolicy())
        // Audio passes however long the queue.
        #expect(gate.decide(kind: .audio, isKeyframe: true, isDisposable: false, queued: 60_000_000) == .send)
        // Under 0.7 s everything passes.
        #expect(gate.decide(kind: .video, isKeyframe: false, isDisposable: true, queued: 600_000) == .send)
        // 0.7 to 0.9 s: disposable frames go, reference frames stay.
        #expect(gate.decide(kind: .video, isKeyframe: false, isDisposable: true, queued: 800_000) == .dropDisposable)
        #expect(gate.decide(kind: .video, isKeyframe: false, isDisposable: false, queued: 800_000) == .send)
        // Past 0.9 s: video goes up to a keyframe, even once the queue is short again.
        #expect(gate.decide(kind: .video, isKeyframe: false, isDisposable: false, queued: 950_000) == .dropUntilKeyframe)
        #expect(gate.decide(kind: .video, isKeyframe: false, isDisposable: false, queued: 100_000) == .dropUntilKeyframe)
        #expect(gate.decide(kind: .audio, isKeyframe: true, isDisposable: false, queued: 950_000) == .send)
        // A keyframe while still congested is dropped too; one that finds the queue short restarts video.
        #expect(gate.decide(kind: .video, isKeyframe: true, isDisposable: false, queued: 950_000) == .dropUntilKeyframe)
        #expect(gate.decide(kind: .video, isKeyframe: true, isDisposable: false, queued: 850_000) == .send)
        #expect(gate.decide(kind: .video, isKeyframe: false, isDisposable: false, queued: 100_000) == .send)
        // A hole for another reason also waits for a keyframe.
        gate.requireKeyframe()
        #expect(gate.decide(kind: .video, isKeyframe: false, isDisposable: false, queued: 0) == .dropUntilKeyframe)
        #expect(gate.decide(kind: .video, isKeyframe: true, isDisposable: false, queued: 0) == .send)
    }

    @Test func backoffDoublesFromTwoSecondsUpToACapWithJitterThatOnlyShortens() {
        let backoff = ReconnectBackoff()
        #expect((1...7).map { backoff.nominalDelay(beforeRetry: $0) } == [2, 4, 8, 16, 30, 30, 30])
        #expect(backoff.delay(beforeRetry: 1, unitRandom: 0) == 2)
        #expect(backoff.delay(beforeRetry: 1, unitRandom: 0.999_999) > 1.5)
        #expect(backoff.delay(beforeRetry: 3, unitRandom: 0.5) == 7)
        for retry in 1...10 {
            let delay = backoff.delay(beforeRetry: retry)
            let nominal = backoff.nominalDelay(beforeRetry: retry)
            #expect(delay <= nominal && delay > nominal * 0.75)
        }
        // Randomized: two recorders rarely pick the same wait.
        let waits = Set((0..<20).map { _ in backoff.delay(beforeRetry: 1) })
        #expect(waits.count > 10)
    }

    @Test func x264NonReferenceFramesAreFoundInTheBitstream() throws {
        _ = Self.quietLibav
        // medium has B-frames (some of them references, with b-pyramid);
        // ultrafast+zerolatency has none, so nothing is disposable.
        let medium = try Self.encode(preset: .medium, tune: nil)
        #expect(medium.disposable > 0 && medium.disposable < medium.frames / 2 + 1, "\(medium)")
        #expect(medium.flagged == 0, "libx264 in FFmpeg 5.1 sets no AV_PKT_FLAG_DISPOSABLE: \(medium)")
        let live = try Self.encode(preset: .ultrafast, tune: .zerolatency)
        #expect(live.disposable == 0 && live.frames == 60, "\(live)")
    }

    @Test func aReferenceSharesThePayloadAndOutlivesTheOriginal() {
        let pool = PacketPool(capacity: 4), other = PacketPool(capacity: 4)
        var data: UnsafeMutablePointer<UInt8>?
        func makeReference() -> Packet? {
            let original = pool.acquire(kind: .video)
            let pointer = original.pointer
            guard av_new_packet(pointer, 1000) == 0 else { return nil }
            pointer.pointee.data[0] = 42
            pointer.pointee.pts = 7
            pointer.pointee.dts = 7
            pointer.pointee.flags = AV_PKT_FLAG_KEY
            data = pointer.pointee.data
            return original.reference(from: other)
        }
        guard let copy = makeReference() else {
            Issue.record("no reference")
            return
        }
        #expect(pool.availableCount == 4, "the original is gone")
        #expect(copy.pointer.pointee.data == data, "the same payload, not a copy")
        #expect(copy.isKeyframe && copy.decodingTimestamp == 7 && copy.kind == .video)
        #expect(other.availableCount == 3)
        #expect(copy.pointer.pointee.data[0] == 42, "the payload lives while a reference does")
    }

    @Test(arguments: ["file:/tmp/streaming-whitelist-test.flv", "pipe:1", "http://127.0.0.1:9/live/x"])
    func libavformatReachesOnlyTheRTMPProtocols(url: String) throws {
        _ = Self.quietLibav
        let video = try VideoEncoder(settings: VideoEncoderSettings(width: 64, height: 64), inputWidth: 64, inputHeight: 64)
        // "Protocol 'file' not on whitelist 'rtmp,tcp'!": EINVAL before anything is opened.
        #expect(throws: AVError(code: cffmpeg_averror(EINVAL), operation: "avio_open2")) {
            _ = try RTMPConnection(url: url, scheme: .rtmp, streams: [video.parameters], tls: .systemAuthorities,
                                   authorities: nil, interrupt: IOInterrupt())
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/streaming-whitelist-test.flv"))
    }

    @Test func protocolOptionsVerifyTLSUnlessToldNotTo() throws {
        let plain = RTMPConnection.protocolOptions(scheme: .rtmp, tls: .disabled, authorities: nil)
        #expect(plain.map(\.key) == ["protocol_whitelist"] && plain[0].value == "rtmp,tcp")
        let system = RTMPConnection.protocolOptions(scheme: .rtmps, tls: .systemAuthorities, authorities: nil)
        #expect(system.map { "\($0.key)=\($0.value)" } == ["protocol_whitelist=rtmps,tls,tcp", "tls_verify=1"])
        let off = RTMPConnection.protocolOptions(scheme: .rtmps, tls: .disabled, authorities: nil)
        #expect(off.map { "\($0.key)=\($0.value)" } == ["protocol_whitelist=rtmps,tls,tcp", "tls_verify=0"])
    }

    @Test func anAddedAuthorityIsBundledWithTheSystemOnes() throws {
        let directory = NSTemporaryDirectory() + "ca-bundle-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pem = "-----BEGIN CERTIFICATE-----\nTUlJ\n-----END CERTIFICATE-----\n"
        try pem.write(toFile: "\(directory)/ca.pem", atomically: true, encoding: .utf8)
        let bundle = try CertificateAuthorityBundle(adding: "\(directory)/ca.pem")
        let contents = try String(contentsOfFile: bundle.path, encoding: .utf8)
        #expect(contents.hasSuffix(pem))
        if FileManager.default.fileExists(atPath: "/etc/ssl/certs/ca-certificates.crt") {
            #expect(contents.count > pem.count + 10_000, "the system's bundle comes first")
        }
        let options = RTMPConnection.protocolOptions(scheme: .rtmps, tls: .addingAuthority(path: "\(directory)/ca.pem"),
                                                     authorities: bundle)
        #expect(options.map { "\($0.key)=\($0.value)" } == ["protocol_whitelist=rtmps,tls,tcp", "tls_verify=1",
                                                             "ca_file=\(bundle.path)"])
        try "not a certificate".write(toFile: "\(directory)/bad.pem", atomically: true, encoding: .utf8)
        #expect(throws: InvalidSetting.self) { _ = try CertificateAuthorityBundle(adding: "\(directory)/bad.pem") }
        #expect(throws: InvalidSetting.self) { _ = try CertificateAuthorityBundle(adding: "\(directory)/missing.pem") }
    }

    // MARK: Helpers

    static let quietLibav: Void = av_log_set_level(AV_LOG_ERROR)

    /// Encodes 60 frames of a moving gradient; counts packets, frames found
    /// non-reference in the bitstream, and frames flagged disposable.
    static func encode(preset: VideoEncoderSettings.Preset, tune: VideoEncoderSettings.Tune?) throws
        -> (frames: Int, disposable: Int, flagged: Int)
    {
        let settings = try VideoEncoderSettings(width: 320, height: 240, preset: preset, tune: tune, threads: 1)
        let encoder = try VideoEncoder(settings: settings, inputWidth: 320, inputHeight: 240)
        var frames = 0, disposable = 0, flagged = 0
        let count: (borrowing Packet) -> Void = { packet in
            frames += 1
            if packet.isFlaggedDisposable { flagged += 1 }
            if H264NonReference.check(packet.pointer.pointee.data, count: Int(packet.pointer.pointee.size)) { disposable += 1 }
        }
        for index in 0..<60 {
            try encoder.encodeI420(frameIndex: Int64(index), fill: { planes in
                for y in 0..<planes.height {
                    for x in 0..<planes.width { planes.y[y * planes.strideY + x] = UInt8(truncatingIfNeeded: x + y + index * 5) }
                }
                for y in 0..<planes.height / 2 {
                    for x in 0..<planes.width / 2 {
                        planes.u[y * planes.strideU + x] = 128
                        planes.v[y * planes.strideV + x] = UInt8(truncatingIfNeeded: 100 + index)
                    }
                }
            }, emit: { packet in count(packet) })
        }
        try encoder.flush { packet in count(packet) }
        return (frames, disposable, flagged)
    }
}
