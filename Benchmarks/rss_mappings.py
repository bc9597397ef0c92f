#!/usr/bin/env python3
"""A process's resident memory by kind of mapping, from /proc/PID/smaps.

  python3 Benchmarks/rss_mappings.py PID [--every SECONDS] [--for SECONDS]

Kinds: the main heap (`[heap]`, brk), glibc's per-thread malloc arenas
(anonymous regions starting on a 64 MB boundary, at most 64 MB: each arena
reserves one such region and grows inside it), other anonymous memory (large
malloc blocks are their own mmaps, rings, pools, thread stacks of libraries),
thread stacks, System V shared memory (MIT-SHM segments), files. Used by
`recorderd-memory.py` and, sampling a running `capbench soak`, to see where a
growing RSS lives (issue 21, items 6 and 8).
"""
import argparse, re, sys, time

ARENA = 64 << 20
HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) ")


def mappings(pid):
    """(RSS in bytes by kind, number of arena regions)."""
    kinds = {"heap": 0, "arenas": 0, "anonymous": 0, "stacks": 0, "shm": 0, "files": 0}
    arena_count = 0
    current = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            match = HEADER.match(line)
            if match:
                start, end = int(match.group(1), 16), int(match.group(2), 16)
                fields = line.split()
                name = fields[5] if len(fields) > 5 else ""
                if name == "[heap]":
                    current = "heap"
                elif name.startswith("[stack"):
                    current = "stacks"
                elif name.startswith("/SYSV"):
                    current = "shm"
                elif name == "" and start % ARENA == 0 and end - start <= ARENA:
                    current = "arenas"
                    arena_count += 1
                elif name == "":
                    current = "anonymous"
                else:
                    current = "files"
            elif line.startswith("Rss:") and current:
                kinds[current] += int(line.split()[1]) * 1024
    return kinds, arena_count


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def line(pid):
    kinds, arenas = mappings(pid)
    return (f"RSS {rss(pid) / 1e6:6.1f} MB (heap {kinds['heap'] / 1e6:5.1f}, {arenas} arenas {kinds['arenas'] / 1e6:5.1f}, "
            f"other anonymous {kinds['anonymous'] / 1e6:5.1f}, shm {kinds['shm'] / 1e6:5.1f}, files {kinds['files'] / 1e6:5.1f})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pid", type=int)
    parser.add_argument("--every", type=float, default=30)
    parser.add_argument("--for", dest="duration", type=float, default=0, help="0: until the process ends")
    options = parser.parse_args()
    started = time.time()
    while True:
        try:
            print(f"{time.time() - started:7.0f} s: {line(options.pid)}", flush=True)
        except (FileNotFoundError, ProcessLookupError):
            return 0
        if options.duration and time.time() - started >= options.duration:
            return 0
        time.sleep(options.every)


if __name__ == "__main__":
    sys.exit(main())
