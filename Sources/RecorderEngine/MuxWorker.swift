import MediaCore
import MediaPackets
import Mux

/// The mux thread's loop: moves packets from both encoders to the fan-out,
/// which orders them by decoding time and hands each to every live stream
/// (never waiting on one) and to the file sink. It sleeps while both packet
/// rings are empty and ends when both encoders are done and their rings
/// drained.
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
            if drain(failed: &failed) {
                // The encoders may be waiting for room.
                state.packetSpace.notify()
                continue
            }
            let ticket = state.packetsReady.prepareToWait()
            if drain(failed: &failed) {
                state.packetsReady.cancelWait()
                state.packetSpace.notify()
                continue
            }
            let videoDone = state.videoEncodingDone.load(ordering: .acquiring)
            let audioDone = audioPackets == nil || state.audioEncodingDone.load(ordering: .acquiring)
            if videoDone && audioDone {
                state.packetsReady.cancelWait()
                // Both encoders finished before this last look found nothing.
                if !drain(failed: &failed) { break }
                continue
            }
            state.packetsReady.wait(ticket)
        }
        if !failed {
            do {
                try fanOut.flush()
            } catch {
                fileFailed(error)
            }
        }
    }

    /// Writes every packet queued now; false when there was none.
    @inline(__always)
    private func drain(failed: inout Bool) -> Bool {
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
        return moved
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
        let underlying = error as? AVError ?? AVError(code: AVError.ioErrorCode, operation: "av_write_frame")
        state.fail(.outputFile(OutputFileFailure(path: fanOut.file?.path ?? "", operation: .write, underlying: underlying)))
    }
}
