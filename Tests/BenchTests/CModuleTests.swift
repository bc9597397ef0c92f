import CALSA
import CFFmpeg
import CX11
import CYUV
import MediaCore
import MediaPackets
import Testing
import TestSupport

/// Each C module links, and a trivial call through it works.
@Suite(.tags(.bench)) struct CModuleTests {
    @Test func ffmpegFindsLibx264AndTheNativeAACEncoder() {
        let x264 = avcodec_find_encoder_by_name("libx264")
        #expect(x264 != nil, "libx264 encoder not found in libavcodec")
        let aac = avcodec_find_encoder_by_name("aac")
        #expect(aac != nil, "native AAC encoder not found in libavcodec")
        #expect(avformat_version() >> 16 >= 59)
        #expect(swscale_version() >> 16 >= 6)
        #expect(swresample_version() >> 16 >= 4)
    }

    @Test func ffmpegShimConstantsMatchLibav() {
        #expect(CFFMPEG_AVERROR_EAGAIN == -EAGAIN)
        #expect(cffmpeg_averror(ENOMEM) == -ENOMEM)
        #expect(CFFMPEG_AV_NOPTS_VALUE == Int64.min)
        let eof = AVError(code: CFFMPEG_AVERROR_EOF, operation: "avcodec_receive_packet")
        #expect(eof.description.contains("End of file"))
    }

    @Test func alsaReportsItsVersion() {
        let version = String(cString: snd_asoundlib_version())
        #expect(version.hasPrefix("1."))
        #expect(snd_pcm_format_physical_width(SND_PCM_FORMAT_S16_LE) == 16)
    }

    @Test func libyuvConvertsOnePixel() {
        // One 2x2 block of white BGRA becomes Y=235, U=V=128 (BT.601 limited range).
        var argb = [UInt8](repeating: 255, count: 16)
        var y = [UInt8](repeating: 0, count: 4), u: UInt8 = 0, v: UInt8 = 0
        let status = ARGBToI420(&argb, 8, &y, 2, &u, 1, &v, 1, 2, 2)
        #expect(status == 0)
        #expect(y.allSatisfy { $0 >= 234 }, "\(y)")
        #expect(abs(Int(u) - 128) <= 1 && abs(Int(v) - 128) <= 1)
    }

    @Test func xlibOpensTheBenchDisplayWithMITSHM() throws {
        let bench = try TestBench.current()
        guard let display = XOpenDisplay(bench.display) else {
            Issue.record("cannot open bench display \(bench.display)"); return
        }
        defer { XCloseDisplay(display) }
        #expect(XShmQueryExtension(display) != 0)
        #expect(XDisplayWidth(display, XDefaultScreen(display)) > 0)
    }
}
