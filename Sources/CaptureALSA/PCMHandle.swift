import CALSA

/// The one owner of an open `snd_pcm_t`: it opens the PCM and closes it exactly
/// once, in `deinit`. A class rather than a `~Copyable` struct because two
/// owners-by-reference need it alive (`PCMCapture` and its capture thread's
/// closure); whichever lets go last closes it, after the thread is joined.
final class PCMHandle: @unchecked Sendable {
    /// The open PCM; valid for this object's whole life.
    let pcm: OpaquePointer
    /// The name it was opened by, for error messages.
    let name: String

    /// Opens `name` for capture, non-blocking: a `hw:` device another process
    /// holds would otherwise make the open wait until that process lets go
    /// (here it fails at once with `-EBUSY`), and a read must never wait
    /// either: the capture thread waits in `snd_pcm_wait` with a timeout and
    /// reads what is there. Measured on the bench: with a blocking read, a
    /// SIGSTOPped sound server holds `snd_pcm_readi` on the `pulse` plugin
    /// for as long as it is stopped (3 s of nothing, no timeout), where a
    /// non-blocking read returns `-EAGAIN` and `snd_pcm_wait` times out every
    /// 100 ms as it should.
    init(captureDevice name: String) throws(ALSAError) {
        // alsa-lib would also print each error to stderr; errors here are values,
        // reported once by whoever catches them, and its own lines go to the
        // session's logger at debug level.
        ALSALibraryLog.install()
        var handleOrNil: OpaquePointer?
        let status = snd_pcm_open(&handleOrNil, name, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK)
        guard status >= 0, let handle = handleOrNil else {
            throw ALSAError(code: status < 0 ? status : -ENODEV, operation: "snd_pcm_open", device: name, context: .open)
        }
        pcm = handle
        self.name = name
    }

    deinit {
        snd_pcm_close(pcm)
    }

    /// An error for a failed call on this PCM.
    @inline(never)
    func error(_ code: Int32, _ operation: StaticString, _ context: ALSAError.Context) -> ALSAError {
        ALSAError(code: code, operation: operation, device: name, context: context)
    }
}
