import ArgumentParser

/// The peer: the `ffmpeg` commands Jibri runs to record or stream a meeting
/// (its current defaults, jitsi/jibri `reference.conf`), made for a display,
/// a PCM and a length.
enum JibriFFmpeg {
    /// Which of Jibri's two lists.
    enum List: String, ExpressibleByArgument, CaseIterable {
        case recording, streaming
    }

    /// Jibri's recording command: x11grab + ALSA, `aresample=async=1`,
    /// libx264 ultrafast crf 25 main profile, AAC 128k at 44.1 kHz, MP4.
    ///
    /// Kept verbatim, `-level 3.1` included (too low for 1080p30; x264 only
    /// signals it, it changes no work at ultrafast). Added: `-nostdin`, so a
    /// benchmark's terminal is left alone, and `-t`, which ends the recording
    /// where Jibri would send `q`.
    static func recording(display: String, width: Int, height: Int, audioDevice: String, seconds: Double,
                          output: String, fps: Int = 30) -> [String] {
        inputs(display: display, width: width, height: height, audioDevice: audioDevice, fps: fps)
            + ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "\(fps)", "-crf", "25", "-preset", "ultrafast",
               "-profile:v", "main", "-level", "3.1", "-timestamp", "now", "-t", String(format: "%.3f", seconds),
               "-f", "mp4", output]
    }

    /// Jibri's streaming command: the same inputs and sound, libx264
    /// veryfast zerolatency crf 25 capped at 2976k (5952k buffer), a keyframe
    /// every 60 frames, FLV to `url`. With `-nostdin` and `-t` as above.
    static func streaming(display: String, width: Int, height: Int, audioDevice: String, seconds: Double,
                          url: String, fps: Int = 30) -> [String] {
        inputs(display: display, width: width, height: height, audioDevice: audioDevice, fps: fps)
            + ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "\(fps)", "-crf", "25", "-preset", "veryfast",
               "-tune", "zerolatency", "-g", "60", "-maxrate", "2976k", "-bufsize", "5952k", "-timestamp", "now",
               "-t", String(format: "%.3f", seconds), "-f", "flv", url]
    }

    /// What both commands start with, as Jibri writes them: the display,
    /// the ALSA PCM and the sound's encoding.
    private static func inputs(display: String, width: Int, height: Int, audioDevice: String, fps: Int) -> [String] {
        ["ffmpeg", "-nostdin", "-y", "-v", "info", "-f", "x11grab", "-draw_mouse", "0", "-r", "\(fps)",
         "-s", "\(width)x\(height)", "-thread_queue_size", "4096", "-i", "\(display)+0,0",
         "-f", "alsa", "-thread_queue_size", "4096", "-i", audioDevice,
         "-acodec", "aac", "-strict", "-2", "-ar", "44100", "-b:a", "128k", "-af", "aresample=async=1"]
    }
}
