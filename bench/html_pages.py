"""Size and opening time of the HTML pages on a 1,000-run sweep (docs/html.md holds the figures).

    python bench/html_pages.py [RUNS]

The sweep is made of the real runs of tests/data/realruns (800-1,500 steps each: longer than
the 400 vertices a run keeps, so every run costs what a long one does), copied under names
`lr=<lr>_seed=<k>`. Opening is timed in headless Chromium until the page's script has drawn
every chart (`window.losstest.readyMs`, from navigation start), the best of three.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import losstest
from losstest.compare import compare
from losstest.reporters.html import render, render_comparison

ROOT = Path(__file__).parent.parent
OUT = Path(__file__).parent / "out" / "html"
LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


def sweep(runs: int) -> Path:
    folder = OUT / f"sweep{runs}"
    if folder.exists():
        return folder
    logs = sorted((ROOT / "tests" / "data" / "realruns").glob("*.jsonl"))
    for i in range(runs):
        target = folder / f"lr={LRS[i % len(LRS)]:g}_seed={i // len(LRS)}" / "metrics.jsonl"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(logs[i % len(logs)], target)
    return folder


def opening_ms(page: Path) -> float:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable)
        best = float("inf")
        for _ in range(3):
            tab = browser.new_page(viewport={"width": 1200, "height": 900})
            tab.goto(page.resolve().as_uri())
            tab.wait_for_function("window.losstest && window.losstest.ready", timeout=60_000)
            best = min(best, tab.evaluate("window.losstest.readyMs"))
            tab.close()
        browser.close()
    return best


def written(name: str, render_page, what) -> str:
    """Render a page, write it under bench/out/html and say its size and opening time."""
    start = time.perf_counter()
    page = render_page(what)
    seconds = time.perf_counter() - start
    path = OUT / f"{name}.html"
    path.write_text(page)
    size = len(page.encode()) / 1e6
    return f"page written in {seconds:.2f} s, {size:.2f} MB, opened in {opening_ms(path):.0f} ms"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    folder = sweep(runs)
    start = time.perf_counter()
    result = compare([str(folder)], by=["lr"])
    analysed = time.perf_counter() - start
    page = written(f"compare{runs}", render_comparison, result)
    print(f"compare, {runs} runs: analysed in {analysed:.1f} s, {page}")
    page = written(f"analyze{runs}", render, losstest.analyze(str(folder)))
    print(f"analyze, {runs} runs: {page} (charts below the fold drawn when scrolled to)")
    samples = render(losstest.analyze(str(ROOT / "sample_logs")))
    print(f"analyze sample_logs/: {len(samples.encode()) / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
