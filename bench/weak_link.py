"""Calls on a weak rural link, with stepping down on and off, side by side.

One Chromium inside a network namespace behind a veth pair limited with tbf (150 kbit/s each
way, burst 1600, 400 ms of queue), the other in the root namespace; a call between them for
a minute on the limited link, once with stepping down (the default) and once with
``?steps=off``. Printed: seconds of frozen remote video and of silent remote audio per minute
and of concealed audio (decoder filling in for lost or late packets) per minute, the median
round trip (as the root-namespace side receives them), the time to step down to audio only,
and the times to video and to full video after the limit is lifted.

The measurement is tests/e2e/test_call_weak_link.py::test_weak_link_figures (it reuses the
test's app, database and browsers); this script runs it and prints the figures. Needs root
(network namespaces) and Chromium.

    .venv/bin/python bench/weak_link.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "WEAK-LINK-FIGURES "


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="time on the limited link")
    args = parser.parse_args()
    env = {
        **os.environ,
        "TELECONSULT_WEAK_LINK_BENCH": "1",
        "TELECONSULT_WEAK_LINK_SECONDS": str(args.seconds),
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "--timeout",
        str(int(args.seconds * 2 + 240)),
        "tests/e2e/test_call_weak_link.py::test_weak_link_figures",
    ]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [line for line in run.stdout.splitlines() if MARK in line]
    if not lines:
        print(run.stdout[-4000:], run.stderr[-2000:], sep="\n")
        print("no figures: the measurement was skipped or failed (see above)", file=sys.stderr)
        return 1
    figures = json.loads(lines[-1].split(MARK, 1)[1])
    rows = [
        ("frozen remote video, s/min", "frozen_video_s_per_min"),
        ("silent remote audio, s/min", "silent_audio_s_per_min"),
        ("concealed remote audio, s/min", "concealed_audio_s_per_min"),
        ("median round trip, ms", "median_rtt_ms"),
        ("time to audio only, s", "seconds_to_audio_only"),
        ("video again after lifting, s", "seconds_to_video_after_lifting"),
        ("full video again after lifting, s", "seconds_back_to_full_video"),
    ]
    print(f"150 kbit/s each way (tbf, burst 1600, 400 ms), {args.seconds:g} s on the link")
    print(f"{'':38}{'stepping on':>14}{'stepping off':>14}")
    for label, key in rows:
        on, off = figures["on"].get(key), figures["off"].get(key)
        show = lambda v: "—" if v is None else f"{v:g}"  # noqa: E731
        print(f"{label:38}{show(on):>14}{show(off):>14}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
