public import Foundation

/// Runs a tool (`arguments[0]`, found on PATH) to completion and returns its
/// standard output; throws when it cannot start or exits with a status other
/// than 0. The analyses read recordings with ffprobe and ffmpeg through it;
/// the program using them says how its children are started.
public typealias ToolRunner = ([String]) throws -> Data
