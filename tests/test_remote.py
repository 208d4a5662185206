"""Logs read by URL from a real S3-protocol server (moto's server mode on 127.0.0.1): every
format, directory walks, globs, gzip, TensorBoard folders and MLflow stores, as from disk."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from losstest import api
from losstest.cli import app
from losstest.compare import compare
from losstest.readers import discover, sniff
from losstest.reporters import REPORTERS, RenderOptions
from losstest.storage import locate, redact
from losstest.watch import Follower

from .conftest import CORPUS, DATA, REALRUNS

s3fs = pytest.importorskip("s3fs", reason="the remote extra is not installed (losstest[remote])")
moto_server = pytest.importorskip(
    "moto.moto_server.threaded_moto_server", reason="moto[server] is not installed (test extra)"
)

BUCKET = "team-logs"
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
runner = CliRunner()
FORMATS = {"tensorboard", "mlflow", "hf-trainer", "megatron", "jsonl", "text", "wandb-csv", "csv"}


@pytest.fixture(scope="module")
def endpoint():
    """A moto S3 server on a free loopback port, its address in the backend's own variables."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        env.setenv("AWS_ENDPOINT_URL", url)
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.delenv("AWS_PROFILE", raising=False)
        yield url
    server.stop()


@pytest.fixture(scope="module")
def logs(endpoint, tmp_path_factory):
    """The same tree of real logs on disk and in the bucket: the corpus, an MLflow store, the
    tiny transformers' runs (one gzip-compressed), their TensorBoard and CSV twins, the model
    families' runs through a dozen writers. The one
    text log that takes the text reader 13 s is left out: it would time the reader, not I/O."""
    root = tmp_path_factory.mktemp("logs") / "logs"
    slow = shutil.ignore_patterns("87bd51fd-*.txt")
    for name in ("corpus", "mlflow", "realruns", "realruns_tb", "realruns_csv", "families"):
        shutil.copytree(DATA / name, root / name, ignore=slow)
    (root / "realruns" / "healthy.jsonl").unlink()
    (root / "gz").mkdir()
    (root / "gz" / "healthy.jsonl.gz").write_bytes(
        gzip.compress((REALRUNS / "healthy.jsonl").read_bytes())
    )
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir(BUCKET)
    fs.put(str(root), f"{BUCKET}/logs", recursive=True)
    return root


def report_json(report, prefix: str) -> dict:
    """The JSON report (a Report, or its text) with the sources' location cut off, to set disk
    beside bucket."""
    text = report if isinstance(report, str) else REPORTERS["json"].render(report, RenderOptions())
    doc = json.loads(text)
    for item in doc["runs"] + doc.get("problems", []):
        item["source"] = item["source"].removeprefix(prefix)
        if "message" in item:
            item["message"] = item["message"].removeprefix(prefix)
    return doc


def test_every_format_read_by_url_gives_the_report_read_from_disk(logs):
    found, _ = discover([str(logs)])
    assert {sniff(s) for s in found} >= FORMATS
    local = api.analyze([str(logs)], on_error=lambda e: None)
    remote = api.analyze([f"s3://{BUCKET}/logs"], on_error=lambda e: None)
    assert len(remote.runs) == len(local.runs) >= 30
    assert report_json(remote, f"s3://{BUCKET}/logs/") == report_json(local, f"{logs}/")


def test_a_walk_reads_heads_only(logs):
    """Listing and sniffing a bucket transfers the heads of the files, not the files: what a
    run needs is read where the run is analysed (a worker, on a cluster)."""
    found, _ = discover([f"s3://{BUCKET}/logs/realruns"])
    assert len(found) == 12 and all(source._data is None for source in found)


def test_glob_on_a_url(logs):
    local = api.analyze([f"{logs}/realruns/*.jsonl"])
    remote = api.analyze([f"s3://{BUCKET}/logs/realruns/*.jsonl"])
    assert [r.run for r in remote.runs] == [r.run for r in local.runs] and len(local.runs) >= 3
    assert report_json(remote, f"s3://{BUCKET}/logs/") == report_json(local, f"{logs}/")


def test_compare_by_url_ranks_as_from_disk(logs):
    local = compare([str(logs / "realruns_csv")], jobs=1)
    remote = compare([f"s3://{BUCKET}/logs/realruns_csv"], jobs=2)
    assert [(r.run, r.verdict, r.final_loss) for r in remote.runs] == [
        (r.run, r.verdict, r.final_loss) for r in local.runs
    ]
    assert remote.runs[0].source.startswith(f"s3://{BUCKET}/logs/realruns_csv/")


def test_command_line_with_fsspecs_own_variables(logs, endpoint):
    """The endpoint from fsspec's FSSPEC_S3_ENDPOINT_URL in a fresh process (every other test
    here finds it from AWS_ENDPOINT_URL); the report is the one of the files on disk."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "losstest", "analyze", f"s3://{BUCKET}/logs/realruns_tb", "-f", "json"],
        capture_output=True, text=True, env={**env, "FSSPEC_S3_ENDPOINT_URL": endpoint}, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    expected = report_json(api.analyze([str(logs / "realruns_tb")]), f"{logs}/")
    assert report_json(done.stdout, f"s3://{BUCKET}/logs/") == expected


def test_storage_option_on_the_command_line(logs, endpoint, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    url = f"s3://{BUCKET}/logs/realruns/late_divergence.jsonl"
    result = runner.invoke(app, ["analyze", url, "--storage-option", f"endpoint_url={endpoint}"])
    assert result.exit_code == 1 and "divergence" in result.stdout


def test_no_credential_in_any_output(logs, endpoint, tmp_path):
    """Secrets given as options, in the environment or in a URL's userinfo appear nowhere:
    not in errors, reports or source names."""
    options = ["--storage-option", f"secret={SECRET}", "--storage-option", "key=AKIDEXAMPLEKEY1"]
    missing = runner.invoke(app, ["analyze", "s3://no-such-bucket/run.jsonl", *options])
    assert missing.exit_code == 2
    assert missing.stderr.count("\n") == 1 and "no-such-bucket" in missing.stderr
    out = tmp_path / "report.json"
    public = f"{endpoint}/{BUCKET}/logs/realruns/late_divergence.jsonl"
    with_userinfo = public.replace("http://", f"http://reader:{SECRET}@")
    read = runner.invoke(app, ["analyze", with_userinfo, "-f", "json", "-o", out])
    assert read.exit_code == 1, read.output
    assert json.loads(out.read_text())["runs"][0]["source"] == public
    bad = runner.invoke(
        app, ["analyze", with_userinfo.replace("late_divergence", "gone"), *options]
    )
    assert bad.exit_code == 2
    for text in (missing.output, read.output, out.read_text(), bad.output):
        assert SECRET not in text and "AKIDEXAMPLEKEY1" not in text
    assert redact(f"see s3://{SECRET}@b/k", {"token": "tok-123456"}) == "see s3://b/k"


def test_watch_follows_an_object_that_is_rewritten_longer(logs, tmp_path):
    """Object stores have no append: a log synced to a bucket is uploaded again, longer; the
    follower reads the bytes past its offset, as it reads what a local file gained."""
    lines = (REALRUNS / "healthy.jsonl").read_bytes().splitlines(keepends=True)
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    local = tmp_path / "metrics.jsonl"
    remote = Follower(locate(f"s3://{BUCKET}/live/metrics.jsonl"))
    on_disk = Follower(local)
    polls = []
    for upto in (100, len(lines)):
        fs.pipe(f"{BUCKET}/live/metrics.jsonl", b"".join(lines[:upto]))
        local.write_bytes(b"".join(lines[:upto]))
        polls.append((remote.poll(), on_disk.poll()))
    assert all(ours == theirs and ours for ours, theirs in polls)
    assert remote.poll() == []


def test_watch_follows_a_tensorboard_folder_in_a_bucket(logs, tmp_path):
    """New bytes of an event file (a record cut in two waits for the rest) are found at every
    poll, not hidden by a listing cached at the first one."""
    (events,) = (DATA / "realruns_tb" / "healthy").glob("events.out.tfevents.*")
    data = events.read_bytes()
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    local = tmp_path / "tb" / events.name
    local.parent.mkdir()
    remote, on_disk = Follower(f"s3://{BUCKET}/live-tb"), Follower(local.parent)
    polls = []
    for upto in (len(data) // 3, len(data)):
        fs.pipe(f"{BUCKET}/live-tb/{events.name}", data[:upto])
        local.write_bytes(data[:upto])
        polls.append((remote.poll(), on_disk.poll()))
    assert all(ours == theirs and ours for ours, theirs in polls)


def test_a_url_without_the_extra_is_one_line_naming_it():
    code = (
        "import sys; sys.modules['fsspec'] = None; sys.argv = ['losstest', 'analyze', "
        "'s3://bucket/run.jsonl']; from losstest.cli import main; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "pip install 'losstest[remote]'" in done.stderr and "Traceback" not in done.stderr


def test_local_paths_do_not_import_fsspec():
    code = (
        "import sys; from losstest.cli import main; sys.argv = ['losstest', 'analyze', "
        f"{str(CORPUS / 'trackio' / 'logs.csv')!r}]\n"
        "try: main()\nexcept SystemExit: pass\nprint('fsspec' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip().endswith("False"), done.stderr


def test_remote_paths_name_runs_as_local_ones(logs):
    remote = locate(f"s3://{BUCKET}/logs/corpus/dl-fundamentals/6.7-dropout/version_0/metrics.csv")
    assert remote.parent.name == "version_0" and remote.is_file() and not remote.is_dir()
    assert (
        str(remote)
        == f"s3://{BUCKET}/logs/corpus/dl-fundamentals/6.7-dropout/version_0/metrics.csv"
    )
    assert remote.parent.is_dir() and not (remote.parent / "absent.csv").exists()
