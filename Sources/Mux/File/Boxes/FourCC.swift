/// An MP4 box type (ISO/IEC 14496-12 §4.2): four ASCII characters read as
/// one big-endian 32-bit number.
struct FourCC: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    let value: UInt32

    init(_ value: UInt32) { self.value = value }

    init(stringLiteral text: StaticString) {
        precondition(text.utf8CodeUnitCount == 4, "a box type has four characters")
        var value: UInt32 = 0
        for index in 0..<4 { value = value << 8 | UInt32(text.utf8Start[index]) }
        self.value = value
    }

    var description: String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        return bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F } ? String(decoding: bytes, as: UTF8.self) : "0x\(String(value, radix: 16))"
    }

    static let ftyp: FourCC = "ftyp", moov: FourCC = "moov", moof: FourCC = "moof", mdat: FourCC = "mdat"
    static let free: FourCC = "free", skip: FourCC = "skip", mfra: FourCC = "mfra", mvhd: FourCC = "mvhd"
    static let mfhd: FourCC = "mfhd", traf: FourCC = "traf", tfhd: FourCC = "tfhd", tfdt: FourCC = "tfdt"
    static let trun: FourCC = "trun", mvex: FourCC = "mvex", trex: FourCC = "trex", trak: FourCC = "trak"
    static let tkhd: FourCC = "tkhd", mdia: FourCC = "mdia", mdhd: FourCC = "mdhd", hdlr: FourCC = "hdlr"
    static let minf: FourCC = "minf", stbl: FourCC = "stbl", stsd: FourCC = "stsd", stts: FourCC = "stts"
    static let ctts: FourCC = "ctts", stsc: FourCC = "stsc", stsz: FourCC = "stsz", stz2: FourCC = "stz2"
    static let stco: FourCC = "stco", co64: FourCC = "co64", stss: FourCC = "stss", edts: FourCC = "edts"
    static let elst: FourCC = "elst", sdtp: FourCC = "sdtp", sbgp: FourCC = "sbgp", sgpd: FourCC = "sgpd"
    static let stps: FourCC = "stps", cslg: FourCC = "cslg", subs: FourCC = "subs", saiz: FourCC = "saiz"
    static let saio: FourCC = "saio", udta: FourCC = "udta", chpl: FourCC = "chpl"
}
