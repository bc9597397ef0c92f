/// Writes one track's sample table boxes (ISO/IEC 14496-12 §8.6-8.7) from the
/// samples the fragments held, each in its most compact form.
enum MP4SampleTableWriter {
    static func write(_ track: MP4TrackSamples, into writer: inout MP4ByteWriter) {
        // stts: runs of equal durations.
        writer.fullBox(.stts, version: 0) { writer in
            let runs = track.durations.runs
            writer.u32(UInt32(runs.count))
            for run in runs {
                writer.u32(run.count)
                writer.u32(run.value)
            }
        }
        // ctts: composition offsets, only when some are not 0; version 1
        // when some are negative.
        if track.hasCompositionOffsets {
            writer.fullBox(.ctts, version: track.hasNegativeCompositionOffsets ? 1 : 0) { writer in
                let runs = track.compositionOffsets.runs
                writer.u32(UInt32(runs.count))
                for run in runs {
                    writer.u32(run.count)
                    writer.u32(run.value)
                }
            }
        }
        // stss: absent when every sample is a sync sample (audio).
        if !track.allSync {
            writer.fullBox(.stss, version: 0) { writer in
                writer.u32(UInt32(track.syncSamples.count))
                for number in track.syncSamples { writer.u32(number) }
            }
        }
        // stsc: a new entry where the samples per chunk change.
        writer.fullBox(.stsc, version: 0) { writer in
            var entries: [(first: UInt32, count: UInt32)] = []
            for (index, count) in track.chunkSampleCounts.enumerated() where entries.last?.count != count {
                entries.append((UInt32(index + 1), count))
            }
            writer.u32(UInt32(entries.count))
            for entry in entries {
                writer.u32(entry.first)
                writer.u32(entry.count)
                writer.u32(1)  // sample_description_index
            }
        }
        // stsz: one size for all when they are equal.
        writer.fullBox(.stsz, version: 0) { writer in
            if let first = track.sizes.first, track.sizes.allSatisfy({ $0 == first }) {
                writer.u32(first)
                writer.u32(UInt32(track.sizes.count))
            } else {
                writer.u32(0)
                writer.u32(UInt32(track.sizes.count))
                for size in track.sizes { writer.u32(size) }
            }
        }
        // stco, or co64 once the data passes 4 GiB.
        let large = (track.chunkOffsets.last ?? 0) > Int64(UInt32.max)
        writer.fullBox(large ? .co64 : .stco, version: 0) { writer in
            writer.u32(UInt32(track.chunkOffsets.count))
            for offset in track.chunkOffsets {
                if large { writer.u64(UInt64(offset)) } else { writer.u32(UInt32(offset)) }
            }
        }
    }
}
