/// A writable I420 (yuv420p) picture: full-size luma, chroma halved both ways
/// (rounded up). The encoder lends its own input frame's planes this way.
public struct I420Planes {
    public let y: UnsafeMutablePointer<UInt8>
    public let u: UnsafeMutablePointer<UInt8>
    public let v: UnsafeMutablePointer<UInt8>
    /// Bytes from one row's start to the next in each plane.
    public let strideY: Int
    public let strideU: Int
    public let strideV: Int
    public let width: Int
    public let height: Int

    public init(y: UnsafeMutablePointer<UInt8>, u: UnsafeMutablePointer<UInt8>, v: UnsafeMutablePointer<UInt8>,
                strideY: Int, strideU: Int, strideV: Int, width: Int, height: Int) {
        self.y = y
        self.u = u
        self.v = v
        self.strideY = strideY
        self.strideU = strideU
        self.strideV = strideV
        self.width = width
        self.height = height
    }

    /// Chroma plane width.
    public var chromaWidth: Int { (width + 1) / 2 }
    /// Chroma plane height.
    public var chromaHeight: Int { (height + 1) / 2 }
}
