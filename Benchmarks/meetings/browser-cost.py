# Chromium's cost on a private Xvfb for a page: frames the page drew per second
# (window.__frames, counted by meeting.js), CPU-s/s of the browser's process group (/proc, reaped
# children included; by_type: its live processes by --type) and of Xvfb, over SECONDS after 5 s of warm-up;
# the group's RSS and PSS at the end.
#   python3 Benchmarks/meetings/browser-cost.py URL SECONDS [chromium flags...]
# SIZE=WxH (1920x1080), RAF_FPS=N limits requestAnimationFrame as
# BrowserLaunch.animationFrameRate does. The flags are PageBrowser's (as root:
# --no-sandbox); FLAGS=jibri gives Jibri's Chrome flags instead (capbench's
# JibriMeetings.jibriChromeFlags, from Jibri's reference.conf). Sound goes
# nowhere (PULSE_SERVER names no server). "window" is the largest mapped
# top-level window's size (xwininfo): what the browser draws. WM=icewm starts
# that window manager on the display first, as Jibri's host runs it (its deb:
# Xorg with the dummy driver, plus icewm): without one, Jibri's --kiosk and
# --start-maximized leave a 945x1060 window on a 1920x1080 screen.
import os, json, socket, subprocess, sys, tempfile, time
url, seconds, extra = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
TCK = os.sysconf("SC_CLK_TCK")
def group_cpu(pgid):
    total = 0.0; n = 0
    for e in os.listdir("/proc"):
        if not e.isdigit(): continue
        try: s = open(f"/proc/{e}/stat").read()
        except OSError: continue
        f = s[s.rindex(")") + 2:].split()
        if int(f[2]) == pgid: total += sum(int(x) for x in f[11:15]) / TCK; n += 1
    return total, n
def by_type(pgid):
    # CPU-s of the group's live processes by --type= (utility ones by sub-type; no type: the browser process).
    out = {}
    for e in os.listdir("/proc"):
        if not e.isdigit(): continue
        try: s = open(f"/proc/{e}/stat").read(); args = open(f"/proc/{e}/cmdline").read().replace("\0", " ").split()
        except OSError: continue
        f = s[s.rindex(")") + 2:].split()
        if int(f[2]) != pgid: continue
        kind = next((a[7:] for a in args if a.startswith("--type=")), "browser")
        kind = next((a[19:].split(".")[0] for a in args if a.startswith("--utility-sub-type=")), kind)
        out[kind] = out.get(kind, 0) + sum(int(x) for x in f[11:13]) / TCK
    return out
def memory_mb(pgid):
    # RSS and PSS (smaps_rollup) summed over the group's live processes, MB.
    rss = pss = 0
    for e in os.listdir("/proc"):
        if not e.isdigit(): continue
        try:
            s = open(f"/proc/{e}/stat").read(); f = s[s.rindex(")") + 2:].split()
            if int(f[2]) != pgid: continue
            for line in open(f"/proc/{e}/smaps_rollup"):
                if line.startswith("Rss:"): rss += int(line.split()[1])
                elif line.startswith("Pss:"): pss += int(line.split()[1])
        except OSError: continue
    return round(rss / 1000), round(pss / 1000)
def pid_cpu(pid):
    f = open(f"/proc/{pid}/stat").read(); f = f[f.rindex(")") + 2:].split()
    return sum(int(x) for x in f[11:13]) / TCK
size = os.environ.get("SIZE", "1920x1080")
import random
n = random.randint(150, 250); display = f":{n}"
xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", size + "x24", "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
for _ in range(100):
    if os.path.exists(f"/tmp/.X11-unix/X{n}"): break
    time.sleep(0.1)
wm = subprocess.Popen([os.environ["WM"]], env=dict(os.environ, DISPLAY=display), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if os.environ.get("WM") else None
if wm: time.sleep(1)
_d = [os.open("/dev/null", os.O_RDONLY) for _ in range(4)]
a, b = socket.socketpair()
os.dup2(b.fileno(), 3); os.dup2(b.fileno(), 4)
prof = tempfile.mkdtemp(prefix="chromium-profile-")
W, H = size.split("x")
jibri = ["--use-fake-ui-for-media-stream", "--start-maximized", "--kiosk", "--enabled", "--autoplay-policy=no-user-gesture-required"]
ours = ["--kiosk", f"--window-size={W},{H}", "--window-position=0,0",
 "--force-device-scale-factor=1", "--ozone-platform=x11", "--autoplay-policy=no-user-gesture-required", "--use-fake-ui-for-media-stream",
 "--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows", "--no-first-run",
 "--no-default-browser-check", "--disable-hang-monitor", "--noerrdialogs", "--disable-sync", "--disable-features=Translate,MediaRouter,OptimizationHints,DialMediaRouteProvider",
 "--disable-background-networking", "--disable-component-update", "--disable-breakpad", "--disable-crash-reporter", "--metrics-recording-only", "--password-store=basic",
 "--disable-gpu"]
flags = ["--remote-debugging-pipe", f"--user-data-dir={prof}", "--no-sandbox"] + (jibri if os.environ.get("FLAGS") == "jibri" else ours) + extra
p = subprocess.Popen(["chromium"] + flags + ["about:blank"], pass_fds=(3, 4), env=dict(os.environ, DISPLAY=display, PULSE_SERVER="unix:/nonexistent"), stderr=subprocess.DEVNULL, start_new_session=True)
os.close(3); os.close(4); b.close()
buf = b""; nid = [0]
def send(method, params={}, session=None):
    nid[0] += 1; m = {"id": nid[0], "method": method, "params": params}
    if session: m["sessionId"] = session
    a.sendall(json.dumps(m).encode() + b"\0"); return nid[0]
def until(pred):
    global buf
    while True:
        while b"\0" in buf:
            raw, buf = buf.split(b"\0", 1); m = json.loads(raw)
            if pred(m): return m
        d = a.recv(1 << 16)
        if not d: raise SystemExit("EOF")
        buf += d
def call(method, params={}, session=None):
    i = send(method, params, session); return until(lambda m: m.get("id") == i)
call("Browser.getVersion"); send("Target.setDiscoverTargets", {"discover": True})
tid = until(lambda m: m.get("method") == "Target.targetCreated" and m["params"]["targetInfo"]["type"] == "page")["params"]["targetInfo"]["targetId"]
s = call("Target.attachToTarget", {"targetId": tid, "flatten": True})["result"]["sessionId"]
call("Page.enable", {}, s)
if os.environ.get("RAF_FPS"):
    src = """(() => { const original = window.requestAnimationFrame.bind(window); const cancel = window.cancelAnimationFrame.bind(window);
      const interval = 1000 / %s; let last = -1e9; let nextId = 1; const live = new Map();
      window.requestAnimationFrame = (callback) => { const id = nextId++;
        const tick = (now) => { if (now - last >= interval - 4) { last = now; live.delete(id); callback(now); } else live.set(id, original(tick)); };
        live.set(id, original(tick)); return id; };
      window.cancelAnimationFrame = (id) => { const inner = live.get(id); if (inner !== undefined) { cancel(inner); live.delete(id); } };
    })();""" % os.environ["RAF_FPS"]
    call("Page.addScriptToEvaluateOnNewDocument", {"source": src}, s)
call("Page.navigate", {"url": url}, s); until(lambda m: m.get("method") == "Page.loadEventFired")
frames = lambda: call("Runtime.evaluate", {"expression": "window.__frames || 0", "returnByValue": True}, s)["result"]["result"]["value"]
time.sleep(5)
f0, (c0, n), x0, k0, t0 = frames(), group_cpu(p.pid), pid_cpu(xvfb.pid), by_type(p.pid), time.time()
time.sleep(seconds)
f1, (c1, n), x1, k1, t1 = frames(), group_cpu(p.pid), pid_cpu(xvfb.pid), by_type(p.pid), time.time()
dt = t1 - t0
def window():
    # The largest mapped top-level window (no window manager: the browser's own).
    tree = subprocess.run(["xwininfo", "-root", "-children"], env=dict(os.environ, DISPLAY=display), capture_output=True, text=True).stdout
    best = ""
    for line in tree.splitlines():
        part = line.strip().split()
        for token in part:
            if "x" in token and "+" in token:
                size_ = token.split("+")[0]
                try: w_, h_ = map(int, size_.split("x"))
                except ValueError: continue
                if not best or w_ * h_ > int(best.split("x")[0]) * int(best.split("x")[1]): best = size_
    return best
print(json.dumps({"flags": os.environ.get("FLAGS", "pagebrowser") + (" " + " ".join(extra) if extra else ""), "wm": os.environ.get("WM"), "window": window(), "raf_fps": os.environ.get("RAF_FPS"), "url": url.split("/")[-1], "size": size, "fps": round((f1 - f0) / dt, 1), "browser_cpu": round((c1 - c0) / dt, 3), "xvfb_cpu": round((x1 - x0) / dt, 3), "processes": n, "by_type": {k: round((v - k0.get(k, 0)) / dt, 3) for k, v in sorted(k1.items())}, "rss_pss_mb": memory_mb(p.pid), "load1": os.getloadavg()[0]}))
os.killpg(p.pid, 9); p.wait()
if wm: wm.kill(); wm.wait()
xvfb.kill(); xvfb.wait(); subprocess.run(["rm", "-rf", prof])
