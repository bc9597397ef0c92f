#!/bin/sh
# Makes tile.webm, the meeting pages' looping tile video: 2 s of ffmpeg's
# testsrc2 at 640x360, 30 fps, VP8 at 400 kbit/s, no sound (one keyframe,
# 60 frames, about 100 KB). libvpx's threads make the bytes differ from run
# to run (by about 1 %); the kind of file does not. The committed file was
# made with Debian 12's ffmpeg 5.1 (Lavf59.27, Lavc59.37 libvpx).
# Usage: Benchmarks/meetings/make-tile.sh [OUTPUT]  (default: tile.webm beside this script)
set -eu
output=${1:-"$(dirname "$0")/tile.webm"}
exec ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=640x360:rate=30:duration=2 \
    -c:v libvpx -b:v 400k -an "$output"
