// What a program embedding the engine sees through `import RecorderEngine`:
// the session API (this module) and the value types it takes and reports,
// re-exported one by one. The rings, pools, threads, packets and libav
// pointers of the modules behind it stay inside the package.

@_exported public import struct CaptureALSA.ALSAError
@_exported public import struct CaptureALSA.PCMCaptureConfiguration
@_exported public import struct CaptureX11.CaptureRegion
@_exported public import struct CaptureX11.DisplayCaptureConfiguration
@_exported public import enum CaptureX11.GrabMethod
@_exported public import struct CaptureX11.XError
@_exported public import struct Encoder.AudioEncoderSettings
@_exported public import struct Encoder.H264Level
@_exported public import enum Encoder.PictureScaling
@_exported public import struct Encoder.VideoEncoderSettings
@_exported public import struct Encoder.X264Parameter
@_exported public import struct Encoder.X264Tuning
@_exported public import struct MediaCore.AudioFormat
@_exported public import class MediaCore.ConfinedDirectory
@_exported public import enum MediaCore.ConfinementError
@_exported public import struct MediaCore.InvalidSetting
@_exported public import enum MediaCore.SettingKey
@_exported public import class MediaCore.LogTarget
@_exported public import enum MediaCore.SampleFormat
@_exported public import struct MediaPackets.AVError
@_exported public import struct Mux.NetworkSinkStatistics
@_exported public import enum Mux.NetworkSinkEvent
@_exported public import enum Mux.StreamFailure
@_exported public import struct Mux.SRTRejectReason
@_exported public import struct Mux.StreamURL
@_exported public import enum Mux.TLSVerification
@_exported public import enum Mux.MP4FinishOutcome
@_exported public import struct Mux.FileSegment
@_exported public import enum Mux.MP4Repair
@_exported public import struct Mux.MP4RepairReport
@_exported public import struct Mux.MP4RepairRefusal
