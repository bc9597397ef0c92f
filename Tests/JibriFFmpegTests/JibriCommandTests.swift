import JibriDropIn
import RecorderEngine
import Testing

/// Jibri's argument lists read into a session configuration, and what is
/// refused; nothing is opened.
@Suite struct JibriCommandTests {
    @Test func todaysRecordingListMapsToTheEngine() throws {
        let command = try JibriCommand(arguments: JibriArguments.recording(display: ":0", pcm: "plug:bsnoop",
                                                                           output: "/srv/recordings/abc/meeting.mp4"))
        let configuration = command.configuration
        #expect(configuration.capture.display == ":0.0")
        #expect(configuration.capture.region == CaptureRegion(width: 1920, height: 1080, x: 0, y: 0))
        #expect(configuration.capture.framesPerSecond == 30)
        #expect(!configuration.capture.drawsCursor, "Jibri's -draw_mouse 0")
        #expect(configuration.audio?.device == "plug:bsnoop")
        #expect(configuration.audioEncoding == (try AudioEncoderSettings(sampleRate: 44_100, channels: 2, bitrate: 128_000)))
        let video = configuration.video
        #expect(video.preset == .ultrafast && video.profile == .main && video.crf == 25 && video.tune == nil)
        #expect(video.gop == 250, "no -g: x264's keyframe interval, as ffmpeg leaves it")
        #expect(video.maxrate == nil && video.bufsize == nil && video.bitrate == nil && video.threads == 0)
        #expect(configuration.output == FileOutput(path: "/srv/recordings/abc/meeting.mp4", overwrite: true))
        #expect(configuration.streams.isEmpty && configuration.duration == nil)
        #expect(configuration.statisticsInterval == .milliseconds(500))
        #expect(command.requestedLevel == 31 && command.logLevel == .info && command.printsProgress && !command.isStream)
    }

    @Test func todaysStreamingListMapsToTheEngine() throws {
        let url = "rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl"
        let command = try JibriCommand(arguments: JibriArguments.streaming(display: ":0", pcm: "plug:bsnoop", url: url))
        let video = command.configuration.video
        #expect(video.preset == .veryfast && video.tune == .zerolatency && video.gop == 60 && video.crf == 25)
        #expect(video.maxrate == 2_976_000 && video.bufsize == 5_952_000)
        #expect(video.profile == .high, "no -profile:v: libx264's default, High")
        #expect(command.configuration.output == nil)
        #expect(command.configuration.streams == [StreamOutput(url: url)])
        #expect(command.isStream && command.requestedLevel == nil)
    }

    @Test func olderListsMapToo() throws {
        let old = try JibriCommand(arguments: JibriArguments.streaming2018(display: ":0", pcm: "hw:0,1,0", url: "rtmp://h/live/k"))
        #expect(old.configuration.capture.region?.width == 1280)
        #expect(old.configuration.audioEncoding.bitrate == 128_000, "no -b:a: 128k")
        #expect(old.configuration.audio?.device == "hw:0,1,0")
        let recording = try JibriCommand(arguments: JibriArguments.recording2023(display: ":0", pcm: "plug:bsnoop", output: "/r/x.mp4"))
        #expect(recording.configuration.video.tune == .zerolatency && recording.configuration.video.gop == 60)
        #expect(recording.configuration.video.preset == .veryfast && recording.requestedLevel == 31)
    }

    @Test func operatorsVariantsMap() throws {
        // Bit rate instead of CRF, 720p by abbreviation, the demuxer options'
        // own names, a pulse source, quiet logging with -stats, a length.
        let command = try JibriCommand(arguments: [
            "-nostdin", "-hide_banner", "-loglevel", "repeat+warning", "-stats", "-f", "x11grab", "-framerate", "25",
            "-video_size", "hd720", "-i", ":1+100,50", "-f", "pulse", "-ac", "1", "-i", "jibri.monitor",
            "-c:a", "aac", "-ab", "96k", "-ac", "1", "-ar", "48000", "-vcodec", "libx264", "-b:v", "2500k",
            "-maxrate", "2500k", "-bufsize", "5M", "-preset", "faster", "-profile:v", "baseline", "-level", "4",
            "-g", "50", "-threads", "2", "-t", "00:01:30.5", "-movflags", "+faststart", "out.mp4",
        ])
        let configuration = command.configuration
        #expect(configuration.capture.display == ":1" && configuration.capture.framesPerSecond == 25)
        #expect(configuration.capture.region == CaptureRegion(width: 1280, height: 720, x: 100, y: 50))
        #expect(configuration.audio?.device == "pulse:jibri.monitor" && configuration.audio?.channels == 1)
        #expect(configuration.audioEncoding == (try AudioEncoderSettings(sampleRate: 48_000, channels: 1, bitrate: 96_000)))
        let video = configuration.video
        #expect(video.crf == nil && video.bitrate == 2_500_000 && video.maxrate == 2_500_000 && video.bufsize == 5_000_000)
        #expect(video.preset == .faster && video.profile == .baseline && video.gop == 50 && video.threads == 2)
        #expect(configuration.duration == .milliseconds(90_500))
        #expect(configuration.output == FileOutput(path: "out.mp4", overwrite: false), "no -y: an existing file is refused")
        #expect(command.logLevel == .warning && command.printsProgress && command.requestedLevel == 40)
    }

    /// What operators add to Jibri's lists for streaming platforms and sync
    /// (docker-jitsi-meet#1630/#2284, jibri#162 and #560, start-ffmpeg.sh):
    /// keyframe rules, x264's own parameters, ffmpeg's sync options.
    @Test func operatorsKeyframeX264AndSyncOptionsMap() throws {
        let command = try JibriCommand(arguments: ["-y", "-v", "info", "-async", "1", "-vsync", "1",
            "-f", "x11grab", "-draw_mouse", "0", "-r", "30", "-s", "1280x720", "-i", ":0.0+0,0",
            "-f", "alsa", "-i", "plug:bsnoop", "-acodec", "aac", "-ar", "44100", "-b:a", "128k",
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "60", "-keyint_min", "30",
            "-sc_threshold", "0", "-x264-params", "keyint=90:min_keyint=90:nal-hrd=cbr:ref=2:rc-lookahead=10",
            "-b:v", "3000k", "-maxrate", "3000k", "-bufsize", "6000k", "-fps_mode", "cfr", "-pix_fmt", "yuv420p",
            "-f", "flv", "rtmp://a.rtmp.youtube.com/live2/key"])
        let video = command.configuration.video
        #expect(video.gop == 90 && video.x264.keyframeMinimum == 90 && video.x264.sceneCut == 0,
                "-x264-params comes after -g and -keyint_min and wins, as in libx264: \(video.gop) \(video.x264)")
        #expect(video.x264.parameters.map { "\($0.name)=\($0.value)" } == ["nal-hrd=cbr", "ref=2", "rc-lookahead=10"])
        #expect(video.bitrate == 3_000_000 && video.maxrate == 3_000_000 && video.bufsize == 6_000_000)
        // x264opts: a name alone is name=1; the engine's settings by x264's names.
        let opts = try JibriCommand(arguments: ["-f", "x11grab", "-i", ":0", "-sc_threshold", "-1", "-x264opts",
                                                "no-scenecut:crf=20:vbv-maxrate=2500:vbv-bufsize=5000:threads=auto:level=4.1",
                                                "-fps_mode:v", "auto", "o.mp4"]).configuration.video
        #expect(opts.x264.sceneCut == 0 && opts.crf == 20 && opts.maxrate == 2_500_000 && opts.bufsize == 5_000_000)
        #expect(opts.threads == 0 && opts.x264.parameters.isEmpty)
        let negative = try JibriCommand(arguments: ["-f", "x11grab", "-i", ":0", "-sc_threshold", "-1", "o.mp4"])
        #expect(negative.configuration.video.x264.sceneCut == nil, "a negative threshold leaves x264's, as libx264's wrapper")
    }

    @Test func logLevelDecidesProgressAsFFmpegDoes() throws {
        let tail = ["-f", "x11grab", "-i", ":0", "-f", "mp4", "/tmp/x.mp4"]
        #expect(try JibriCommand(arguments: ["-v", "error"] + tail).printsProgress == false)
        #expect(try JibriCommand(arguments: ["-v", "error", "-stats"] + tail).printsProgress == true)
        #expect(try JibriCommand(arguments: ["-nostats"] + tail).printsProgress == false)
        #expect(try JibriCommand(arguments: ["-v", "32"] + tail).logLevel == .info)
        let whole = try JibriCommand(arguments: tail)
        #expect(whole.configuration.capture.region == nil, "no -s: the whole screen, as x11grab")
        #expect(whole.configuration.capture.drawsCursor, "no -draw_mouse: the pointer is drawn, as x11grab's default")
        #expect(try JibriCommand(arguments: ["-f", "x11grab", "-draw_mouse", "1"] + tail.dropFirst(2)).configuration.capture.drawsCursor)
        #expect(whole.configuration.audio == nil)
        #expect(whole.configuration.video.preset == .medium && whole.configuration.video.crf == nil)
        #expect(try JibriCommand(arguments: ["-f", "x11grab", "-i", ":0", "-f", "alsa", "-i", "x", "-an", "o.mp4"]).configuration.audio
                == nil)
    }

    @Test func levelNoteSaysWhenTheLevelIsRaised() throws {
        let command = try JibriCommand(arguments: JibriArguments.recording(display: ":0", pcm: "p", output: "/r/m.mp4"))
        let level1080 = try H264Level.minimum(width: 1920, height: 1080, fps: 30)
        let level720 = try H264Level.minimum(width: 1280, height: 720, fps: 30)
        let level480 = try H264Level.minimum(width: 720, height: 480, fps: 30)
        #expect(command.levelNote(chosen: level1080, width: 1920, height: 1080, framesPerSecond: 30)
                == "-level 3.1 is too low for 1920x1080 at 30 fps (ITU-T H.264 table A-1); the stream signals level 4.0")
        #expect(command.levelNote(chosen: level720, width: 1280, height: 720, framesPerSecond: 30) == nil)
        #expect(command.levelNote(chosen: level480, width: 720, height: 480, framesPerSecond: 30)?.hasPrefix("-level 3.1 asked") == true)
    }

    /// Each refusal: the FFmpegArgumentError's one line names the option or value.
    @Test(arguments: [
        (["-vf", "scale=640:360"], "invalid option '-vf'"),
        (["-crf", "abc"], "invalid -crf 'abc'"),
        (["-crf", "23.5"], "invalid -crf '23.5'"),
        (["-r", "29.97"], "invalid -r '29.97'"),
        (["-c:v", "libx265"], "invalid -c:v 'libx265'"),
        (["-acodec", "libmp3lame"], "invalid -acodec 'libmp3lame'"),
        (["-pix_fmt", "yuv444p"], "invalid -pix_fmt 'yuv444p'"),
        (["-af", "volume=2"], "invalid -af 'volume=2'"),
        (["-preset", "turbo"], "invalid -preset 'turbo'"),
        (["-profile:v", "high10"], "invalid -profile:v 'high10'"),
        (["-level", "3.3"], "invalid -level '3.3'"),
        (["-b:a", "lots"], "invalid -b:a 'lots'"),
        (["-ar", "12345"], "invalid -ar '12345'"),
        (["-timestamp", "2020-01-01"], "invalid -timestamp '2020-01-01'"),
        (["-movflags", "+frag_keyframe"], "invalid -movflags '+frag_keyframe'"),
        (["-draw_mouse", "0"], "invalid option '-draw_mouse': does not apply to the output"),
        (["-x264-params", "keyint=60:open-gop=1"], "invalid -x264-params 'keyint=60:open-gop=1': open-gop=1: not taken"),
        (["-x264-params", "fps=25"], "invalid -x264-params 'fps=25': fps=25: not taken"),
        (["-x264-params", "nosuch=1"], "invalid -x264-params 'nosuch=1': nosuch=1: x264 has no parameter"),
        (["-x264-params", "scenecut"], "invalid -x264-params 'scenecut': 'scenecut' has no value"),
        (["-x264-params", "keyint=infinite"], "invalid -x264-params 'keyint=infinite'"),
        (["-x264opts", "bframes=many"], "invalid -x264opts 'bframes=many': bframes=many: x264 refuses that value"),
        (["-sc_threshold", "500"], "invalid -sc_threshold '500'"),
        (["-keyint_min", "-3"], "invalid -keyint_min '-3'"),
        (["-fps_mode", "vfr"], "invalid -fps_mode 'vfr': the engine writes a constant frame rate"),
        (["-fps_mode", "passthrough"], "invalid -fps_mode 'passthrough'"),
        (["-c:a", "libmp3lame"], "invalid -c:a 'libmp3lame': the engine encodes sound with AAC only"),
    ])
    func outputOptionsAreRefusedByName(extra: [String], message: String) {
        let arguments = ["-f", "x11grab", "-s", "1280x720", "-i", ":0.0+0,0"] + extra + ["-f", "mp4", "/tmp/out.mp4"]
        #expect(refusal(arguments).hasPrefix(message), "\(refusal(arguments))")
    }

    @Test(arguments: [
        (["-f", "x11grab", "-i", ":0.0", "-f", "mp4"], "invalid output '': no output file or stream URL given"),
        (["-f", "x11grab", "-i", ":0.0", "a.mp4", "-y", "-crf", "20"], "invalid option '-crf': comes after the last file"),
        (["-f", "x11grab", "-i", ":0.0"], "invalid output '': no output file or stream URL given"),
        (["-f", "x11grab", "-i", ":0.0", "a.mp4", "b.mp4"], "invalid output 'a.mp4 b.mp4': jibri-ffmpeg writes one output"),
        (["-f", "alsa", "-i", "default", "a.mp4"], "invalid -i '': no x11grab input"),
        (["-f", "avfoundation", "-i", "0:0", "a.mp4"], "invalid -f 'avfoundation'"),
        (["-f", "x11grab", "-draw_mouse", "2", "-i", ":0", "a.mp4"], "invalid -draw_mouse '2': expected 0 or 1"),
        (["-f", "x11grab", "-s", "1921x1080", "-i", ":0", "a.mp4"], "invalid -s '1921x1080'"),
        (["-f", "x11grab", "-i", ":0+10,10", "a.mp4"], "invalid -i ':0+10,10': an offset needs the size"),
        (["-f", "x11grab", "-i", "screen", "a.mp4"], "invalid -i 'screen'"),
        (["-f", "x11grab", "-i", ":0", "-f", "flv", "a.flv"], "invalid -f 'flv': FLV goes to rtmp://"),
        (["-f", "x11grab", "-i", ":0", "-f", "mp4", "rtmp://h/live/key"], "invalid -f 'mp4'"),
        (["-f", "x11grab", "-i", ":0", "a.mkv"], "invalid output 'a.mkv': cannot tell the format"),
        (["-f", "x11grab", "-i", ":0", "-"], "invalid output '-'"),
        (["-f", "x11grab", "-i", ":0", "-t", "-5", "a.mp4"], "invalid -t '-5'"),
        (["-v", "chatty", "-f", "x11grab", "-i", ":0", "a.mp4"], "invalid -v 'chatty'"),
        (["-y", "-n", "-f", "x11grab", "-i", ":0", "a.mp4"], "invalid option '-n': contradicts -y"),
        (["-f", "x11grab", "-i"], "invalid -i '': needs an input"),
        (["-f", "x11grab", "-i", ":0", "-crf"], "invalid -crf '': needs a value"),
        (["-i", ":0", "a.mp4"], "invalid -i ':0': needs -f before it"),
        (["-vsync", "vfr", "-f", "x11grab", "-i", ":0", "a.mp4"], "invalid -vsync 'vfr': the engine writes a constant frame rate"),
        (["-vsync", "2", "-f", "x11grab", "-i", ":0", "a.mp4"], "invalid -vsync '2'"),
        (["-async", "x", "-f", "x11grab", "-i", ":0", "a.mp4"], "invalid -async 'x'"),
        (["-f", "x11grab", "-i", ":0", "-f", "matroska", "a.mkv"], "invalid -f 'matroska': the engine writes MP4 files and FLV streams"),
    ])
    func commandLinesAreRefusedByName(arguments: [String], message: String) {
        #expect(refusal(arguments).hasPrefix(message), "\(refusal(arguments))")
    }

    private func refusal(_ arguments: [String]) -> String {
        do {
            _ = try JibriCommand(arguments: arguments)
            return "accepted"
        } catch {
            #expect(!"\(error)".contains("\n"))
            return "\(error)"
        }
    }
}
