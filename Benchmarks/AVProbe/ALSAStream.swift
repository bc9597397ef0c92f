import CALSA
import Foundation
import MediaCore

/// One open ALSA PCM, interleaved signed 16-bit, for the sync probe's own
/// playback (the beeps) and its pure capture (the calibration). Deliberately
/// independent of the engine's `CaptureALSA`: the probe must not share the
/// code it measures. Opened once, closed once in `deinit`; used by one
/// thread at a time.
package final class ALSAStream: @unchecked Sendable {
    package let name: String
    package let sampleRate: Int
    package let channels: Int
    private let pcm: OpaquePointer

    /// Opens `name` for playback or capture with about `latency` seconds of
    /// buffer. A `nonBlocking` capture is started at once and read with
    /// `readWaiting` (a probe whose sound server may be frozen or killed).
    package init(name: String, capture: Bool, sampleRate: Int = 48_000, channels: Int = 2, latency: Double = 0.1,
                 nonBlocking: Bool = false) throws {
        calsa_route_library_errors()
        var handle: OpaquePointer?
        var status = snd_pcm_open(&handle, name, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK,
                                  nonBlocking ? SND_PCM_NONBLOCK : 0)
        guard status >= 0, let handle else { throw Self.failure(status, "snd_pcm_open", name) }
        status = snd_pcm_set_params(handle, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, UInt32(channels),
                                    UInt32(sampleRate), 1, UInt32(latency * 1e6))
        guard status >= 0 else {
            snd_pcm_close(handle)
            throw Self.failure(status, "snd_pcm_set_params", name)
        }
        if capture && nonBlocking {
            status = snd_pcm_start(handle)
            guard status >= 0 else {
                snd_pcm_close(handle)
                throw Self.failure(status, "snd_pcm_start", name)
            }
        }
        pcm = handle
        self.name = name
        self.sampleRate = sampleRate
        self.channels = channels
    }

    deinit { snd_pcm_close(pcm) }

    /// Writes all `frames` (blocking while the buffer is full). Returns false
    /// when an underrun had to be recovered first (the stream restarted, so
    /// its timing moved).
    package func write(_ samples: UnsafePointer<Int16>, frames: Int) throws -> Bool {
        try transfer(frames: frames, operation: "snd_pcm_writei") { done in
            snd_pcm_writei(pcm, samples + done * channels, snd_pcm_uframes_t(frames - done))
        }
    }

    /// Reads exactly `frames` (blocking). Returns false when an overrun had to
    /// be recovered (samples were lost before these).
    package func read(into samples: UnsafeMutablePointer<Int16>, frames: Int) throws -> Bool {
        try transfer(frames: frames, operation: "snd_pcm_readi") { done in
            snd_pcm_readi(pcm, samples + done * channels, snd_pcm_uframes_t(frames - done))
        }
    }

    /// A non-blocking capture's read: waits up to `timeout` ms and reads what
    /// is there (up to `frames`). The frames read, the clock just after and
    /// the frames still waiting; nothing read after an overrun (recovered);
    /// nil when the stream failed.
    package func readWaiting(into samples: UnsafeMutablePointer<Int16>, frames: Int,
                             timeout: Int32 = 100) -> (frames: Int, time: Int64, waiting: Int)? {
        let status = snd_pcm_wait(pcm, timeout)
        if status < 0 && snd_pcm_recover(pcm, status, 1) < 0 { return nil }
        let read = snd_pcm_readi(pcm, samples, snd_pcm_uframes_t(frames))
        if read == -snd_pcm_sframes_t(EAGAIN) { return (0, 0, 0) }
        if read < 0 {
            if snd_pcm_recover(pcm, Int32(read), 1) < 0 || snd_pcm_start(pcm) < 0 { return nil }
            return (0, 0, 0)
        }
        let time = MonotonicClock().now()
        return (Int(read), time, available() ?? 0)
    }

    /// Calls `step` (given the frames done so far) until `frames` are done,
    /// recovering from xruns; false if one had to be recovered.
    private func transfer(frames: Int, operation: String, _ step: (Int) -> snd_pcm_sframes_t) throws -> Bool {
        var done = 0, clean = true
        while done < frames {
            let result = step(done)
            if result >= 0 { done += Int(result); continue }
            clean = false
            let recovered = snd_pcm_recover(pcm, Int32(result), 1)
            if recovered < 0 { throw Self.failure(recovered, operation, name) }
        }
        return clean
    }

    /// Frames between the application and the listener: for playback, frames
    /// written but not yet played (the `pulse` plugin includes the sound
    /// server's latency); nil on error.
    package func delay() -> Int? {
        var frames: snd_pcm_sframes_t = 0
        return snd_pcm_delay(pcm, &frames) >= 0 ? Int(frames) : nil
    }

    /// Frames ready to read (capture) after syncing the pointer; nil on error.
    package func available() -> Int? {
        let frames = snd_pcm_avail(pcm)
        return frames >= 0 ? Int(frames) : nil
    }

    private static func failure(_ code: Int32, _ operation: String, _ name: String) -> ProbeFailure {
        ProbeFailure("\(operation) on ALSA PCM '\(name)': \(String(cString: snd_strerror(code)))")
    }
}
