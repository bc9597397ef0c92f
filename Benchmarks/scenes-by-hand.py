#!/usr/bin/env python3
"""capbench scenes' method by hand, for a machine so loaded that Jibri's ffmpeg cannot keep
real time (capbench gives up on it after seconds + 60): the scene runs on the bench's
Xvfb; per round two record-display binaries (alternating order) and, if asked, ffmpeg
with Jibri's recording arguments, allowed to run slow. CPU per recorded second = the
recorder's (wait4) + the Xvfb's above its rate for the scene alone (2 s just before).
One JSON line per recording.

  scripts/testbench --parts x11 -- Benchmarks/scenes-by-hand.py OLD NEW ROUNDS SECONDS SCENE FFMPEG(0|1)

SCENE: still (nothing drawn), ffplay (`ffplay -loop 0 slide.png`), repaint (capbench
scene --repaint: one slide drawn whole 25 times a second), fullmotion (capbench scene:
30 testsrc2 frames drawn in a loop at 30 fps), motion (ffplay playing testsrc2).
$CAPBENCH (default .build/release/capbench) draws the capbench scenes; files go to
$SCRATCH (default /tmp/scenes-by-hand)."""
import os, sys, time, json, subprocess
scratch = os.environ.get("SCRATCH", "/tmp/scenes-by-hand"); os.makedirs(scratch, exist_ok=True)
capbench = os.environ.get("CAPBENCH", ".build/release/capbench")
def made(name, *lavfi):
    path = f"{scratch}/{name}"
    if not os.path.exists(path):
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", *lavfi, path], check=True)
    return path
disp = os.environ["DISPLAY"]; xpid = int(os.environ["BENCH_XVFB_PID"])
base, new = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]); seconds = int(sys.argv[4]); scene = sys.argv[5]; with_ffmpeg = sys.argv[6] == "1"
tick = os.sysconf("SC_CLK_TCK")
def xcpu():
    f = open(f"/proc/{xpid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
def run(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(f"{scratch}/last.log", "w"))
    _, status, ru = os.wait4(p.pid, 0)
    return status, ru.ru_utime + ru.ru_stime
def measure(cmd):
    q0, t0 = xcpu(), time.time(); time.sleep(2); rate = (xcpu() - q0) / (time.time() - t0)
    s0, w0 = xcpu(), time.time()
    status, cpu = run(cmd)
    wall = time.time() - w0
    server = max(0.0, xcpu() - s0 - rate * wall)
    return status, cpu, server, wall
def ours(binary):
    stats = f"{scratch}/stats.json"
    cmd = [binary, "--display", disp, "--region", "1920x1080+0+0", "--fps", "30", "--no-audio", "--preset", "ultrafast",
           "--crf", "25", "--profile", "main", "--gop", "60", "--duration", str(seconds), "--output", f"{scratch}/o.mp4",
           "--overwrite", "--stats-json", stats]
    status, cpu, server, wall = measure(cmd)
    st = json.load(open(stats)) if os.path.exists(stats) else {}
    def find(d, k):
        if isinstance(d, dict):
            for kk, v in d.items():
                if kk == k: return v
                r = find(v, k)
                if r is not None: return r
        return None
    media = find(st, "mediaSeconds") or seconds
    return dict(status=status, recorder=cpu / media, server=server / media, total=(cpu + server) / media, wall=wall,
                frames=find(st, "framesEncoded"), unchanged=find(st, "framesUnchanged"), skips=find(st, "skipPictures"))
def ffmpeg():
    cmd = ["ffmpeg", "-nostdin", "-y", "-v", "info", "-f", "x11grab", "-draw_mouse", "0", "-r", "30", "-s", "1920x1080",
           "-thread_queue_size", "4096", "-i", disp + "+0,0", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "30", "-crf", "25",
           "-preset", "ultrafast", "-profile:v", "main", "-g", "60", "-t", str(seconds), "-f", "mp4", f"{scratch}/f.mp4"]
    status, cpu, server, wall = measure(cmd)
    return dict(status=status, recorder=cpu / seconds, server=server / seconds, total=(cpu + server) / seconds, wall=wall)
if scene == "still":
    player = subprocess.Popen(["sleep", "100000"])
elif scene == "ffplay":
    player = subprocess.Popen(["ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0", "-top", "0", "-loop", "0",
                               made("slide.png", "testsrc=size=1920x1080:rate=1", "-frames:v", "1")], env=dict(os.environ, SDL_AUDIODRIVER="dummy"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
elif scene == "repaint":  # capbench's own: one still slide drawn whole 25 times a second
    player = subprocess.Popen([capbench, "scene", "--display", disp, "--size", "1920x1080", "--fps", "25",
                               "--frames", made("slides.bgr0", "testsrc=size=1920x1080:rate=1", "-frames:v", "4", "-f", "rawvideo", "-pix_fmt", "bgr0"), "--hold-seconds", "1000000", "--repaint"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
elif scene == "fullmotion":  # capbench's motion scene: 30 testsrc2 frames drawn whole, 30 a second
    player = subprocess.Popen([capbench, "scene", "--display", disp, "--size", "1920x1080", "--fps", "30",
                               "--frames", made("motion.bgr0", "testsrc2=size=1920x1080:rate=30", "-frames:v", "30", "-f", "rawvideo", "-pix_fmt", "bgr0")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
else:  # motion: testsrc2 moving at 1080p
    player = subprocess.Popen(["ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0", "-top", "0", "-f", "lavfi",
                               "-i", "testsrc2=size=1920x1080:rate=30"], env=dict(os.environ, SDL_AUDIODRIVER="dummy"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(3)
for r in range(rounds):
    for name, b in (("base", base), ("new", new)) if r % 2 == 0 else (("new", new), ("base", base)):
        res = ours(b); res.update(name=name, round=r + 1, load=os.getloadavg()[0]); print(json.dumps(res), flush=True)
    if with_ffmpeg:
        res = ffmpeg(); res.update(name="ffmpeg", round=r + 1, load=os.getloadavg()[0]); print(json.dumps(res), flush=True)
player.terminate()
