"""`make mutate`'s summary: the mutation score of each module from mutmut's results, and the
mutants that survived (each needs a test that kills it, or a row in tests/MUTATION.md saying
why the code it changed reads the same).

A row of MUTATION.md's table of equivalent mutants counts only while `mutmut show` still gives
that mutant the mutated line the row quotes: after the code moves, mutmut numbers its mutants
anew and a stale row is reported instead of excusing some other mutant."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

TABLE = Path(__file__).with_name("MUTATION.md")
CAUGHT = ("killed", "timeout")


def mutmut(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "mutmut", *args], capture_output=True, text=True, check=True
    ).stdout


def equivalents() -> dict[str, str]:
    """Mutant name -> the mutated line its row in MUTATION.md quotes."""
    rows = re.findall(r"^\| `(losstest\.[^`]+)` \| `(.+?)` \|", TABLE.read_text(), re.M)
    return {name: line.replace(r"\|", "|") for name, line in rows}


def still_equivalent(name: str, line: str) -> bool:
    # a changed `def` line comes unindented ("+def ..."); "+++" is the diff's file header
    added = [d[1:].strip() for d in mutmut("show", name).splitlines()
             if d.startswith("+") and not d.startswith("+++")]  # fmt: skip
    return any(line in a for a in added)


def main() -> int:
    counts: dict[str, Counter] = defaultdict(Counter)
    survivors, stale = [], []
    excused = equivalents()
    results = re.findall(
        r"^\s*([\w.ǁ]+__mutmut_\d+): (.+)$", mutmut("results", "--all", "true"), re.M
    )
    for name, status in results:
        module = name.split(".x_")[0].split(".xǁ")[0]
        if status == "survived" and name in excused:
            status = "equivalent" if still_equivalent(name, excused[name]) else "survived"
            if status == "survived":
                stale.append(name)
        counts[module][status] += 1
        if status == "survived":
            survivors.append(name)
    head = ("module", "mutants", "killed", "survived", "equiv", "no tests", "timeout", "score")
    print(f"{head[0]:32}", *(f"{h:>8}" for h in head[1:]))
    for module, c in sorted(counts.items()):
        judged = sum(c.values()) - c["not checked"] - c["equivalent"]
        if not c["killed"] + c["survived"]:
            continue  # not run this time
        caught = sum(c[s] for s in CAUGHT)
        row = (sum(c.values()) - c["not checked"], c["killed"], c["survived"], c["equivalent"])
        print(f"{module:32}", *(f"{n:8}" for n in row + (c["no tests"], c["timeout"])),
              f"{caught / judged:8.1%}")  # fmt: skip
    print("\nsurvived (mutmut show NAME):", *survivors, sep="\n  ")
    if stale:
        print("\nrows of MUTATION.md that no longer match their mutant:", *stale, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
