import JibriDropIn
import Testing
import TestSupport

/// The lines Jibri reads, checked against Jibri's rules (TestSupport's copy,
/// written from its source) and against ffmpeg's own formatting.
@Suite struct JibriLineTests {
    @Test func progressLinesAreFormattedAsFFmpegFormatsThem() {
        // ffmpeg 5.1 printed these for the same figures (print_report's formats).
        #expect(ProgressLine(frames: 0, bytes: 0, mediaSeconds: 0, elapsedSeconds: 0).text
                == "frame=    0 fps=0.0 q=-1.0 size=       0kB time=00:00:00.00 bitrate=N/A speed=N/A")
        #expect(ProgressLine(frames: 95, bytes: 598_016, mediaSeconds: 3.6, elapsedSeconds: 3.06).text
                == "frame=   95 fps= 31 q=-1.0 size=     584kB time=00:00:03.60 bitrate=1328.9kbits/s speed=1.18x")
        #expect(ProgressLine(frames: 108_000, bytes: 1_100_000_000, mediaSeconds: 3600.5, elapsedSeconds: 3600.5,
                             duplicated: 3, dropped: 1).text
                == "frame=108000 fps= 30 q=-1.0 size= 1074219kB time=01:00:00.50 bitrate=2444.1kbits/s dup=3 drop=1 speed=   1x")
        #expect(ProgressLine(frames: 12, bytes: 2048, mediaSeconds: 0.4, elapsedSeconds: 1.5).text
                == "frame=   12 fps=8.0 q=-1.0 size=       2kB time=00:00:00.40 bitrate=  41.0kbits/s speed=0.267x")
        // Counts past 2^32 print whole (a 32-bit %d wrapped them).
        #expect(ProgressLine(frames: 4_294_967_396, bytes: 6_000_000_000_000, mediaSeconds: 143_165_580,
                             elapsedSeconds: 143_165_580).text
                == "frame=4294967396 fps= 30 q=-1.0 size=5859375000kB time=39768:13:00.00 bitrate= 335.3kbits/s speed=   1x")
    }

    @Test func progressLinesAreJibrisEncodingLines() {
        for line in [ProgressLine(frames: 0, bytes: 0, mediaSeconds: 0, elapsedSeconds: 0),
                     ProgressLine(frames: 300, bytes: 1_000_000, mediaSeconds: 10, elapsedSeconds: 10, duplicated: 1, dropped: 2)] {
            #expect(JibriOutputParser.classify(line.text) == .encoding, "\(line.text)")
        }
        // Jibri's own example line (OutputParserTest.kt), as a check of the copy.
        #expect(JibriOutputParser.classify(
            "frame=   95 fps= 31 q=27.0 size=     584kB time=00:00:03.60 bitrate=1329.4kbits/s speed=1.19x") == .encoding)
    }

    @Test func finalLinesAreWhatJibriActsOn() {
        #expect(JibriOutputParser.classify(JibriLine.finished(signal: 2)) == .finished)
        #expect(JibriLine.finished(signal: 2) == "Exiting normally, received signal 2.")
        #expect(JibriOutputParser.classify(JibriLine.finished(signal: 15)) == .error(.unexpectedSignal))
        #expect(JibriOutputParser.classify(JibriLine.badURL("rtmp://a.rtmp.youtube.com/live2/***")) == .error(.badRtmpUrl))
    }

    @Test(arguments: [
        "frame=1 fps=2",
        "Exiting normally, received signal 2.",
        "rtmp://127.0.0.1:1935/live/***: Input/output error",
        "[flv @ 0x5581] av_interleaved_write_frame(): Broken pipe",
        "key=value",
        "  a = b   c=d ",
        "[tcp @ 0x55d0] Connection to tcp://127.0.0.1:1935 failed: Connection refused",
        "jibri-ffmpeg: stream rtmp://h/live/***: disconnected (av_write_frame: Broken pipe (-32)); reconnecting",
    ])
    func neutralizedLinesAreUnknownToJibri(line: String) {
        let neutral = JibriLine.neutralized(line)
        #expect(JibriOutputParser.classify(neutral) == .unknown, "\(neutral)")
        #expect(!JibriLine.isSignificant(neutral))
        if JibriOutputParser.classify(line) == .unknown { #expect(neutral == line, "unknown lines pass unchanged") }
    }

    @Test func theGuardAgreesWithTheOracle() {
        for line in ["frame=  5 fps=0.0", "Exiting at signal 9", "rtmp://x Input/output error", "x Broken pipe y",
                     "plain words", "a=b c", "Exiting", ""] {
            #expect(JibriLine.isSignificant(line) == (JibriOutputParser.classify(line) != .unknown), "\(line)")
        }
    }
}
