"""Write tests/data/exports: real runs exported the ways people export them, one value per row.

- `tensorboard_download/`: the CSVs TensorBoard's "download CSV" writes, fetched from a real
  `tensorboard` server over tests/data/realruns_tb/overfitting (its scalars endpoint with
  `format=csv`, the request the button makes; files named as the button names them).
- `tbparse_scalars.csv`: tbparse's `SummaryReader(...).scalars` of the same event file.
- `melted_metrics.csv`: `pandas.melt` of a Lightning CSVLogger file from the corpus.
- `losstest_frame.csv`: `losstest.load` of a real JSONL run, written as CSV.

    python bench/exports/make_exports.py   (needs the `bench` extra: tbparse)
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd

import losstest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
OUT = DATA / "exports"
RUN = DATA / "realruns_tb" / "overfitting"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tensorboard_downloads(target: Path) -> None:
    with tempfile.TemporaryDirectory() as logdir:
        shutil.copytree(RUN, Path(logdir) / RUN.name)
        port = free_port()
        server = subprocess.Popen(
            [Path(sys.executable).parent / "tensorboard", "--logdir", logdir, "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}/data/plugin/scalars"
            tags = _get_json(f"{base}/tags")[RUN.name]
            target.mkdir(parents=True, exist_ok=True)
            for tag in tags:
                query = urllib.parse.urlencode({"run": RUN.name, "tag": tag, "format": "csv"})
                csv = urllib.request.urlopen(f"{base}/scalars?{query}").read()
                name = f"run-{RUN.name}-tag-{tag.replace('/', '_')}.csv"
                (target / name).write_bytes(csv)
        finally:
            server.terminate()
            server.wait()


def _get_json(url: str, tries: int = 60) -> dict:
    import json

    for _ in range(tries):
        try:
            return json.loads(urllib.request.urlopen(url).read())
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"tensorboard did not answer {url}")


def main() -> None:
    from tbparse import SummaryReader

    tensorboard_downloads(OUT / "tensorboard_download")
    SummaryReader(str(RUN)).scalars.to_csv(OUT / "tbparse_scalars.csv", index=False)
    lightning = pd.read_csv(DATA / "corpus/dl-fundamentals/6.7-dropout/version_1/metrics.csv")
    lightning.melt(id_vars=["step"], value_vars=["train_loss", "val_loss"]).dropna().to_csv(
        OUT / "melted_metrics.csv", index=False
    )
    frame = losstest.load((DATA / "realruns/spikes.jsonl").relative_to(Path.cwd()))
    frame.to_csv(OUT / "losstest_frame.csv", index=False)


if __name__ == "__main__":
    import os

    os.chdir(ROOT)  # the frame's source column names the log as the repository does
    main()
