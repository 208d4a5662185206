"""What a reader reads: a file, a folder-shaped run or standard input, found from the paths."""

from __future__ import annotations

import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..storage import RemotePath, read_head
from .limits import ENV, check_line_length, limits

GZIP_MAGIC = b"\x1f\x8b"
LFS_POINTER = b"version https://git-lfs"
LFS_PROBLEM = "a Git LFS pointer, not the log itself (fetch it with `git lfs pull`)"
HEAD_BYTES = 64 * 1024
INFLATE_CHUNK = 1 << 24
# File stems that say nothing about the run: such a run is named after its folder.
GENERIC_STEMS = {
    "metrics", "log", "logs", "train", "training", "events", "trainer_state", "history",
    "progress", "output", "stdout", "main", "scalars", "results", "loss", "losses",
}  # fmt: skip


@dataclass
class Source:
    """A file (or a directory, for formats that span several files) and the run it names."""

    name: str
    path: Path | RemotePath | None = None  # None for standard input
    run: str = ""
    files: tuple[Path | RemotePath, ...] = ()  # the files of a directory-shaped run
    format_hint: str | None = None
    warnings: list[str] = field(default_factory=list)  # damage a reader read around
    _data: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.name, self.run = printable(self.name), printable(self.run)

    @property
    def suffix(self) -> str:
        name = self.path.name if self.path else ""
        return name.removesuffix(".gz").rsplit(".", 1)[-1].lower() if "." in name else ""

    def data(self) -> bytes:
        """The whole content, decompressed; read once."""
        if self._data is None:
            raw = sys.stdin.buffer.read() if self.path is None else self._read_file()
            self._data = self._decompress(raw)
        return self._data

    def head(self) -> bytes:
        if self.path is not None and self.path.is_dir():
            return b""  # a folder-shaped run: its reader knows its files
        remote_whole = isinstance(self.path, RemotePath) and self.path.worth_reading_whole()
        if self._data is not None or self.path is None or remote_whole:
            return self.data()[:HEAD_BYTES]
        try:
            raw = read_head(self.path, HEAD_BYTES)
        except OSError as e:
            raise InputError(self.name, e.strerror or str(e)) from e
        if raw.startswith(GZIP_MAGIC):
            try:
                return zlib.decompressobj(wbits=31).decompress(raw, HEAD_BYTES)
            except zlib.error as e:
                raise InputError(self.name, f"not a valid gzip file ({e})") from e
        return raw

    def local_file(self) -> Path | None:
        """The path of a local file whose content was not handed in, for readers that let
        pyarrow read it by path; None for standard input, folders and URLs."""
        path = self.path
        if self._data is not None or not isinstance(path, Path) or not path.is_file():
            return None
        return path

    def text(self) -> str:
        """The content as text, for line-by-line formats: a line past the limit is refused."""
        data = self.data()
        check_line_length(data, self.name)
        return data.decode("utf-8", errors="replace")

    def _read_file(self) -> bytes:
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as e:
            raise InputError(self.name, e.strerror or str(e)) from e

    def _decompress(self, raw: bytes) -> bytes:
        if not raw.startswith(GZIP_MAGIC):
            return raw
        try:
            return self._inflate(raw, limits().decompressed_bytes)
        except zlib.error as e:
            raise InputError(self.name, f"not a valid gzip file ({e})") from e

    def _inflate(self, raw: bytes, allowed: int) -> bytes:
        """Every gzip member, decompressed in chunks up to `allowed` bytes; a stream cut short
        (a .gz still being written) keeps what decompressed."""
        pieces, size, pending = [], 0, raw
        inflater = zlib.decompressobj(wbits=31)
        while True:
            piece = inflater.decompress(pending, INFLATE_CHUNK)
            size += len(piece)
            if size > allowed:
                raise InputError(
                    self.name,
                    f"decompresses to more than {allowed >> 20} MB ({ENV['decompressed_mb']})",
                )
            pieces.append(piece)
            if inflater.eof:
                pending = inflater.unused_data
                if not pending.strip(b"\0"):
                    break
                inflater = zlib.decompressobj(wbits=31)
            else:
                pending = inflater.unconsumed_tail
                if not pending and len(piece) < INFLATE_CHUNK:
                    break
        return b"".join(pieces)


def printable(name: str) -> str:
    """A path as text every output can hold: bytes of a file name that are not UTF-8 (kept by
    Python as lone surrogates, which no encoder accepts) written as `\\xff`."""
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file system wrote
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def run_name(path: Path | RemotePath) -> str:
    if "tfevents" in path.name:
        return path.parent.name or path.name
    stem = path.name.removesuffix(".gz")
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    if stem.lower() in GENERIC_STEMS and path.parent.name:
        return path.parent.name
    return stem
