"""`compare --cluster` on a real Dask cluster: a scheduler and two worker processes on 127.0.0.1.
The leaderboard is the local one; a run whose worker dies is a problem for that run alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from losstest.cli import app
from losstest.cluster import batch_size
from losstest.compare import compare

from .conftest import DATA, REALRUNS

distributed = pytest.importorskip(
    "distributed", reason="the dask extra is not installed (losstest[dask])"
)
dask = pytest.importorskip("dask")

SWEEP = DATA / "sweep"
runner = CliRunner()


@pytest.fixture(scope="module")
def scheduler():
    """Two single-threaded worker processes with 1 GiB each; a task whose worker dies is not
    tried again on another (Dask's allowed-failures), so that a deadly run fails fast."""
    settings = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.comm.timeouts.connect": "3s",
    }
    with (
        dask.config.set(settings),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address="127.0.0.1:0", memory_limit="1GiB",
        ) as cluster,
    ):  # fmt: skip
        yield cluster.scheduler_address


def test_leaderboard_on_the_cluster_is_the_local_one(scheduler):
    done = []
    on_cluster = compare(
        [str(SWEEP), str(REALRUNS)], by=["lr"], cluster=scheduler,
        progress=lambda n, total: done.append((n, total)),
    )  # fmt: skip
    local = compare([str(SWEEP), str(REALRUNS)], by=["lr"], jobs=1)
    assert on_cluster == local and len(local.runs) == 21
    assert done == [(n, 21) for n in range(1, 22)]  # the progress bar's counts


def test_command_line_cluster_and_dasks_variable(scheduler, tmp_path, monkeypatch):
    local, remote = tmp_path / "local.json", tmp_path / "cluster.json"
    args = ["compare", str(SWEEP), "--by", "lr", "-f", "json", "-o"]
    assert runner.invoke(app, [*args, str(local), "--jobs", "1"]).exit_code == 0
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", scheduler)
    result = runner.invoke(app, [*args, str(remote)])
    assert result.exit_code == 0, result.output
    assert json.loads(remote.read_text()) == json.loads(local.read_text())


def test_a_run_that_kills_its_worker_is_a_problem_for_that_run(scheduler, tmp_path):
    """A log of 1.5 GB (sparse on disk: a training log's head, then zeros) is more than a
    worker may hold: the worker is killed for memory. The batch it was in is retried run by
    run; the other runs finish and the leaderboard is the local one."""
    huge = tmp_path / "huge" / "metrics.jsonl"
    huge.parent.mkdir()
    with huge.open("wb") as f:
        f.write(b"".join(b'{"step": %d, "loss": 2.5}\n' % i for i in range(5000)))
        f.truncate(1_500_000_000)
    on_cluster = compare([str(SWEEP), str(huge.parent)], cluster=scheduler)
    local = compare([str(SWEEP)], jobs=1)
    assert on_cluster.runs == local.runs
    assert [p.source for p in on_cluster.problems] == [str(huge)]
    assert "its worker died" in on_cluster.problems[0].message


def test_an_unreachable_scheduler_is_one_line():
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        result = runner.invoke(app, ["compare", str(SWEEP), "--cluster", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2
    assert result.stderr.startswith("losstest: error: --cluster tcp://127.0.0.1:9: could not")
    assert result.stderr.count("\n") == 1


def test_cluster_without_the_extra_is_one_line_naming_it():
    code = (
        "import sys; sys.modules['distributed'] = None; sys.argv = ['losstest', 'compare', "
        f"{str(SWEEP)!r}, '--cluster', 'tcp://127.0.0.1:9']; from losstest.cli import main; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        done.stderr
        == "losstest: error: --cluster needs the dask extra: pip install 'losstest[dask]'\n"
    )


@pytest.mark.parametrize(
    ("runs", "threads", "size"), [(21, 2, 2), (10_000, 2, 50), (10_000, 100, 13), (3, 400, 1)]
)
def test_batches_keep_every_thread_busy_and_stay_small(runs, threads, size):
    assert batch_size(runs, threads) == size
