import MediaCore
import Mux

/// The mux thread's loop: moves packets from both encoders to the fan-out,
/// which orders them by decoding time and hands each to every live stream
/// (never waiting on one) and to the file sink. It ends when both encoders
/// are done and their queues are empty.
final class MuxWorker: @unchecked Sendable {
    private let fanOut: PacketFanOut
    private let videoPackets: SPSCRing<Packet>
    private let audioPackets: SPSCRing<Packet>?
    private let state: SessionState

    init(fanOut: PacketFanOut, videoPackets: SPSCRing<Packet>, audioPackets: SPSCRing<Packet>?, state: SessionState) {
        self.fanOut = fanOut
        self.videoPackets = videoPackets
        self.audioPackets = audioPackets
        self.state = state
    }

    func run() {
        var failed = false
        while true {
            var moved = false
            while let packet = videoPackets.pop() {
                moved = true
                write(packet, failed: &failed)
            }
            if let audioPackets {
                while let packet = audioPackets.pop() {
                    moved = true
                    write(packet, failed: &failed)
                }
            }
            if !moved {
                let videoDone = state.videoEncodingDone.load(ordering: .acquiring)
                let audioDone = audioPackets == nil || state.audioEncodingDone.load(ordering: .acquiring)
                if videoDone && audioDone && videoPackets.approximateCount == 0
                    && (audioPackets?.approximateCount ?? 0) == 0 {
                    break
                }
                idle()
            }
        }
        if !failed {
            do {
                try fanOut.flush()
            } catch {
                fileFailed(error)
            }
        }
    }

    /// After a file write error the session is stopping; later packets are
    /// discarded so the encoders can drain and the file can still be finalized.
    @inline(__always)
    private func write(_ packet: consuming Packet, failed: inout Bool) {
        guard !failed else { return }
        let size = Int(packet.pointer.pointee.size)
        do {
            try fanOut.write(packet)
            state.bytesWritten.add(size, ordering: .relaxed)
        } catch {
            failed = true
            fileFailed(error)
        }
    }

    private func fileFailed(_ error: any Error) {
        state.fail("writing \(fanOut.file?.path ?? "the recording"): \(error)")
    }
}
