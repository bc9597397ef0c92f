/// Jibri's ffmpeg argument lists, as its source builds them, with the bench's
/// display and PCM in place of `:0.0` and `plug:bsnoop`. Each list is what
/// Jibri passes after the binary's name.
enum JibriArguments {
    /// Today's recording list (`reference.conf`, `command-linux-recording`,
    /// since 2025): ultrafast, no `-g`, `-profile:v main -level 3.1`.
    static func recording(display: String, pcm: String, size: String = "1920x1080", output: String) -> [String] {
        ["-y", "-v", "info", "-f", "x11grab", "-draw_mouse", "0", "-r", "30", "-s", size, "-thread_queue_size", "4096",
         "-i", "\(display).0+0,0", "-f", "alsa", "-thread_queue_size", "4096", "-i", pcm,
         "-acodec", "aac", "-strict", "-2", "-ar", "44100", "-b:a", "128k", "-af", "aresample=async=1",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "30", "-crf", "25", "-preset", "ultrafast",
         "-profile:v", "main", "-level", "3.1", "-timestamp", "now", "-f", "mp4", output]
    }

    /// Today's streaming list (`command-linux-streaming`): veryfast
    /// zerolatency, a keyframe every 60 frames, VBV 2976k/5952k, FLV.
    static func streaming(display: String, pcm: String, size: String = "1920x1080", url: String) -> [String] {
        ["-y", "-v", "info", "-f", "x11grab", "-draw_mouse", "0", "-r", "30", "-s", size, "-thread_queue_size", "4096",
         "-i", "\(display).0+0,0", "-f", "alsa", "-thread_queue_size", "4096", "-i", pcm,
         "-acodec", "aac", "-strict", "-2", "-ar", "44100", "-b:a", "128k", "-af", "aresample=async=1",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "30", "-crf", "25", "-preset", "veryfast",
         "-tune", "zerolatency", "-g", "60", "-maxrate", "2976k", "-bufsize", "5952k", "-timestamp", "now", "-f", "flv", url]
    }

    /// Jibri 8.0 (2018, `Commands.kt` as first written) streaming at its
    /// then 1280x720: no audio bit rate, no filter, the sink's VBV options
    /// after the preset, `-tune zerolatency` and `-g 60` for every output.
    static func streaming2018(display: String, pcm: String, url: String) -> [String] {
        ["-y", "-v", "info", "-f", "x11grab", "-draw_mouse", "0", "-r", "30", "-s", "1280x720", "-thread_queue_size", "4096",
         "-i", "\(display).0+0,0", "-f", "alsa", "-thread_queue_size", "4096", "-i", pcm,
         "-acodec", "aac", "-strict", "-2", "-ar", "44100",
         "-c:v", "libx264", "-preset", "veryfast", "-maxrate", "2976k", "-bufsize", "5952k",
         "-pix_fmt", "yuv420p", "-r", "30", "-crf", "25", "-g", "60", "-tune", "zerolatency", "-f", "flv", url]
    }

    /// Jibri 2021-2025 (`Commands.kt` after #385 and #527) recording: the
    /// file sink's `-profile:v main -level 3.1` after the preset, `-b:a 128k
    /// -af aresample=async=1`, `-tune zerolatency -g 60`, `-timestamp now`.
    static func recording2023(display: String, pcm: String, size: String = "1280x720", output: String) -> [String] {
        ["-y", "-v", "info", "-f", "x11grab", "-draw_mouse", "0", "-r", "30", "-s", size, "-thread_queue_size", "4096",
         "-i", "\(display).0+0,0", "-f", "alsa", "-thread_queue_size", "4096", "-i", pcm,
         "-acodec", "aac", "-strict", "-2", "-ar", "44100", "-b:a", "128k", "-af", "aresample=async=1",
         "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-level", "3.1",
         "-pix_fmt", "yuv420p", "-r", "30", "-crf", "25", "-g", "60", "-tune", "zerolatency",
         "-timestamp", "now", "-f", "mp4", output]
    }
}
