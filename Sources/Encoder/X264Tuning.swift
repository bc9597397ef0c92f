import CX264
import MediaCore

/// x264 options beyond `VideoEncoderSettings`' own, as operators give them
/// to ffmpeg: the keyframe rules (`-keyint_min`, `-sc_threshold`) and
/// x264's own parameters (`-x264-params`), applied where libavcodec's
/// libx264 wrapper applies them (after the preset, the rate control and the
/// GOP, before the profile).
public struct X264Tuning: Sendable, Equatable {
    /// Fewest frames between two keyframes (x264's `min-keyint`; x264 caps
    /// it at half the GOP plus one); nil or 0: x264's choice.
    public var keyframeMinimum: Int?
    /// x264's scene-cut threshold (`scenecut`): 0 puts keyframes only where
    /// the GOP ends; nil: the preset's (40).
    public var sceneCut: Int?
    /// Further parameters in x264's names, applied in order.
    public var parameters: [X264Parameter]

    public init(keyframeMinimum: Int? = nil, sceneCut: Int? = nil, parameters: [X264Parameter] = []) {
        self.keyframeMinimum = keyframeMinimum
        self.sceneCut = sceneCut
        self.parameters = parameters
    }

    /// Checks the keyframe rules (the parameters were checked when made);
    /// throws `InvalidSetting` naming a bad one.
    public func validate() throws {
        if let keyframeMinimum, !(0...100_000).contains(keyframeMinimum) {
            throw InvalidSetting(.keyframeMinimum, value: "\(keyframeMinimum)", reason: "must be from 0 to 100000 frames")
        }
        if let sceneCut, !(0...100).contains(sceneCut) {
            throw InvalidSetting(.sceneCut, value: "\(sceneCut)",
                                  reason: "must be from 0 (no scene-cut keyframes) to 100 (x264's scenecut)")
        }
    }

    /// Sets these on `param`, after the GOP and rate control and before
    /// the profile (`X264Context`).
    func apply(to param: inout x264_param_t) {
        if let keyframeMinimum { param.i_keyint_min = Int32(keyframeMinimum) }
        if let sceneCut { param.i_scenecut_threshold = Int32(sceneCut) }
        for parameter in parameters {
            // Checked when made: x264 took it then.
            _ = x264_param_parse(&param, parameter.name, parameter.value)
        }
    }
}
