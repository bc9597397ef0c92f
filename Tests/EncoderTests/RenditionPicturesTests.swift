import Encoder
import Foundation
import MediaCore
import MediaPackets
import Mux
import MediaTestSupport
import Testing
import TestSupport

/// One conversion feeding several renditions: the scaled pictures' colours
/// and bars, the counts, and "unchanged" staying unchanged.
@Suite struct RenditionPicturesTests {
    /// BT.601 limited-range YUV at (`x`, `y`) of `picture` as RGB.
    static func rgb(_ picture: I420Picture, x: Int, y: Int) -> (Int, Int, Int) {
        let planes = picture.planes
        let luma = Double(planes.y[y * planes.strideY + x]) - 16
        let u = Double(planes.u[(y / 2) * planes.strideU + x / 2]) - 128
        let v = Double(planes.v[(y / 2) * planes.strideV + x / 2]) - 128
        func clamp(_ value: Double) -> Int { Int(max(0, min(255, value.rounded()))) }
        return (clamp(1.164 * luma + 1.596 * v), clamp(1.164 * luma - 0.392 * u - 0.813 * v), clamp(1.164 * luma + 2.017 * u))
    }

    static func expectColour(_ picture: I420Picture, x: Int, y: Int, _ expected: (Int, Int, Int), _ name: String,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let got = rgb(picture, x: x, y: y)
        let close = abs(got.0 - expected.0) <= 12 && abs(got.1 - expected.1) <= 12 && abs(got.2 - expected.2) <= 12
        #expect(close, "\(picture.width)x\(picture.height) at \(x),\(y): \(got), expected \(name)", sourceLocation: sourceLocation)
    }

    @Test func scaledPicturesKeepTheQuadrantsWhereTheyBelongWithBarsWhenLetterboxed() throws {
        let counters = MediaCounters()
        let pictures = try RenditionPictures(captureWidth: 640, captureHeight: 360, counters: counters)
        let same = try pictures.picture(width: 640, height: 360, scaling: .letterbox)
        let half = try pictures.picture(width: 320, height: 180, scaling: .letterbox)
        let boxed = try pictures.picture(width: 320, height: 240, scaling: .letterbox)
        let stretched = try pictures.picture(width: 320, height: 240, scaling: .stretch)
        let pillared = try pictures.picture(width: 240, height: 240, scaling: .letterbox)
        #expect(same === pictures.capture, "the capture size encodes the converted picture itself")
        #expect(pictures.scaledCount == 4)

        let scene = TestScene(width: 640, height: 360)
        try pictures.update(from: scene.frame(0))
        #expect(pictures.takeChange())
        try pictures.refreshScaled()
        #expect(counters.videoFramesConverted.load() == 1, "one conversion for every rendition")
        #expect(counters.videoFramesScaled.load() == 4, "one scale per size")

        let red = (255, 0, 0), green = (0, 255, 0), blue = (0, 0, 255), white = (255, 255, 255), black = (0, 0, 0)
        for picture in [same, half, stretched] {
            let (w, h) = (picture.width, picture.height)
            Self.expectColour(picture, x: w / 4, y: h * 3 / 8, red, "red")
            Self.expectColour(picture, x: 3 * w / 4, y: h * 3 / 8, green, "green")
            Self.expectColour(picture, x: w / 4, y: 3 * h / 4, blue, "blue")
            Self.expectColour(picture, x: 3 * w / 4, y: 3 * h / 4, white, "white")
        }
        // 640x360 in 320x240: 320x180 at y 30, black above and below.
        #expect(PictureScaling.letterbox.placement(sourceWidth: 640, sourceHeight: 360, width: 320, height: 240)
                == (0, 30, 320, 180))
        Self.expectColour(boxed, x: 160, y: 10, black, "the bar above")
        Self.expectColour(boxed, x: 160, y: 230, black, "the bar below")
        Self.expectColour(boxed, x: 80, y: 30 + 70, red, "red")
        Self.expectColour(boxed, x: 240, y: 30 + 70, green, "green")
        Self.expectColour(boxed, x: 80, y: 30 + 135, blue, "blue")
        Self.expectColour(boxed, x: 240, y: 30 + 135, white, "white")
        // 640x360 in 240x240: 240x134 (even) at y 52.
        let place = PictureScaling.letterbox.placement(sourceWidth: 640, sourceHeight: 360, width: 240, height: 240)
        #expect(place == (0, 52, 240, 134), "\(place)")
        Self.expectColour(pillared, x: 120, y: 20, black, "the bar above")
        Self.expectColour(pillared, x: 60, y: 52 + 50, red, "red")
        // A taller source in a wider picture gets bars left and right.
        #expect(PictureScaling.letterbox.placement(sourceWidth: 1080, sourceHeight: 1920, width: 1280, height: 720)
                == (438, 0, 404, 720))

        // A frame that brings nothing changes nothing and scales nothing.
        try pictures.update(from: scene.unchangedFrame(1))
        #expect(!pictures.takeChange())
        try pictures.refreshScaled()
        #expect(counters.videoFramesConverted.load() == 1 && counters.videoFramesScaled.load() == 4)
    }

    @Test func twoRenditionsFromOnePictureEncodeOnlyWhatChanged() throws {
        TestMedia.quietLibav
        let counters = MediaCounters()
        let pictures = try RenditionPictures(captureWidth: 640, captureHeight: 360, counters: counters)
        let full = try VideoEncoder(settings: VideoEncoderSettings(width: 640, height: 360, fps: 30, threads: 1),
                                    picture: pictures.capture, counters: counters)
        let small = try VideoEncoder(settings: VideoEncoderSettings(width: 320, height: 180, fps: 30, preset: .veryfast,
                                                                    tune: .zerolatency, crf: nil, maxrate: 500_000,
                                                                    threads: 1),
                                     picture: pictures.picture(width: 320, height: 180, scaling: .letterbox),
                                     counters: counters)
        let scene = TestScene(width: 640, height: 360)
        var packets = [0, 0]
        for index in 0..<30 {
            // Every other frame brings nothing (a still screen between changes).
            if index % 2 == 0 {
                try pictures.update(from: scene.frame(index))
            } else {
                try pictures.update(from: scene.unchangedFrame(index))
            }
            let changed = pictures.takeChange()
            if changed { try pictures.refreshScaled() }
            try full.encodePicture(frameIndex: Int64(index), changed: changed) { _ in packets[0] += 1 }
            try small.encodePicture(frameIndex: Int64(index), changed: changed) { _ in packets[1] += 1 }
        }
        try full.flush { _ in packets[0] += 1 }
        try small.flush { _ in packets[1] += 1 }
        #expect(packets == [30, 30])
        #expect(counters.videoFramesConverted.load() == 15, "one conversion per changed frame, not per rendition")
        #expect(counters.videoFramesScaled.load() == 15)
        #expect(counters.videoSkipPictures.load() == 30, "each rendition skips each unchanged frame")
    }
}
