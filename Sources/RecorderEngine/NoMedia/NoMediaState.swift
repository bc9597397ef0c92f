import Encoder
import MediaCore
import Synchronization

/// What the encode threads tell the control thread about silence and a
/// frozen picture: the current run of each, stored with one relaxed atomic
/// write per period or frame, and a wake-up when a run crosses its threshold
/// or ends after crossing it (so events come at once, not at the next
/// statistics tick).
final class NoMediaState: Sendable {
    /// Audio frames (device rate) in the current silent run.
    let silentFrames = Atomic<Int>(0)
    /// The device rate those frames are counted at (set by the audio thread).
    let silentFrameRate = Atomic<Int>(0)
    /// Video grabs since the picture last changed.
    let unchangedFrames = Atomic<Int>(0)
}

/// Runs the detectors of one encode thread against the thresholds and
/// publishes the runs; nil thresholds cost nothing.
struct NoMediaProbe {
    private var silence: SilenceDetector?
    private var silenceThreshold = Int.max
    private var frozen: FrozenPictureDetector?
    private var frozenThreshold = Int.max
    private let state: NoMediaState
    private let wake: WakeSignal

    /// For the video encode thread.
    init(video detection: NoMediaDetection, framesPerSecond: Int, state: NoMediaState, wake: WakeSignal) {
        self.state = state
        self.wake = wake
        if let duration = detection.frozenDuration {
            frozen = FrozenPictureDetector()
            frozenThreshold = Int((duration.seconds * Double(framesPerSecond)).rounded(.up))
        }
    }

    /// For the audio encode thread.
    init(audio detection: NoMediaDetection, format: AudioFormat, state: NoMediaState, wake: WakeSignal) {
        self.state = state
        self.wake = wake
        if let duration = detection.silenceDuration {
            silence = SilenceDetector(format: format, silenceLevel: detection.silenceLevel)
            silenceThreshold = Int((duration.seconds * Double(format.sampleRate)).rounded(.up))
            state.silentFrameRate.store(format.sampleRate, ordering: .relaxed)
        }
    }

    /// Looks at the converted capture picture (`RenditionPictures.capture`,
    /// which every rendition encodes from) after frame `sequence` was applied
    /// to it (`damaged`: the capture did not report the frame unchanged).
    @inline(__always)
    mutating func observe(picture: I420Picture, sequence: Int, damaged: Bool) {
        guard frozen != nil else { return }
        let run = picture.withLuma { luma, stride, width, height in
            frozen!.observe(luma: luma, stride: stride, width: width, height: height, sequence: sequence, damaged: damaged)
        }
        publish(run, to: state.unchangedFrames, threshold: frozenThreshold)
    }

    /// A frame changed the encoder's picture without being observed.
    @inline(__always)
    mutating func noteDamage() {
        frozen?.noteDamage()
    }

    @inline(__always)
    mutating func observe(_ samples: UnsafeRawPointer, frameCount: Int) {
        guard silence != nil else { return }
        let run = silence!.observe(samples, frameCount: frameCount)
        publish(run, to: state.silentFrames, threshold: silenceThreshold)
    }

    @inline(__always)
    private func publish(_ run: Int, to atomic: borrowing Atomic<Int>, threshold: Int) {
        let before = atomic.exchange(run, ordering: .relaxed)
        if (before < threshold) != (run < threshold) { wake.notify() }
    }
}
