"""`compare --cluster` over runs in an S3-protocol server: a moto server, a Dask scheduler and
two single-threaded workers, each its own process on 127.0.0.1, as a team would run them.

    python bench/cluster.py RUNS [STEPS]

Prints the wall time of `losstest compare s3://... --cluster ...` (a fresh process, listing and
sniffing included), the time per run, the scheduler's peak memory, and the same for a local
`compare --jobs 2` of the same URLs for scale.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

PY = sys.executable
BIN = Path(PY).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@contextmanager
def process(command: list[str], env: dict[str, str]):
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield child
    finally:
        child.terminate()
        child.wait(30)


def timed_compare(url: str, env: dict[str, str], *extra: str) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run(
        [PY, "-m", "losstest", "compare", url, "-f", "json", *extra],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return took, json.loads(done.stdout)


def bench_cluster(folder: Path, runs: int) -> None:
    import s3fs
    from distributed import Client

    s3, scheduler = free_port(), free_port()
    env = {
        **os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{s3}",
    }  # fmt: skip
    address = f"tcp://127.0.0.1:{scheduler}"
    with ExitStack() as stack:
        stack.enter_context(
            process([PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3)], env)
        )
        wait_for(s3)
        os.environ.update({k: env[k] for k in env if k.startswith("AWS_")})
        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        fs.mkdir("bench")
        start = time.perf_counter()
        fs.put(str(folder), "bench/sweep", recursive=True)
        upload = time.perf_counter() - start
        size = sum(p.stat().st_size for p in folder.rglob("*.jsonl"))
        print(f"----  uploaded {runs} runs ({size / 1e6:.0f} MB) to moto in {upload:.1f} s")
        scheduler_cmd = [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port",
                         str(scheduler), "--no-dashboard"]  # fmt: skip
        stack.enter_context(process(scheduler_cmd, env))
        wait_for(scheduler)
        workers = [str(BIN / "dask"), "worker", address, "--nworkers", "2", "--nthreads", "1",
                   "--no-dashboard", "--memory-limit", "2GiB"]  # fmt: skip
        stack.enter_context(process(workers, env))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            took, doc = timed_compare("s3://bench/sweep", env, "--cluster", address)
            peak = client.run_on_scheduler(_peak_rss_mb)
        local, local_doc = timed_compare("s3://bench/sweep", env, "--jobs", "2")
    same = [r["run"] for r in doc["runs"]] == [r["run"] for r in local_doc["runs"]]
    print(
        f"----  compare --cluster (2 workers x 1 thread) of {len(doc['runs'])} runs in S3: "
        f"{took:.1f} s ({took / runs * 1000:.1f} ms a run, {runs / took:.1f} runs/s); "
        f"scheduler peak RSS {peak:.0f} MB; local --jobs 2 of the same URLs {local:.1f} s; "
        f"same leaderboard: {same}"
    )


def _peak_rss_mb() -> float:
    """The process's peak RSS since it started. Not getrusage's ru_maxrss: Linux carries that
    over from the parent a process was forked from (here the benchmark, after the upload)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from run import OUT, sweep_dir

    OUT.mkdir(exist_ok=True)
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    start = time.perf_counter()
    sweep = sweep_dir(count, steps)
    print(f"----  {count} runs x {steps} steps ready in {time.perf_counter() - start:.0f} s")
    bench_cluster(sweep, count)
