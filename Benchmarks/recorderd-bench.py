#!/usr/bin/env python3
"""recorderd's performance figures (issue 13), on the test bench:

  scripts/testbench --parts audio -- python3 Benchmarks/recorderd-bench.py [--recordings 3] [--seconds 20] [--json FILE]

1. N real-time 720p30 recordings held by one recorderd, against N ffmpeg
   processes running Jibri's recording command (x11grab + ALSA, libx264
   ultrafast crf 25 main, AAC 128k 44.1 kHz), same displays, same PCMs, same
   moving scenes and tones, same run, one after the other. CPU is the
   recorder's process(es) plus the X servers, per second of media.
2. Daemon overhead: recorderd's CPU and memory with 0 and with N recordings,
   minus the sessions' own CPU (each session's threads, as the API reports
   it); GET /v1/recordings latency (p50, p99) while N recordings run.
3. Memory per added recording at 720p and at 1080p: the daemon's RSS after
   each recording is added, the slope over 1..N.

Each display is an Xvfb of its own showing ffplay's testsrc2 (moving, with a
clock); each PCM the monitor of a null sink of the bench's PulseAudio with a
tone playing into it.
"""
import argparse, json, os, re, resource, signal, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Scene:
    """An Xvfb with a moving pattern, and a null sink with a tone."""

    def __init__(self, index, width, height, scratch, server):
        read, write = os.pipe()
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
                                      "-nolisten", "tcp", "-noreset", "+extension", "MIT-SHM", "-shmem"],
                                     pass_fds=[write], stdout=subprocess.DEVNULL,
                                     stderr=open(f"{scratch}/xvfb{index}.log", "w"))
        os.close(write)
        self.display = ":" + os.read(read, 32).decode().strip()
        # Xvfb only detaches its -shmem segment when it exits: marked for removal now.
        with open("/proc/sysvipc/shm") as table:
            for line in list(table)[1:]:
                fields = line.split()
                if int(fields[4]) == self.xvfb.pid:
                    subprocess.run(["ipcrm", "-m", fields[1]], check=False)
        # Kept open: Xvfb writes the number again later and dies of a closed pipe.
        self.displayfd = read
        env = dict(os.environ, DISPLAY=self.display, SDL_AUDIODRIVER="dummy")
        self.player = subprocess.Popen(["ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0", "-top", "0",
                                        "-f", "lavfi", f"testsrc2=size={width}x{height}:rate=30"], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.sink = f"rdbench{index}"
        self.module = subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={self.sink}", "rate=48000",
                                      "channels=2"], capture_output=True, text=True, check=True).stdout.strip()
        self.pcm = f"{self.sink}_capture"
        tone = f"{scratch}/tone{index}.wav"
        subprocess.run(["sox", "-n", "-r", "48000", "-c", "2", "-b", "16", tone, "synth", "600", "sine",
                        str(440 + 110 * index), "vol", "0.5"], check=True)
        self.tone = subprocess.Popen(["aplay", "-q", "-D", f"{self.sink}_playback", tone],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def alsa(self, server):
        return (f'pcm.{self.sink}_capture {{ type pulse; device "{self.sink}.monitor"; server "{server}" }}\n'
                f'pcm.{self.sink}_playback {{ type pulse; device "{self.sink}"; server "{server}" }}\n')

    def close(self):
        for process in (self.tone, self.player, self.xvfb):
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(["pactl", "unload-module", self.module], capture_output=True)
        os.close(self.displayfd)


def make_scenes(count, width, height, scratch):
    server = os.environ.get("PULSE_SERVER", "")
    scenes = []
    for index in range(count):
        scenes.append(Scene(index, width, height, scratch, server))
    conf = f"{scratch}/asound-{width}.conf"
    with open(conf, "w") as f:
        f.write("".join(s.alsa(server) for s in scenes))
    os.environ["ALSA_CONFIG_PATH"] = os.environ.get("BASE_ALSA", "/usr/share/alsa/alsa.conf") + ":" + conf
    time.sleep(2)  # ffplay maps its window
    return scenes


class Daemon:
    def __init__(self, binary, scratch):
        self.dir = tempfile.mkdtemp(dir=scratch)
        os.makedirs(f"{self.dir}/rec")
        ready = f"{self.dir}/ready"
        self.process = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--recordings-dir", f"{self.dir}/rec",
                                         "--ready-file", ready, "--log-level", "warning", "--cpu-share", "4"],
                                        stderr=open(f"{self.dir}/log", "w"))
        for _ in range(600):
            if os.path.exists(ready) and open(ready).read():
                break
            time.sleep(0.05)
        self.base = "http://" + open(ready).read()

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def start(self, display, pcm, width, height, name):
        status, view = self.call("POST", "/v1/recordings", {
            "display": display, "region": f"{width}x{height}+0+0", "fps": 30, "audioDevice": pcm,
            "video": {"preset": "ultrafast", "crf": 25, "profile": "main", "gop": 60},
            "audio": {"rate": 44100, "bitrate": "128k"}, "file": f"{name}.mp4",
            "noMedia": {"silenceSeconds": None, "frozenSeconds": None}})
        assert status == 201 and view["state"] == "recording", (status, view)
        return view["id"]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(120)


def sessions_cpu(daemon):
    _, listed = daemon.call("GET", "/v1/recordings")
    return sum(r["statistics"]["cpuSeconds"] for r in listed["recordings"]), listed["recordings"]


def engine_run(binary, scenes, seconds, scratch, width, height):
    daemon = Daemon(binary, scratch)
    pid = daemon.process.pid
    time.sleep(3)
    idle_cpu0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(5)
    idle = {"cpuPerSecond": (cpu_seconds(pid) - idle_cpu0) / (time.monotonic() - t0), "rssBytes": rss_bytes(pid)}
    ids = [daemon.start(s.display, s.pcm, width, height, f"engine{i}") for i, s in enumerate(scenes)]
    time.sleep(2)  # past the start (x264 threads settle)
    x0 = [cpu_seconds(s.xvfb.pid) for s in scenes]
    d0, s0 = cpu_seconds(pid), sessions_cpu(daemon)[0]
    t0 = time.monotonic()
    latencies = []
    while time.monotonic() - t0 < seconds:
        started = time.monotonic()
        daemon.call("GET", "/v1/recordings")
        latencies.append(time.monotonic() - started)
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    d1, (s1, views) = cpu_seconds(pid), sessions_cpu(daemon)
    x1 = [cpu_seconds(s.xvfb.pid) for s in scenes]
    rss = rss_bytes(pid)
    for rid in ids:
        daemon.call("POST", f"/v1/recordings/{rid}/stop")
    _, listed = daemon.call("GET", "/v1/recordings")
    dropped = sum(r["statistics"]["framesDropped"] + r["statistics"]["framesDuplicated"] for r in listed["recordings"])
    frames = sum(r["statistics"]["framesEncoded"] for r in listed["recordings"])
    daemon.stop()
    latencies.sort()
    return {
        "idle": idle,
        "recorderCPUPerSecond": (d1 - d0) / elapsed,
        "xServersCPUPerSecond": (sum(x1) - sum(x0)) / elapsed,
        "sessionsCPUPerSecond": (s1 - s0) / elapsed,
        "daemonOverheadCPUPerSecond": ((d1 - d0) - (s1 - s0)) / elapsed,
        "rssBytes": rss,
        "framesEncoded": frames, "framesDroppedOrDuplicated": dropped,
        "listLatencySeconds": {"p50": latencies[len(latencies) // 2],
                               "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
                               "count": len(latencies)},
    }


def ffmpeg_run(scenes, seconds, scratch, width, height):
    """Jibri's recording command (its 1080p default, at 720p), one process per display."""
    processes = []
    x0 = [cpu_seconds(s.xvfb.pid) for s in scenes]
    t0 = time.monotonic()
    for index, scene in enumerate(scenes):
        command = ["ffmpeg", "-y", "-v", "info", "-nostats", "-f", "x11grab", "-draw_mouse", "0", "-r", "30", "-s", f"{width}x{height}",
                   "-thread_queue_size", "4096", "-i", f"{scene.display}.0+0,0", "-f", "alsa", "-thread_queue_size", "4096",
                   "-i", scene.pcm, "-acodec", "aac", "-strict", "-2", "-ar", "44100", "-b:a", "128k",
                   "-af", "aresample=async=1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "30", "-crf", "25",
                   "-preset", "ultrafast", "-profile:v", "main", "-level", "3.1", "-t", str(seconds),
                   "-f", "mp4", f"{scratch}/ffmpeg{index}.mp4"]
        processes.append(subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                          stderr=open(f"{scratch}/ffmpeg{index}.log", "w")))
    cpu, peak = 0.0, 0
    for process in processes:
        _, _, usage = os.wait4(process.pid, 0)
        cpu += usage.ru_utime + usage.ru_stime
        peak += usage.ru_maxrss * 1024
    elapsed = time.monotonic() - t0
    x1 = [cpu_seconds(s.xvfb.pid) for s in scenes]
    frames, duplicated, dropped = 0, 0, 0
    for index in range(len(scenes)):
        # ffmpeg's last progress line (printed at the end even with -nostats): dup= and drop=.
        log = open(f"{scratch}/ffmpeg{index}.log").read()
        dups, drops = re.findall(r"dup=\s*(\d+)", log), re.findall(r"drop=\s*(\d+)", log)
        duplicated += int(dups[-1]) if dups else 0
        dropped += int(drops[-1]) if drops else 0
        out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v", "-show_entries",
                              "stream=nb_read_frames", "-of", "csv=p=0", f"{scratch}/ffmpeg{index}.mp4"],
                             capture_output=True, text=True).stdout.strip()
        frames += int(out or 0)
    return {"recorderCPUPerSecond": cpu / seconds, "xServersCPUPerSecond": (sum(x1) - sum(x0)) / elapsed,
            "peakRSSBytesSum": peak, "framesEncoded": frames, "framesExpected": 30 * seconds * len(scenes),
            "framesDuplicated": duplicated, "framesDropped": dropped}


def memory_per_recording(binary, scenes, scratch, width, height):
    daemon = Daemon(binary, scratch)
    pid = daemon.process.pid
    time.sleep(2)
    points = [rss_bytes(pid)]
    for index, scene in enumerate(scenes):
        daemon.start(scene.display, scene.pcm, width, height, f"mem{width}-{index}")
        time.sleep(6)
        points.append(rss_bytes(pid))
    daemon.stop()
    steps = [b - a for a, b in zip(points, points[1:])]
    return {"rssBytes": points, "perRecordingBytes": statistics.mean(steps)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recordings", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--binary", default=None)
    parser.add_argument("--json")
    options = parser.parse_args()
    binary = options.binary or next((p for p in (f"{ROOT}/.build/release/recorderd", f"{ROOT}/.build/debug/recorderd")
                                     if os.path.exists(p)), None)
    os.environ.pop("XAUTHORITY", None)
    os.environ["BASE_ALSA"] = os.environ.get("ALSA_CONFIG_PATH", "/usr/share/alsa/alsa.conf")
    scratch = tempfile.mkdtemp(dir=os.environ.get("BENCH_DIR"))
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    result = {"binary": binary, "recordings": options.recordings, "seconds": options.seconds,
              "machine": f"{os.cpu_count()} cores", "loadBefore": load_before}
    scenes = make_scenes(options.recordings, 1280, 720, scratch)
    try:
        result["engine720p"] = engine_run(binary, scenes, options.seconds, scratch, 1280, 720)
        result["ffmpeg720p"] = ffmpeg_run(scenes, options.seconds, scratch, 1280, 720)
        result["memory720p"] = memory_per_recording(binary, scenes, scratch, 1280, 720)
    finally:
        for scene in scenes:
            scene.close()
    scenes = make_scenes(options.recordings, 1920, 1080, scratch)
    try:
        result["memory1080p"] = memory_per_recording(binary, scenes, scratch, 1920, 1080)
    finally:
        for scene in scenes:
            scene.close()
    with open("/proc/loadavg") as f:
        result["loadAfter"] = f.read().split()[:3]
    e, f = result["engine720p"], result["ffmpeg720p"]
    n = options.recordings
    lines = [
        f"recorderd bench: {n} x 1280x720@30 ultrafast crf 25 + AAC 128k, {options.seconds} s, {result['machine']}, "
        f"load {' '.join(load_before)} before, {' '.join(result['loadAfter'])} after",
        f"  recorder CPU-s/s (X servers apart): recorderd {e['recorderCPUPerSecond']:.3f}, {n} ffmpeg {f['recorderCPUPerSecond']:.3f}, "
        f"ratio {e['recorderCPUPerSecond'] / f['recorderCPUPerSecond']:.2f}",
        f"  with the X servers: recorderd {e['recorderCPUPerSecond'] + e['xServersCPUPerSecond']:.3f}, "
        f"ffmpeg {f['recorderCPUPerSecond'] + f['xServersCPUPerSecond']:.3f}",
        f"  held: recorderd {e['framesEncoded']} frames, {e['framesDroppedOrDuplicated']} dropped or duplicated; "
        f"ffmpeg {f['framesEncoded']} frames, {f['framesDuplicated']} duplicated, {f['framesDropped']} dropped (its own count)",
        f"  memory: recorderd {e['rssBytes'] / 1e6:.0f} MB RSS with {n}; ffmpeg peak RSS summed {f['peakRSSBytesSum'] / 1e6:.0f} MB",
        f"  daemon overhead: idle {e['idle']['cpuPerSecond']:.4f} CPU-s/s, {e['idle']['rssBytes'] / 1e6:.1f} MB; "
        f"with {n}: {e['daemonOverheadCPUPerSecond']:.4f} CPU-s/s beyond the sessions' own ({e['sessionsCPUPerSecond']:.3f})",
        f"  GET /v1/recordings with {n} running: p50 {e['listLatencySeconds']['p50'] * 1e3:.1f} ms, "
        f"p99 {e['listLatencySeconds']['p99'] * 1e3:.1f} ms ({e['listLatencySeconds']['count']} requests)",
        f"  memory per added recording: 720p {result['memory720p']['perRecordingBytes'] / 1e6:.1f} MB, "
        f"1080p {result['memory1080p']['perRecordingBytes'] / 1e6:.1f} MB",
    ]
    print("\n".join(lines))
    result["summary"] = lines
    if options.json:
        with open(options.json, "w") as out:
            json.dump(result, out, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
