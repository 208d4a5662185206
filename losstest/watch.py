"""Following a log while it is written: only what was appended since the last poll is read.

Line formats (JSONL, CSV, text) and TensorBoard event files keep a byte offset and read the
complete records past it; a partial last record waits for the next poll. Formats that are
rewritten whole (trainer_state.json, Megatron JSON, MLflow) are read again and only steps not
seen before are passed on. A file that shrinks or is replaced starts over.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import readers
from .config import Config
from .errors import InputError
from .frame import empty
from .monitor import Monitor
from .readers import ReadOptions, Source, tensorboard
from .readers.options import DEFAULT
from .readers.source import run_name
from .report import Finding, Report
from .storage import RemotePath, locate

LINE_FORMATS = ("jsonl", "csv", "text", "wandb-csv")


@dataclass
class _Cursor:
    """Where reading a file stopped: byte offset and the file's identity."""

    offset: int = 0
    inode: int | None = None
    header: bytes = b""  # a CSV's header line, put before every chunk


def rows(frame: pd.DataFrame) -> Iterator[tuple[int, dict[str, float]]]:
    """(step, {metric: value}) in write order, consecutive rows of one step merged."""
    steps = frame["step"].to_numpy()
    metrics = frame["metric"].astype(str).to_numpy()
    values = frame["value"].to_numpy()
    if not len(steps):
        return
    cuts = np.flatnonzero(np.diff(steps) != 0) + 1
    for part in np.split(np.arange(len(steps)), cuts):
        yield int(steps[part[0]]), dict(zip(metrics[part], values[part].tolist(), strict=True))


class Follower:
    """Reads what a log (file or TensorBoard folder, local or at a URL) gained since the last
    poll. A remote file is polled by its size and read past the offset by a ranged read."""

    def __init__(self, path: str | Path | RemotePath, options: ReadOptions = DEFAULT):
        self.path = locate(path, options.storage_options)
        self.options = options
        self.format: str | None = options.input_format
        self.restarted = False  # set when the file shrank or was replaced
        self.warnings: list[str] = []  # damage read around, said once; the caller empties it
        self._cursors: dict[Path | RemotePath, _Cursor] = {}
        self._broken: set[Path | RemotePath] = set()  # event files whose framing was lost
        self._last_step: int | None = None

    def poll(self) -> list[tuple[int, dict[str, float]]]:
        """New (step, metrics) records; [] while the log does not exist yet."""
        self.restarted = False
        if not self.path.exists():
            return []
        if self.path.is_dir():
            return self._poll_events(sorted(self.path.rglob("events.out.tfevents.*")))
        if self.format is None:
            source = Source(str(self.path), self.path)
            self.format = readers.sniff(source, self.options)
            if self.format is None:
                if source.head().strip():
                    raise InputError(str(self.path), "not a log format that can be followed")
                return []  # still empty: wait
        if self.format == tensorboard.NAME:
            return self._poll_events([self.path])
        if self.format in LINE_FORMATS:
            return self._poll_lines()
        return self._poll_whole()

    def _grown(self, file: Path | RemotePath) -> tuple[_Cursor, bytes]:
        """The bytes a file gained; starts over when it shrank or was replaced."""
        cursor = self._cursors.setdefault(file, _Cursor())
        stat = file.stat()
        if stat.st_size < cursor.offset or (cursor.inode not in (None, stat.st_ino)):
            self._cursors[file] = cursor = _Cursor()
            self._last_step = None
            self.restarted = True
        cursor.inode = stat.st_ino
        with file.open("rb") as f:
            f.seek(cursor.offset)
            return cursor, f.read()

    def _poll_lines(self) -> list[tuple[int, dict[str, float]]]:
        cursor, data = self._grown(self.path)
        complete = data[: data.rfind(b"\n") + 1]
        if not complete:
            return []
        cursor.offset += len(complete)
        if self.format in ("csv", "wandb-csv") and not cursor.header:
            cut = complete.find(b"\n") + 1
            cursor.header, complete = complete[:cut], complete[cut:]
        chunk = cursor.header + complete
        if not complete.strip():
            return []
        frame = self._read(Source(str(self.path), None, _data=chunk))
        return list(rows(frame))

    def _poll_events(self, files: list[Path | RemotePath]) -> list[tuple[int, dict[str, float]]]:
        out = []
        for file in files:
            if "tfevents" not in file.name or file in self._broken:
                continue
            cursor, data = self._grown(file)
            read = 0
            while True:  # the intact records, then past a damaged one if it can be skipped
                _, ends, damage = tensorboard.records(data[read:])  # a partial one waits
                used = int(ends[-1]) + 4 if len(ends) else 0
                if used:
                    out += list(rows(tensorboard.read_file(data[read : read + used])[0]))
                read += used
                if damage is None or "checksum" not in damage:
                    break
                skip = self._past_damage(file, data[read:], damage, cursor.offset + read)
                if not skip:
                    break
                read += skip
            cursor.offset += read
        return out

    def _past_damage(self, file: Path | RemotePath, data: bytes, damage: str, offset: int) -> int:
        """The length of a record whose checksum is wrong, to read on past it when its header
        can be trusted; else 0, and the file is given up: a bad record read again at every
        poll would silently hide everything written after it. Each is said once."""
        length, stored = struct.unpack_from("<QI", data)
        where = f"{file}: {damage.split(' at byte')[0]} at byte {offset}"
        if stored == tensorboard.masked_crc(data[:8]):
            self.warnings.append(f"{where}; skipped it")
            return 12 + length + 4
        self._broken.add(file)
        self.warnings.append(f"{where}; no later record of this file can be found")
        return 0

    def _poll_whole(self) -> list[tuple[int, dict[str, float]]]:
        frame = self._read(Source(str(self.path), self.path))
        new = [(s, m) for s, m in rows(frame) if self._last_step is None or s > self._last_step]
        if new:
            self._last_step = max(s for s, _ in new)
        return new

    def _read(self, source: Source) -> pd.DataFrame:
        try:
            frame, _ = readers.read(source, replace(self.options, input_format=self.format))
        except InputError as e:
            nothing = (
                "no numeric metric",
                "no metric lines",
                "no line matches",
                "no complete JSON",
            )
            if any(text in str(e) for text in nothing):
                return empty()  # nothing yet
            raise
        return frame


class Watch:
    """A log followed and checked as it grows: each poll reads what was appended and returns
    the findings that are new. A log that restarts (truncated or replaced) starts a new
    history; `restarted` says so for that poll."""

    def __init__(
        self, path: str | Path | RemotePath, config: Config, options: ReadOptions = DEFAULT
    ):
        self.path = locate(path, options.storage_options)
        self.config = config
        self.follower = Follower(self.path, options)
        self.run = run_name(self.path) or str(self.path)
        self.monitor = Monitor(config, run=self.run, source=str(self.path))
        self.last_step: int | None = None
        self.restarted = False
        self.warnings: list[str] = []  # damage met in the last poll
        self._returned = 0

    def poll(self) -> list[tuple[int, Finding]]:
        """The new findings in what the log gained, each with the step it was seen at; raises
        InputError when the log cannot be read."""
        records = self.follower.poll()
        self.warnings, self.follower.warnings = self.follower.warnings, []
        self.restarted = self.follower.restarted
        if self.restarted:
            self.monitor = Monitor(self.config, run=self.run, source=str(self.path))
            self._returned = 0
        found = []
        for step, values in records:
            self.last_step = step
            found += [(step, f) for f in self._new()] if self.monitor.update(step, **values) else []
        return found

    def finish(self) -> tuple[Report, list[tuple[int | None, Finding]]]:
        """The report of everything read (with a final check), and the findings that the
        final check added."""
        report = self.monitor.report()
        return report, [(self.last_step, f) for f in self._new()]

    def _new(self) -> list[Finding]:
        found = self.monitor.findings[self._returned :]
        self._returned += len(found)
        return list(found)
