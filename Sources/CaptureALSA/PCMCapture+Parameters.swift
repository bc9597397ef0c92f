import CALSA
import MediaCore

/// What the device agreed to.
struct NegotiatedParameters {
    var format: AudioFormat
    /// Frames per period: what one `snd_pcm_readi` returns and one chunk holds.
    var periodFrames: Int
    /// Frames the device buffers before it overruns.
    var bufferFrames: Int
}

extension PCMCapture {
    /// How much the ALSA buffer holds at least: a scheduling hiccup of the
    /// capture thread shorter than this loses nothing.
    static var minimumBufferNanoseconds: Int64 { 200_000_000 }

    /// Negotiates hardware and software parameters on `handle`, trying the
    /// formats in the configuration's order, and installs them (which also
    /// prepares the PCM). Each refusal names the value the device refused.
    static func negotiate(_ handle: PCMHandle, _ configuration: PCMCaptureConfiguration) throws(ALSAError) -> NegotiatedParameters {
        let pcm = handle.pcm
        var hwOrNil: OpaquePointer?
        var status = snd_pcm_hw_params_malloc(&hwOrNil)
        guard status >= 0, let hw = hwOrNil else { throw handle.error(status, "snd_pcm_hw_params_malloc", .configure) }
        defer { snd_pcm_hw_params_free(hw) }

        status = snd_pcm_hw_params_any(pcm, hw)
        if status < 0 { throw handle.error(status, "snd_pcm_hw_params_any", .configure) }
        // Interleaved read/write access: one copy into the pooled buffer, which
        // is the layout chunks carry.
        status = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)
        if status < 0 { throw handle.error(status, "snd_pcm_hw_params_set_access", .configure) }

        guard let sampleFormat = configuration.formats.first(where: { snd_pcm_hw_params_test_format(pcm, hw, $0.alsaFormat) == 0 }) else {
            throw handle.error(-EINVAL, "snd_pcm_hw_params_test_format", .sampleFormats(configuration.formats))
        }
        status = snd_pcm_hw_params_set_format(pcm, hw, sampleFormat.alsaFormat)
        if status < 0 { throw handle.error(status, "snd_pcm_hw_params_set_format", .sampleFormats([sampleFormat])) }

        status = snd_pcm_hw_params_set_channels(pcm, hw, UInt32(configuration.channels))
        if status < 0 { throw handle.error(status, "snd_pcm_hw_params_set_channels", .channels(configuration.channels)) }

        // Exactly the rate asked for: a `plug:` PCM resamples to reach it, a
        // `hw:` PCM refuses, and the caller hears which.
        status = snd_pcm_hw_params_set_rate(pcm, hw, UInt32(configuration.sampleRate), 0)
        if status < 0 { throw handle.error(status, "snd_pcm_hw_params_set_rate", .sampleRate(configuration.sampleRate)) }

        let rate = Int64(configuration.sampleRate)
        var periodFrames = snd_pcm_uframes_t(max(1, rate * configuration.periodNanoseconds / .nanosecondsPerSecond))
        var direction: Int32 = 0
        let askedPeriod = Int(periodFrames)
        status = snd_pcm_hw_params_set_period_size_near(pcm, hw, &periodFrames, &direction)
        if status < 0 { throw handle.error(status, "snd_pcm_hw_params_set_period_size_near", .bufferSize(askedPeriod)) }

        // Several periods, at least ~200 ms, so that the thread may be late by
        // that much before anything is lost.
        let periodsInBuffer = max(4, Int((minimumBufferNanoseconds * rate / .nanosecondsPerSecond + Int64(periodFrames) - 1) / Int64(periodFrames)))
        var bufferFrames = snd_pcm_uframes_t(periodsInBuffer) * periodFrames
        let askedBuffer = Int(bufferFrames)
        status = snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &bufferFrames)
        if status < 0 { throw handle.error(status, "snd_pcm_hw_params_set_buffer_size_near", .bufferSize(askedBuffer)) }

        status = snd_pcm_hw_params(pcm, hw)
        if status < 0 { throw handle.error(status, "snd_pcm_hw_params", .configure) }
        snd_pcm_hw_params_get_period_size(hw, &periodFrames, &direction)
        snd_pcm_hw_params_get_buffer_size(hw, &bufferFrames)

        try configureSoftware(handle, periodFrames: periodFrames)
        return NegotiatedParameters(
            format: AudioFormat(sampleFormat: sampleFormat, sampleRate: configuration.sampleRate, channels: configuration.channels),
            periodFrames: Int(periodFrames), bufferFrames: Int(bufferFrames))
    }

    /// Wakes the reader once a whole period is there, and lets the capture
    /// thread start the stream itself (`snd_pcm_start`) so the first read is
    /// the first period.
    private static func configureSoftware(_ handle: PCMHandle, periodFrames: snd_pcm_uframes_t) throws(ALSAError) {
        let pcm = handle.pcm
        var swOrNil: OpaquePointer?
        var status = snd_pcm_sw_params_malloc(&swOrNil)
        guard status >= 0, let sw = swOrNil else { throw handle.error(status, "snd_pcm_sw_params_malloc", .configure) }
        defer { snd_pcm_sw_params_free(sw) }
        status = snd_pcm_sw_params_current(pcm, sw)
        if status < 0 { throw handle.error(status, "snd_pcm_sw_params_current", .configure) }
        status = snd_pcm_sw_params_set_avail_min(pcm, sw, periodFrames)
        if status < 0 { throw handle.error(status, "snd_pcm_sw_params_set_avail_min", .bufferSize(Int(periodFrames))) }
        status = snd_pcm_sw_params_set_start_threshold(pcm, sw, 1)
        if status < 0 { throw handle.error(status, "snd_pcm_sw_params_set_start_threshold", .configure) }
        status = snd_pcm_sw_params(pcm, sw)
        if status < 0 { throw handle.error(status, "snd_pcm_sw_params", .configure) }
    }
}

extension SampleFormat {
    /// The ALSA format with the host's byte order, which is how chunks carry samples.
    var alsaFormat: snd_pcm_format_t {
        #if _endian(big)
        switch self {
        case .s16: SND_PCM_FORMAT_S16_BE
        case .s32: SND_PCM_FORMAT_S32_BE
        case .float32: SND_PCM_FORMAT_FLOAT_BE
        }
        #else
        switch self {
        case .s16: SND_PCM_FORMAT_S16_LE
        case .s32: SND_PCM_FORMAT_S32_LE
        case .float32: SND_PCM_FORMAT_FLOAT_LE
        }
        #endif
    }
}
