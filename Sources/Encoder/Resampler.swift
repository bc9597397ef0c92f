import CFFmpeg
import MediaCore
import MediaPackets

/// Owns a libswresample context converting interleaved capture PCM (any rate,
/// s16/s32/float) to the encoder's planar float at its rate and layout.
///
/// Resampling is forced on (`SWR_FLAG_RESAMPLE`) even when the rates match, so
/// that `setCompensation` can stretch the timeline at any moment: without a
/// resampler, `swr_set_compensation` would re-initialise the context midstream
/// and lose the samples it buffers.
final class Resampler {
    let pointer: OpaquePointer
    let outputRate: Int

    init(input: AudioFormat, outputRate: Int, outputChannels: Int) throws {
        // Default layouts (mono, stereo...) on both sides, as the encoder uses.
        var inputLayout = AVChannelLayout(), outputLayout = AVChannelLayout()
        av_channel_layout_default(&inputLayout, Int32(input.channels))
        av_channel_layout_default(&outputLayout, Int32(outputChannels))
        defer {
            av_channel_layout_uninit(&inputLayout)
            av_channel_layout_uninit(&outputLayout)
        }
        var context: OpaquePointer?
        var status = swr_alloc_set_opts2(&context, &outputLayout, AV_SAMPLE_FMT_FLTP, Int32(outputRate),
                                         &inputLayout, Self.sampleFormat(input.sampleFormat),
                                         Int32(input.sampleRate), 0, nil)
        guard status >= 0, let context else {
            throw AVError(code: status < 0 ? status : AVError.outOfMemoryCode, operation: "swr_alloc_set_opts2")
        }
        pointer = context
        self.outputRate = outputRate
        status = av_opt_set_int(UnsafeMutableRawPointer(context), "flags", Int64(SWR_FLAG_RESAMPLE), 0)
        guard status >= 0 else { throw AVError(code: status, operation: "av_opt_set_int") }
        status = swr_init(context)
        guard status >= 0 else { throw AVError(code: status, operation: "swr_init") }
    }

    deinit {
        var context: OpaquePointer? = pointer
        swr_free(&context)
    }

    static func sampleFormat(_ format: SampleFormat) -> AVSampleFormat {
        switch format {
        case .s16: AV_SAMPLE_FMT_S16
        case .s32: AV_SAMPLE_FMT_S32
        case .float32: AV_SAMPLE_FMT_FLT
        }
    }

    /// Converts up to `inputCount` input frames (none with `input` nil: the
    /// end, flush the filter) into at most `capacity` output frames at `output`;
    /// returns the frames written. Input that does not fit stays buffered in
    /// the context and comes out on the next call (pass `inputCount` 0 with a
    /// non-nil `input` to collect it without ending the stream).
    @inline(__always)
    func convert(output: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, capacity: Int,
                 input: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, inputCount: Int) throws -> Int {
        let produced = swr_convert(pointer, output, Int32(capacity), input, Int32(inputCount))
        guard produced >= 0 else { throw AVError(code: produced, operation: "swr_convert") }
        return Int(produced)
    }

    /// Output frames the context holds back (its filter delay plus buffered input).
    var delay: Int64 { swr_get_delay(pointer, Int64(outputRate)) }

    func setCompensation(sampleDelta: Int, distance: Int) throws {
        let status = swr_set_compensation(pointer, Int32(clamping: sampleDelta), Int32(clamping: distance))
        guard status >= 0 else { throw AVError(code: status, operation: "swr_set_compensation") }
    }
}
