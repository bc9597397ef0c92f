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

    /// Opens `name` for capture. The open itself does not block: a `hw:`
    /// device another process holds would otherwise make it wait until that
    /// process lets go; here it fails at once with `-EBUSY`. Reads then block
    /// (the capture thread waits in `snd_pcm_readi`; nothing else does).
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
        let blocking = snd_pcm_nonblock(handle, 0)
        if blocking < 0 {
            snd_pcm_close(handle)
            throw ALSAError(code: blocking, operation: "snd_pcm_nonblock", device: name, context: .open)
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
