import Foundation
import TestSupport

/// The flash+beep page and what a recording of it shows: every 2 s the whole
/// page turns white for 200 ms and a 1 kHz beep of 100 ms starts, both at the
/// same moment of the page's audio clock (the flash drawn on the frame where
/// `performance.now()` reaches the beep's output time, mapped through
/// `AudioContext.getOutputTimestamp()` afresh at every frame: on a loaded
/// host the browser's audio output falls behind in steps, and a mapping read
/// when the beep is scheduled, a second before, was off by up to 0.5 s).
enum FlashBeepAnalysis {
    static let page = """
        <!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;width:100%;height:100%;overflow:hidden;background:#000;cursor:none}</style></head>
        <body><script>
        const ctx = new AudioContext();
        let next = 0;
        function outputTime(contextTime) {
          const stamp = ctx.getOutputTimestamp();
          return stamp.performanceTime + (contextTime - stamp.contextTime) * 1000;
        }
        function flashAt(beep) {
          function tick(now) {
            if (now + 4 >= outputTime(beep)) {
              document.body.style.background = '#fff';
              setTimeout(() => { document.body.style.background = '#000'; }, 200);
            } else requestAnimationFrame(tick);
          }
          requestAnimationFrame(tick);
        }
        function schedule() {
          const stamp = ctx.getOutputTimestamp();
          if (!stamp.contextTime) { setTimeout(schedule, 50); return; }
          if (next === 0) next = ctx.currentTime + 1.5;
          const o = ctx.createOscillator(), g = ctx.createGain();
          o.frequency.value = 1000; g.gain.value = 0.8; o.connect(g).connect(ctx.destination);
          o.start(next); o.stop(next + 0.1);
          flashAt(next);
          next += 2;
          setTimeout(schedule, (next - 1 - ctx.currentTime) * 1000);
        }
        schedule();
        </script></body></html>
        """

    /// `beep - flash` of each flash paired with its beep, seconds, in order.
    static func offsets(_ path: String) throws -> [(time: Double, offset: Double)] {
        let flashes = try flashTimes(path)
        let beeps = try beepTimes(path)
        return flashes.compactMap { flash in
            guard let beep = beeps.min(by: { abs($0 - flash) < abs($1 - flash) }), abs(beep - flash) < 0.5 else { return nil }
            return (flash, beep - flash)
        }
    }

    static func startTime(_ path: String, stream: String) throws -> Double {
        let result = try Subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "stream=start_time",
                                         "-of", "csv=p=0", path])
        return Double(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Times of the first white picture of each flash (file timeline).
    static func flashTimes(_ path: String) throws -> [Double] {
        let result = try Subprocess.run(["ffmpeg", "-nostdin", "-i", path, "-map", "0:v", "-vf", "scale=16:16,format=gray,showinfo",
                                         "-f", "null", "-"])
        var flashes: [Double] = []
        var bright = false
        for line in result.standardError.split(separator: "\n") where line.contains("pts_time:") && line.contains("mean:[") {
            guard let time = Self.number(after: "pts_time:", in: line), let mean = Self.number(after: "mean:[", in: line) else { continue }
            if mean > 128 && !bright { flashes.append(time) }
            bright = mean > 128
        }
        return flashes
    }

    /// Onsets of each beep (file timeline): the first sample above 0.1 after
    /// at least half a second below it.
    static func beepTimes(_ path: String) throws -> [Double] {
        let rate = 44_100
        let samples = try MediaProbe.decodeAudio(path, rate: rate)
        let start = try startTime(path, stream: "a:0")
        var onsets: [Double] = []
        var quiet = rate
        for (index, sample) in samples.enumerated() {
            if abs(sample) > 0.1 {
                if quiet >= rate / 2 { onsets.append(start + Double(index) / Double(rate)) }
                quiet = 0
            } else {
                quiet += 1
            }
        }
        return onsets
    }

    private static func number(after marker: String, in line: Substring) -> Double? {
        guard let range = line.range(of: marker) else { return nil }
        let rest = line[range.upperBound...].drop { $0 == " " }
        return Double(rest.prefix { "0123456789.-".contains($0) })
    }
}
