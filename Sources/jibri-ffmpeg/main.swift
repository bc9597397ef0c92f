import JibriDropIn

#if canImport(Glibc)
import Glibc
#endif

/// `jibri-ffmpeg`: takes the ffmpeg command lines Jibri runs and records
/// with the engine instead, printing what Jibri's output parser reads.
/// docs/JIBRI.md has the one line of Jibri configuration and what it changes.

/// Bad input: one line naming the value (stream keys redacted), exit 2,
/// nothing opened or written. After the console took over stderr, it gives
/// it back first, so the line is the last one printed.
func refuse(_ message: String, console: JibriConsole? = nil) -> Never {
    console?.finish()
    let line = "jibri-ffmpeg: \(message)\n"
    _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
    exit(2)
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.isEmpty { refuse("no arguments: give an ffmpeg command line as Jibri does (-h shows the form)") }
if ["-h", "-help", "--help", "-version"].contains(arguments[0]) {
    print("""
        usage: jibri-ffmpeg [ffmpeg options] -f x11grab ... -i :0.0+0,0 [-f alsa ... -i PCM] [output options] OUTPUT
        Records with swift-display-capture's engine, taking the ffmpeg command lines Jibri builds
        (jibri.ffmpeg.ffmpeg-binary). OUTPUT is an MP4 file or an rtmp:// or rtmps:// URL. See docs/JIBRI.md.
        """)
    exit(0)
}

let command: JibriCommand
do {
    command = try JibriCommand(arguments: arguments)
} catch {
    refuse(JibriCommand.describe(error))
}

// A write to a connection the server closed must fail with EPIPE, not kill
// the recorder (libavformat sends with MSG_NOSIGNAL; this covers the rest).
signal(SIGPIPE, SIG_IGN)
// From here on the libraries may print: the console keeps their lines from
// looking like what Jibri acts on.
let console = JibriConsole()
let run: JibriRun
do {
    // The session opens the display and the PCM; a refusal is still bad input.
    run = try JibriRun(command: command, console: console)
} catch {
    refuse(JibriCommand.describe(error), console: console)
}
exit(await run.execute())
