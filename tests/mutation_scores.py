"""`make mutate`'s summary: the mutation score of each module from mutmut's results, and the
mutants that survived (each needs a test that kills it, or a comment saying why the code it
changed reads the same)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict


def main() -> int:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    counts: dict[str, Counter] = defaultdict(Counter)
    survivors = []
    for name, status in re.findall(r"^\s*([\w.ǁ]+__mutmut_\d+): (.+)$", out, re.M):
        module = name.rsplit(".", 1)[0]
        counts[module][status] += 1
        if status == "survived":
            survivors.append(name)
    print(f"{'module':40} {'killed':>7} {'survived':>8} {'other':>6} {'score':>6}")
    for module, c in sorted(counts.items()):
        done = c["killed"] + c["survived"]
        if not done:
            continue  # not run this time
        other = sum(c.values()) - done - c["not checked"]
        print(f"{module:40} {c['killed']:7} {c['survived']:8} {other:6} {c['killed'] / done:6.0%}")
    print("\nsurvived (mutmut show NAME):", *survivors, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
