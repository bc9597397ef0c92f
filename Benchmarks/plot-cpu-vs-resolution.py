#!/usr/bin/env python3
"""Plots CPU per recorded second against resolution from `capbench resolution-sweep` JSON.

    Benchmarks/plot-cpu-vs-resolution.py docs/benchmarks/resolution-sweep.json [docs/benchmarks/scenes.json]
        [-o docs/cpu-vs-resolution.png]

Several JSON files may be given (e.g. one run per screen size); their sizes are merged.
A `capbench scenes` report among them adds a second panel: CPU per recorded second by
scene (still slide, slides, small video tile, full motion) for ffmpeg, the engine with
full grabs and the engine following DAMAGE.
Needs matplotlib (pip install matplotlib).
"""
import argparse
import json
import re

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt

FIGURE = re.compile(r"^(\d+)x(\d+) CPU per recorded second, (recorder \+ X server|recorder alone)$")
SCENE = re.compile(r"^(\w+): (full grabs, )?CPU per recorded second, recorder \+ X server$")


def load_scenes(paths):
    """{scene: {"damage": ours, "full": ours, "ffmpeg": peer}} from `capbench scenes` reports, in order."""
    scenes = {}
    for path in paths:
        with open(path) as handle:
            report = json.load(handle)
        if report.get("benchmark") != "scenes":
            continue
        for figure in report["figures"]:
            match = SCENE.match(figure["name"])
            if match:
                entry = scenes.setdefault(match.group(1), {})
                entry["full" if match.group(2) else "damage"] = figure["ours"]
                if figure.get("peer") is not None:
                    entry["ffmpeg"] = figure["peer"]
    return scenes


def plot_scenes(axis, scenes):
    names = list(scenes)
    width = 0.27
    bars = [("ffmpeg", "ffmpeg (Jibri's command)", "tab:red"), ("full", "engine, full grabs", "tab:gray"),
            ("damage", "engine, DAMAGE (default)", "tab:blue")]
    for offset, (key, label, colour) in enumerate(bars):
        xs = [index + (offset - 1) * width for index in range(len(names))]
        values = [scenes[name].get(key, 0) for name in names]
        axis.bar(xs, values, width, label=label, color=colour)
        for x, y in zip(xs, values):
            axis.annotate(f"{y:.3f}" if y < 0.1 else f"{y:.2f}", (x, y), textcoords="offset points", xytext=(0, 3),
                          ha="center", fontsize=7, color=colour)
    axis.set_xticks(range(len(names)))
    axis.set_xticklabels(names)
    axis.set_xlabel("scene (1080p30, ultrafast crf 25, no sound)")
    axis.set_ylabel("CPU seconds per recorded second")
    axis.grid(alpha=0.3, axis="y")
    axis.set_ylim(bottom=0, top=axis.get_ylim()[1] * 1.25)
    axis.legend(fontsize=8, loc="upper center", ncol=3)
    axis.set_title("What the screen's changes cost (capbench scenes)", fontsize=9)


def load(paths):
    """{(width, height): {"total"|"alone": (ours, peer)}} and the reports' dates."""
    points, dates = {}, []
    for path in paths:
        with open(path) as handle:
            report = json.load(handle)
        if report.get("benchmark") == "scenes":
            continue
        if report.get("benchmark") != "resolution-sweep":
            raise SystemExit(f"{path}: not a resolution-sweep or scenes report")
        dates.append(report.get("date", "?"))
        for figure in report["figures"]:
            match = FIGURE.match(figure["name"])
            if match and figure.get("peer") is not None:
                kind = "total" if match.group(3).startswith("recorder +") else "alone"
                size = (int(match.group(1)), int(match.group(2)))
                points.setdefault(size, {})[kind] = (figure["ours"], figure["peer"])
    if not points:
        raise SystemExit("no CPU figures found")
    return points, dates, report.get("machine", "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="+")
    parser.add_argument("-o", "--output", default="docs/cpu-vs-resolution.png")
    arguments = parser.parse_args()
    points, dates, machine = load(arguments.json)
    sizes = sorted(points, key=lambda size: size[0] * size[1])
    megapixels = [w * h / 1e6 for w, h in sizes]

    scenes = load_scenes(arguments.json)
    if scenes:
        fig, (axis, scene_axis) = plt.subplots(1, 2, figsize=(13, 4.5), dpi=120, gridspec_kw={"width_ratios": [7, 6]})
        plot_scenes(scene_axis, scenes)
    else:
        fig, axis = plt.subplots(figsize=(7, 4.5), dpi=120)
    series = [
        ("total", 0, "engine (record-display) + X server", "tab:blue", "-"),
        ("total", 1, "ffmpeg (Jibri's command) + X server", "tab:red", "-"),
        ("alone", 0, "engine alone", "tab:blue", ":"),
        ("alone", 1, "ffmpeg alone", "tab:red", ":"),
    ]
    for kind, side, label, colour, style in series:
        values = [points[size].get(kind, (None, None))[side] for size in sizes]
        axis.plot(megapixels, values, style, marker="o", color=colour, label=label)
        if kind == "total":
            for x, y in zip(megapixels, values):
                # The engine's labels up and left of its points, ffmpeg's above:
                # clear of each other and of the dotted lines below.
                axis.annotate(f"{y:.2f}", (x, y), textcoords="offset points", xytext=(-6, 6) if side == 0 else (0, 6),
                              ha="right" if side == 0 else "center", fontsize=8, color=colour)
    axis.margins(x=0.12)
    axis.set_xticks(megapixels)
    axis.set_xticklabels([f"{w}x{h}" for w, h in sizes])
    axis.set_xlabel("recorded size (30 fps, x264 ultrafast crf 25, AAC 128k)")
    axis.set_ylabel("CPU seconds per recorded second")
    axis.set_ylim(bottom=0, top=axis.get_ylim()[1] * 1.08)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="upper left")
    axis.set_title(f"Whole-pipeline CPU by resolution\n{machine}; {', '.join(sorted(set(dates)))}", fontsize=9)
    fig.tight_layout()
    fig.savefig(arguments.output)
    print(f"wrote {arguments.output}")


if __name__ == "__main__":
    main()
