"""The tally of `make fuzz` runs as a Markdown table, one row per kind of input; the tallies of
several runs (rounds of a long fuzzing session) add up:

    python tests/fuzzing/tally.py fuzz-tally/*.json [round-2/*.json ...]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

COUNTS = ("inputs", "read", "input error", "other")
HEADER = (
    "| input | inputs | read | input errors | other | slowest call (s) "
    "| largest RSS growth in a call (MB) | process peak RSS (MB) |"
)


def merged(paths: list[Path]) -> dict[str, dict[str, float]]:
    """Counts summed, the slowest call and the largest memory taken over every run."""
    total: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for path in paths:
        tally = json.loads(path.read_text())
        peak = tally.pop("process", {}).get("peak_rss_mb", 0.0)
        for kind, counts in tally.items():
            row = total[kind]
            for key in COUNTS:
                row[key] += counts.get(key, 0)
            for key in ("seconds", "rss_mb"):
                row[key] = max(row[key], counts[key])
            row["peak"] = max(row["peak"], peak)
    return total


def table(paths: list[Path]) -> str:
    rows = [
        f"| {kind} | {c['inputs']:.0f} | {c['read']:.0f} | {c['input error']:.0f} "
        f"| {c['other']:.0f} | {c['seconds']:.2f} | {c['rss_mb']:.0f} | {c['peak']:.0f} |"
        for kind, c in merged(paths).items()
    ]
    return "\n".join([HEADER, "|" + "---|" * (HEADER.count("|") - 1), *rows])


if __name__ == "__main__":
    print(table([Path(name) for name in sys.argv[1:]]))
