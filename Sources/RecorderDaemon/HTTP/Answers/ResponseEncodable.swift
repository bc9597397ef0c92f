import Hummingbird

// The answers handlers return as values, encoded by the context's
// `JSONAnswerEncoder`.
extension RecordingView: ResponseEncodable {}
extension WorkspaceView: ResponseEncodable {}
extension WorkspaceList: ResponseEncodable {}
extension HealthView: ResponseEncodable {}
extension JibriHealth: ResponseEncodable {}
