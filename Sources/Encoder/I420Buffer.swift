/// An I420 picture in memory this value owns: the capture-size intermediate
/// when the encoder scales. Allocated once, freed once.
final class I420Buffer {
    let y: UnsafeMutablePointer<UInt8>
    let u: UnsafeMutablePointer<UInt8>
    let v: UnsafeMutablePointer<UInt8>
    let strideY: Int
    let strideUV: Int
    private let storage: UnsafeMutableRawPointer

    init(width: Int, height: Int) {
        // Rows padded to 64 bytes so libyuv's SIMD rows stay aligned.
        strideY = (width + 63) & ~63
        strideUV = ((width + 1) / 2 + 63) & ~63
        let lumaBytes = strideY * height
        let chromaBytes = strideUV * ((height + 1) / 2)
        storage = .allocate(byteCount: lumaBytes + 2 * chromaBytes, alignment: 64)
        y = storage.assumingMemoryBound(to: UInt8.self)
        u = (storage + lumaBytes).assumingMemoryBound(to: UInt8.self)
        v = (storage + lumaBytes + chromaBytes).assumingMemoryBound(to: UInt8.self)
    }

    deinit { storage.deallocate() }
}
