#!/usr/bin/env bash
# The recorded tone's pitch, two record-display builds in turn (sound alone).
#
#   scripts/testbench --parts audio -- Benchmarks/tone-pitch-ab.sh A_BINARY B_BINARY [ROUNDS]
#
# Plays a 440 Hz tone into the bench's sink and records it 4 s at a time with
# each binary in turn, ROUNDS times (10). Prints per recording: which binary,
# ok/FAIL by the tests' check (the median of the 0.5 s blocks from 0.5 s to
# 3.5 s within 1 Hz, RecordedOutputChecks.soundAloneProblems), the median,
# each block's frequency in order, and the load average. Files in $BENCH_DIR.
set -u
[[ $# -ge 2 ]] || { sed -n '2,10p' "$0"; exit 2; }
a="$1" b="$2" rounds="${3:-10}"
sox -n -r 48000 -c 2 -b 16 "$BENCH_DIR/tone.wav" synth $((rounds * 20 + 10)) sine 440 vol 0.5
aplay -q -D "$BENCH_PLAYBACK_PCM" "$BENCH_DIR/tone.wav" 2>/dev/null & player=$!
trap 'kill $player 2>/dev/null; wait $player 2>/dev/null' EXIT
sleep 1
for round in $(seq "$rounds"); do
    for binary in "$a" "$b"; do
        file="$BENCH_DIR/tone-$round-$(basename "$binary").m4a"
        env -u DISPLAY "$binary" --no-video --audio-device "$BENCH_CAPTURE_PCM" --duration 4 --output "$file" 2>/dev/null
        python3 - "$file" "$binary" <<'PY'
import os, subprocess, sys
import numpy as np
path, name, rate = sys.argv[1], sys.argv[2], 44100
raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-ss", "0.5", "-t", "3", "-ac", "1", "-ar", str(rate),
                      "-f", "f64le", "-"], capture_output=True, check=True).stdout
x = np.frombuffer(raw, dtype=np.float64)
def frequency(s):
    i = np.nonzero((s[:-1] < 0) & (s[1:] >= 0))[0]
    c = i + (-s[i] / (s[i + 1] - s[i]))
    return rate / ((c[-1] - c[0]) / (len(c) - 1)) if len(c) >= 3 else 0
n = rate // 2
blocks = [frequency(x[k:k + n]) for k in range(0, len(x) - n + 1, n)]
median = sorted(blocks)[len(blocks) // 2]
print(name, "FAIL" if abs(median - 440) >= 1 else "ok  ", "median %.2f" % median,
      "blocks", " ".join("%.2f" % f for f in blocks), "load %.1f" % os.getloadavg()[0], flush=True)
PY
    done
done
