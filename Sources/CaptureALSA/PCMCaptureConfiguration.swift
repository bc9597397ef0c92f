public import MediaCore

/// What to capture from and how: the values a recorder's command line or a
/// daemon's settings give. `PCMCapture` validates them before it opens anything.
public struct PCMCaptureConfiguration: Sendable, Equatable {
    /// The ALSA PCM name: `hw:Loopback,1,0`, `plug:bsnoop`, `default`, or any
    /// PCM the ALSA configuration defines.
    public var device: String
    /// Frames per second to ask the device for; it must accept it exactly
    /// (a `plug:` PCM resamples, a `hw:` one refuses what it cannot do).
    public var sampleRate: Int
    /// Channels to ask the device for, exactly.
    public var channels: Int
    /// Sample formats in order of preference; the first the device accepts wins.
    /// Preferring S16 keeps the queue small; wider formats are taken only when a
    /// device offers nothing narrower.
    public var formats: [SampleFormat]
    /// The period (one read, one chunk, one timestamp) in nanoseconds. 20 ms:
    /// every period is stamped on its own, so the timeline's precision does
    /// not depend on it, and the capture thread, the encoder thread and, with
    /// the `pulse` plugin, the sound server's client thread each wake 50
    /// times a second. Measured on the bench at 720p30 with sound: 10 ms
    /// periods cost the recorder about 700 context switches a second, 20 ms
    /// about 480 (`capbench pipeline`).
    public var periodNanoseconds: Int64
    /// How many seconds of audio the chunk queue toward the consumer holds. The
    /// default (2.5 s) lets an encoder stall for two seconds without losing any
    /// audio; the memory is allocated once, at `PCMCapture.init`.
    public var queueSeconds: Double
    /// How long the device may deliver nothing before it is reported lost
    /// (`PCMCaptureEvent.deviceLost`, context `.noData`). A device that stops
    /// without an error (a hung sound server, a stream the server moved away)
    /// would otherwise leave the recording mute with no sign. Capture goes on
    /// meanwhile, with silence that follows the clock. Longer than a device
    /// takes to start: PulseAudio takes up to about 2 s to deliver a new
    /// stream's first period.
    public var deviceTimeoutSeconds: Double
    /// The longest wait between two attempts to open a lost device again:
    /// the first comes 0.25 s after the loss, each failed one doubles the
    /// wait up to this. 2 s by default: a restarted sound server is heard
    /// again within about 2 s of its return, and a missing one costs an
    /// open attempt (about 10 ms of the capture thread) every 2 s.
    public var reopenMaximumIntervalSeconds: Double

    /// A configuration for `device` with the engine's defaults: 48 kHz stereo,
    /// S16 preferred, 20 ms periods, 2.5 s of queue, 5 s of device timeout,
    /// reopen attempts at most 2 s apart.
    public init(device: String, sampleRate: Int = 48000, channels: Int = 2,
                formats: [SampleFormat] = [.s16, .s32, .float32],
                periodNanoseconds: Int64 = 20_000_000, queueSeconds: Double = 2.5,
                deviceTimeoutSeconds: Double = 5, reopenMaximumIntervalSeconds: Double = 2) {
        self.device = device
        self.sampleRate = sampleRate
        self.channels = channels
        self.formats = formats
        self.periodNanoseconds = periodNanoseconds
        self.queueSeconds = queueSeconds
        self.deviceTimeoutSeconds = deviceTimeoutSeconds
        self.reopenMaximumIntervalSeconds = reopenMaximumIntervalSeconds
    }

    /// Refuses values no device could take, before anything is opened, naming
    /// the value and what would be accepted.
    public func validate() throws(InvalidSetting) {
        if device.isEmpty || device.contains(where: \.isNewline) {
            throw InvalidSetting(.audioDevice, value: device, reason: "expected an ALSA PCM name such as 'default' or 'hw:Loopback,1,0'")
        }
        if sampleRate <= 0 || sampleRate > 768_000 {
            throw InvalidSetting(.audioCaptureRate, value: String(sampleRate), reason: "expected a rate in Hz between 1 and 768000, e.g. 44100 or 48000")
        }
        if channels <= 0 || channels > 256 {
            throw InvalidSetting(.audioCaptureChannels, value: String(channels), reason: "expected a channel count between 1 and 256")
        }
        if formats.isEmpty {
            throw InvalidSetting(.audioSampleFormats, value: "", reason: "expected at least one of s16, s32, float32")
        }
        if periodNanoseconds < 1_000_000 || periodNanoseconds > 1_000_000_000 {
            throw InvalidSetting(.audioPeriod, value: "\(periodNanoseconds) ns", reason: "expected between 1 ms and 1 s (20 ms is usual)")
        }
        if !queueSeconds.isFinite || queueSeconds * 1e9 < Double(periodNanoseconds) || queueSeconds > 60 {
            throw InvalidSetting(.audioQueue, value: "\(queueSeconds) s", reason: "expected at least one period and at most 60 s (2.5 s lets the consumer stall 2 s)")
        }
        if !deviceTimeoutSeconds.isFinite || deviceTimeoutSeconds < 0.5 || deviceTimeoutSeconds > 3600 {
            throw InvalidSetting(.audioDeviceTimeout, value: "\(deviceTimeoutSeconds) s", reason: "expected between 0.5 s and 3600 s (5 s is usual)")
        }
        // At least the first attempt's delay; at most 5 minutes, so a sound
        // server that comes back is heard again within that.
        if !reopenMaximumIntervalSeconds.isFinite || reopenMaximumIntervalSeconds < 0.25 || reopenMaximumIntervalSeconds > 300 {
            throw InvalidSetting(.audioReopenInterval, value: "\(reopenMaximumIntervalSeconds) s",
                                 reason: "expected between 0.25 s and 300 s (2 s is usual)")
        }
    }
}
