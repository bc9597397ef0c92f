// The network sink was RTMP-only and named so until SRT joined it; code
// written against the former names (branches in flight) keeps compiling,
// with a warning naming the new one. Remove once no caller uses them.

@available(*, deprecated, renamed: "NetworkSink")
public typealias RTMPSink = NetworkSink
@available(*, deprecated, renamed: "NetworkSinkEvent")
public typealias RTMPSinkEvent = NetworkSinkEvent
@available(*, deprecated, renamed: "NetworkSinkStatistics")
public typealias RTMPSinkStatistics = NetworkSinkStatistics
