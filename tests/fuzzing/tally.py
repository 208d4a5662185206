"""The tally of a `make fuzz` run as a Markdown table, one row per kind of input:

python tests/fuzzing/tally.py fuzz-tally/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HEADER = (
    "| input | inputs | read | input errors | other | slowest call (s) "
    "| largest RSS growth in a call (MB) | process peak RSS (MB) |"
)


def rows(path: Path) -> list[str]:
    tally = json.loads(path.read_text())
    peak = tally.pop("process", {}).get("peak_rss_mb", 0.0)
    return [
        f"| {kind} | {c.get('inputs', 0)} | {c.get('read', 0)} | {c.get('input error', 0)} "
        f"| {c.get('other', 0)} | {c['seconds']:.2f} | {c['rss_mb']:.0f} | {peak:.0f} |"
        for kind, c in tally.items()
    ]


if __name__ == "__main__":
    print(HEADER)
    print("|" + "---|" * (HEADER.count("|") - 1))
    for name in sys.argv[1:]:
        print("\n".join(rows(Path(name))))
