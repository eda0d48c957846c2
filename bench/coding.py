"""ICD-10 coding help: how often the right code is among the suggestions, and how fast.

Reads short teleconsultation notes with their correct codes from ``bench/data/`` and asks
the index (``teleconsult.coding``, the one the endpoint uses) for its five suggestions:

- ``coding_notes.json`` — the measured set (at least 20 notes in each of Kazakh, Russian and
  English). The index was never tuned on these notes.
- ``coding_tuning.json`` — the notes the index's weights and synonyms were tuned on; shown
  separately with ``--tuning``.

A note's codes are the acceptable answers; a three-character category ("I48") accepts any of
its subdivisions. A note is a top-1 hit when the first suggestion is acceptable, top-3 when
one of the first three is. Prints top-1 and top-3 per language and overall, the time to build
the index once, and the median and worst time per suggestion (each note suggested
``ROUNDS`` times). Bar: top-3 ≥ 70% overall and ≥ 60% in each language, < 200 ms a
suggestion. Exits 1 when the bar is not met. ``--misses`` lists the notes missed at top 3.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from teleconsult.coding.index import build_index

DATA = Path(__file__).parent / "data"
ROUNDS = 20
BAR_OVERALL = 0.70
BAR_LANGUAGE = 0.60
BAR_MS = 200.0


def acceptable(code: str, answers: list[str]) -> bool:
    return any(code == a or (len(a) == 3 and code.split(".")[0] == a) for a in answers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuning", action="store_true", help="measure the tuning set instead")
    parser.add_argument("--misses", action="store_true", help="list the notes missed at top 3")
    args = parser.parse_args()
    name = "coding_tuning.json" if args.tuning else "coding_notes.json"
    notes: list[dict[str, Any]] = json.loads((DATA / name).read_text(encoding="utf-8"))["notes"]

    started = time.perf_counter()
    index = build_index()
    build_s = time.perf_counter() - started

    hits: dict[str, list[tuple[bool, bool]]] = {}
    times: list[float] = []
    misses = []
    for note in notes:
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            found = index.suggest(note["text"])
            times.append((time.perf_counter() - t0) * 1000)
        codes = [s.code for s in found]
        top1 = bool(codes) and acceptable(codes[0], note["codes"])
        top3 = any(acceptable(c, note["codes"]) for c in codes[:3])
        hits.setdefault(note["language"], []).append((top1, top3))
        if not top3:
            misses.append((note, codes))

    console = Console()
    table = Table(title=f"ICD-10 suggestions on {name} ({len(notes)} notes)")
    for column in ("language", "notes", "top-1", "top-3"):
        table.add_column(column, justify="right")
    rows = sorted(hits.items())
    everything = [h for _, hs in rows for h in hs]
    for language, hs in [*rows, ("all", everything)]:
        table.add_row(
            language,
            str(len(hs)),
            f"{sum(h[0] for h in hs) / len(hs):.0%}",
            f"{sum(h[1] for h in hs) / len(hs):.0%}",
        )
    console.print(table)
    median = statistics.median(times)
    worst = max(times)
    console.print(
        f"index built in {build_s * 1000:.0f} ms; per suggestion median {median:.2f} ms, "
        f"worst {worst:.2f} ms ({len(times)} suggestions)"
    )
    if args.misses:
        for note, codes in misses:
            console.print(f"[{note['language']}] {note['codes']} got {codes}: {note['text']}")

    top3 = sum(h[1] for h in everything) / len(everything)
    per_language = [sum(h[1] for h in hs) / len(hs) for _, hs in rows]
    met = top3 >= BAR_OVERALL and min(per_language) >= BAR_LANGUAGE and worst < BAR_MS
    console.print(
        f"bar (top-3 ≥ {BAR_OVERALL:.0%} overall, ≥ {BAR_LANGUAGE:.0%} per language, "
        f"< {BAR_MS:.0f} ms): {'met' if met else 'NOT met'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
