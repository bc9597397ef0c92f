#if canImport(Glibc)
import Glibc
#endif

/// `snprintf` into a String, so that numbers print exactly as ffmpeg prints
/// them (`%4.3g`, `%3.*f`) without Foundation.
func cFormat(_ format: String, _ arguments: any CVarArg...) -> String {
    withVaList(arguments) { list in
        var buffer = [CChar](repeating: 0, count: 256)
        _ = vsnprintf(&buffer, buffer.count, format, list)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
