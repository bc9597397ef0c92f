import MediaCore
import MediaPackets
import Mux

/// The mux thread's loop: moves packets from the encoders to the fan-outs,
/// which order them by decoding time and hand each to every live stream
/// (never waiting on one) and to the file outputs. Each video encode has a
/// fan-out of its own (index for index); the AAC packets go to every
/// fan-out, each but the last getting a reference to the same payload. It
/// sleeps while every packet ring is empty and ends when the encoders are
/// done and their rings drained.
final class MuxWorker: @unchecked Sendable {
    private let fanOuts: [PacketFanOut]
    private let encodes: [VideoEncode]
    private let audioPackets: SPSCRing<Packet>?
    private let state: SessionState
    /// Where the audio references for all fan-outs but the last come from.
    private let references: PacketPool?
    /// Streams added and removed while recording.
    private let liveStreams: LiveStreams?

    init(fanOuts: [PacketFanOut], encodes: [VideoEncode], audioPackets: SPSCRing<Packet>?, state: SessionState,
         liveStreams: LiveStreams? = nil) {
        self.liveStreams = liveStreams
        precondition(encodes.isEmpty ? fanOuts.count <= 1 : fanOuts.count == encodes.count,
                     "one fan-out per video encode")
        self.fanOuts = fanOuts
        self.encodes = encodes
        self.audioPackets = audioPackets
        self.state = state
        references = fanOuts.count > 1 ? PacketPool(capacity: 64) : nil
    }

    func run() {
        var failed = false
        defer { if let liveStreams { apply(liveStreams.close()) } }
        while true {
            if let liveStreams, liveStreams.hasChanges { apply(liveStreams.takeChanges()) }
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
        guard !failed else { return }
        for fanOut in fanOuts {
            do {
                try fanOut.flush()
            } catch {
                fileFailed(error)
                return
            }
        }
    }

    /// A stream added goes to its encode's fan-out from the next packet on
    /// (it starts at a keyframe by itself); one removed gets no packet after
    /// this and is finished here, after its last.
    private func apply(_ changes: [LiveStreams.Change]) {
        for change in changes {
            switch change {
            case let .add(sink, encode):
                let index = encode ?? 0
                if fanOuts.indices.contains(index) { fanOuts[index].add(sink) }
            case let .remove(sink):
                for fanOut in fanOuts { fanOut.remove(sink) }
                sink.finishInput()
            }
        }
    }

    /// Writes every packet queued now; false when there was none.
    @inline(__always)
    private func drain(failed: inout Bool) -> Bool {
        var moved = false
        for index in encodes.indices {
            let encode = encodes[index]
            while let packet = encode.packets.pop() {
                moved = true
                encode.bytes.add(Int(packet.pointer.pointee.size), ordering: .relaxed)
                write(packet, to: index, failed: &failed)
            }
        }
        if let audioPackets {
            while let packet = audioPackets.pop() {
                moved = true
                guard let last = fanOuts.indices.last else { continue }
                if let references {
                    for index in 0..<last {
                        // A reference each (the payload is shared); out of
                        // memory fails like a write would.
                        guard let copy = packet.reference(from: references) else {
                            if !failed {
                                failed = true
                                fileFailed(AVError(code: AVError.outOfMemoryCode, operation: "av_packet_ref"))
                            }
                            continue
                        }
                        write(copy, to: index, failed: &failed, counted: false)
                    }
                }
                write(packet, to: last, failed: &failed)
            }
        }
        return moved
    }

    /// After a file write error the session is stopping; later packets are
    /// discarded so the encoders can drain and the file can still be finalized.
    @inline(__always)
    private func write(_ packet: consuming Packet, to index: Int, failed: inout Bool, counted: Bool = true) {
        guard !failed else { return }
        let size = Int(packet.pointer.pointee.size)
        do {
            try fanOuts[index].write(packet)
            if counted { state.bytesWritten.add(size, ordering: .relaxed) }
        } catch {
            failed = true
            fileFailed(error)
        }
    }

    private func fileFailed(_ error: any Error) {
        let failure = error as? PacketSinkFailure
        let cause = failure?.error ?? error
        let underlying = cause as? AVError ?? AVError(code: AVError.ioErrorCode, operation: "av_write_frame")
        state.fail(.outputFile(OutputFileFailure(path: failure?.path ?? "", operation: .write, underlying: underlying)))
    }
}
