/// The arithmetic encoding engine of H.264 CABAC (ITU-T H.264 clause
/// 9.3.4.2 to 9.3.4.6), for the few bins of a slice whose macroblocks are all
/// skipped: context-coded decisions and the terminating bin.
///
/// Tables from the standard: `rangeTabLPS` is Table 9-44, `transIdxLPS`
/// Table 9-45 (checked against x264's combined transition table).
struct CABACEncoder: ~Copyable {
    /// One context variable: probability state and most probable symbol.
    struct Context {
        var state: Int
        var mostProbable: Int

        /// Clause 9.3.1.1: from the (m, n) of Tables 9-12 to 9-33 and SliceQPY.
        init(m: Int, n: Int, sliceQP: Int) {
            let pre = min(max(((m * min(max(sliceQP, 0), 51)) >> 4) + n, 1), 126)
            if pre <= 63 {
                state = 63 - pre
                mostProbable = 0
            } else {
                state = pre - 64
                mostProbable = 1
            }
        }
    }

    private var low = 0
    private var range = 510
    private var firstBit = true
    private var outstanding = 0
    private var writer: H264BitWriter

    init(capacity: Int) {
        writer = H264BitWriter(capacity: capacity)
    }

    /// 9.3.4.2: one context-coded bin.
    mutating func encode(_ bin: Int, context: inout Context) {
        let lps = Self.rangeTabLPS[context.state][(range >> 6) & 3]
        range -= lps
        if bin != context.mostProbable {
            low += range
            range = lps
            if context.state == 0 { context.mostProbable = 1 - context.mostProbable }
            context.state = Self.transIdxLPS[context.state]
        } else {
            context.state = min(context.state + 1, 62)
        }
        renormalize()
    }

    /// 9.3.4.5: the terminating bin (`end_of_slice_flag`); 1 also flushes,
    /// and the flush's last bit is the slice's `rbsp_stop_one_bit`.
    mutating func encodeTerminate(_ bin: Int) {
        range -= 2
        if bin != 0 {
            low += range
            range = 2
            renormalize()
            putBit((low >> 9) & 1)
            writer.write(UInt64(((low >> 7) & 3) | 1), bits: 2)
        } else {
            renormalize()
        }
    }

    /// The bytes written, zero-padded to a byte boundary (call after the
    /// terminating 1).
    mutating func finish(_ body: (UnsafePointer<UInt8>, Int) -> Void) {
        while !writer.isByteAligned { writer.writeBit(false) }
        body(writer.data, writer.byteCount)
    }

    private mutating func renormalize() {
        while range < 256 {
            if low < 256 {
                putBit(0)
            } else if low >= 512 {
                low -= 512
                putBit(1)
            } else {
                low -= 256
                outstanding += 1
            }
            range <<= 1
            low <<= 1
        }
    }

    private mutating func putBit(_ bit: Int) {
        if firstBit {
            firstBit = false
        } else {
            writer.write(UInt64(bit), bits: 1)
        }
        while outstanding > 0 {
            writer.write(UInt64(1 - bit), bits: 1)
            outstanding -= 1
        }
    }

    static let rangeTabLPS: [[Int]] = [
        [128, 176, 208, 240], [128, 167, 197, 227], [128, 158, 187, 216], [123, 150, 178, 205],
        [116, 142, 169, 195], [111, 135, 160, 185], [105, 128, 152, 175], [100, 122, 144, 166],
        [95, 116, 137, 158], [90, 110, 130, 150], [85, 104, 123, 142], [81, 99, 117, 135],
        [77, 94, 111, 128], [73, 89, 105, 122], [69, 85, 100, 116], [66, 80, 95, 110],
        [62, 76, 90, 104], [59, 72, 86, 99], [56, 69, 81, 94], [53, 65, 77, 89],
        [51, 62, 73, 85], [48, 59, 69, 80], [46, 56, 66, 76], [43, 53, 63, 72],
        [41, 50, 59, 69], [39, 48, 56, 65], [37, 45, 54, 62], [35, 43, 51, 59],
        [33, 41, 48, 56], [32, 39, 46, 53], [30, 37, 43, 50], [29, 35, 41, 48],
        [27, 33, 39, 45], [26, 31, 37, 43], [24, 30, 35, 41], [23, 28, 33, 39],
        [22, 27, 32, 37], [21, 26, 30, 35], [20, 24, 29, 33], [19, 23, 27, 31],
        [18, 22, 26, 30], [17, 21, 25, 28], [16, 20, 23, 27], [15, 19, 22, 25],
        [14, 18, 21, 24], [14, 17, 20, 23], [13, 16, 19, 22], [12, 15, 18, 21],
        [12, 14, 17, 20], [11, 14, 16, 19], [11, 13, 15, 18], [10, 12, 15, 17],
        [10, 12, 14, 16], [9, 11, 13, 15], [9, 11, 12, 14], [8, 10, 12, 14],
        [8, 9, 11, 13], [7, 9, 11, 12], [7, 9, 10, 12], [7, 8, 10, 11],
        [6, 8, 9, 11], [6, 7, 9, 10], [6, 7, 8, 9], [2, 2, 2, 2],
    ]

    static let transIdxLPS: [Int] = [
        0, 0, 1, 2, 2, 4, 4, 5, 6, 7, 8, 9, 9, 11, 11, 12, 13, 13, 15, 15, 16, 16, 18, 18, 19, 19, 21, 21, 22, 22, 23, 24,
        24, 25, 26, 26, 27, 27, 28, 29, 29, 30, 30, 30, 31, 32, 32, 33, 33, 33, 34, 34, 35, 35, 35, 36, 36, 36, 37, 37, 37,
        38, 38, 63,
    ]
}
