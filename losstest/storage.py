"""Paths that are URLs (`s3://`, `gs://`, `az://`, `hf://`, `http(s)://`, `memory://`, ...).

A URL becomes a `RemotePath`: the part of `pathlib.Path`'s interface that the readers and the
directory walk use, answered by fsspec and its backends. Local paths stay `Path` and never
import fsspec, so that a command on local files starts as quickly as before.

A walk lists a remote tree once (one recursive listing instead of a request per folder) and
fetches the heads of the files it sniffs many at a time; the paths it yields answer `is_dir`
and `is_file` from that listing. Nothing shown to a person (a path, an error) carries a
credential: userinfo is cut from URLs and secret-looking option values are masked.
"""

from __future__ import annotations

import fnmatch
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
from typing import Any

from .errors import InputError, LossTestError

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")
SECRET_NAME = re.compile(
    r"secret|token|password|passwd|credential|sas|account_key|key_id|connection_string|^key$", re.I
)
INSTALL = "reading URLs needs the remote extra: pip install 'losstest[remote]'"
HEADS_AT_ONCE = 256  # heads fetched in one batch of concurrent ranged reads during a walk
WHOLE_BELOW = 16 << 20  # a remote file this small is read whole, not its head first

StorageOptions = Mapping[str, Any]


def is_url(path: str | os.PathLike | RemotePath) -> bool:
    return isinstance(path, RemotePath) or (isinstance(path, str) and bool(URL.match(path)))


def parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """`--storage-option KEY=VALUE` pairs; values are JSON where they parse (true, 3, {...})."""
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise LossTestError(f"--storage-option {key.strip() or pair!r}: expected KEY=VALUE")
        try:
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    return options


def _secrets(options: StorageOptions | None) -> list[str]:
    """Values that must never be shown: secret-looking options and environment variables."""
    found = [str(v) for k, v in (options or {}).items() if SECRET_NAME.search(k)]
    found += [v for k, v in os.environ.items() if SECRET_NAME.search(k)]
    return [s for s in found if len(s) >= 6]


def redact(text: str, options: StorageOptions | None = None) -> str:
    """The text with URL userinfo removed and every known secret value masked."""
    text = USERINFO.sub(r"\g<scheme>", text)
    for secret in sorted(_secrets(options), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


@dataclass
class _Listing:
    """One recursive listing of a remote tree: what the walk and its paths ask about."""

    files: dict[str, int]  # path -> size
    dirs: set[str]
    children: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # files whose heads will be wanted, in order
    position: dict[str, int] = field(default_factory=dict)  # index into order
    heads: dict[str, bytes] = field(default_factory=dict)  # of the latest batch only


class RemotePath:
    """A file or folder on a filesystem of fsspec, with `Path`'s methods the readers use."""

    def __init__(self, fs: Any, path: str, kind: str | None = None, size: int | None = None):
        self.fs, self.path = fs, path.rstrip("/") or path
        self.kind, self.size = kind, size  # known from a listing: spares a request
        self._listing: _Listing | None = None

    def __reduce__(self):  # the listing (and its heads) stays where the walk ran
        return RemotePath, (self.fs, self.path, self.kind, self.size)

    def __str__(self) -> str:
        return redact(self.fs.unstrip_protocol(self.path), self.fs.storage_options)

    def __repr__(self) -> str:
        return f"RemotePath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemotePath) and (self.fs, self.path) == (other.fs, other.path)

    def __hash__(self) -> int:
        return hash(self.path)

    def __lt__(self, other: RemotePath) -> bool:
        return self.path < other.path

    def _child(self, path: str, kind: str | None = None, size: int | None = None) -> RemotePath:
        child = RemotePath(self.fs, path, kind, size)
        child._listing = self._listing
        if self._listing is not None and kind is None:
            child._know()
        return child

    def _know(self) -> None:
        listing = self._listing
        assert listing is not None
        if self.path in listing.files:
            self.kind, self.size = "file", listing.files[self.path]
        elif self.path in listing.dirs:
            self.kind = "directory"
        else:
            self.kind = "missing"

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def stem(self) -> str:
        return self.name.rsplit(".", 1)[0] if "." in self.name.lstrip(".") else self.name

    @property
    def parent(self) -> RemotePath:
        return self._child(posixpath.dirname(self.path))

    @property
    def parents(self) -> list[RemotePath]:
        out, path = [], self.path
        while (up := posixpath.dirname(path)) and up != path:
            out.append(self._child(up))
            path = up
        return out

    def __truediv__(self, name: str) -> RemotePath:
        return self._child(posixpath.join(self.path, name))

    def relative_to(self, other: RemotePath) -> PurePosixPath:
        return PurePosixPath(posixpath.relpath(self.path, other.path))

    def as_posix(self) -> str:
        return str(self)

    def _info(self) -> None:
        if self.kind is None or (self.kind == "missing" and self._listing is None):
            with backend_errors(str(self), self.fs.storage_options):
                try:
                    info = self.fs.info(self.path)
                except FileNotFoundError:
                    self.kind = "missing"
                    return
            self.kind, self.size = info.get("type", "file"), info.get("size")

    def exists(self) -> bool:
        self._info()
        return self.kind != "missing"

    def is_dir(self) -> bool:
        self._info()
        return self.kind == "directory"

    def is_file(self) -> bool:
        self._info()
        return self.kind == "file"

    def stat(self) -> SimpleNamespace:
        """Size only: object stores have no inode, so a replaced file shows as one that shrank.
        Asked afresh each time (a poll must see growth, not a cached listing)."""
        self.fs.invalidate_cache(self.path)
        self.kind = None
        self._info()
        if self.size is None:
            raise InputError(str(self), "the storage does not report this file's size")
        return SimpleNamespace(st_size=self.size, st_ino=None)

    def read_bytes(self) -> bytes:
        with backend_errors(str(self), self.fs.storage_options):
            return self.fs.cat_file(self.path)

    def read_text(self) -> str:
        return self.read_bytes().decode("utf-8", errors="replace")

    def read_range(self, start: int, end: int | None = None) -> bytes:
        """Bytes from start to end (a ranged read: nothing else is transferred)."""
        listing = self._listing
        if start == 0 and end and listing is not None:
            if self.path in listing.position:
                _fetch_heads(self.fs, listing, self.path, end)
            if self.path in listing.heads:
                return listing.heads[self.path][:end]
        with backend_errors(str(self), self.fs.storage_options):
            return self.fs.cat_file(self.path, start=start, end=end)

    def worth_reading_whole(self) -> bool:
        """A file read outside a walk (named on its own, or a run on a worker), small enough
        that reading it whole at once (one request) beats a ranged read of its head for
        sniffing and then a second one of everything. A walk reads heads only."""
        return self._listing is None and self.is_file() and (self.size or 0) <= WHOLE_BELOW

    def open(self, mode: str = "rb"):
        """A file object whose reads are ranged requests (no read-ahead of a large block)."""
        with backend_errors(str(self), self.fs.storage_options):
            return self.fs.open(self.path, mode, cache_type="none")

    def glob(self, pattern: str) -> list[RemotePath]:
        """The entries of this folder whose names match the pattern (no recursion)."""
        listing = self._listing
        if listing is not None and self.path in listing.children:
            subdirs, files = listing.children[self.path]
            names = fnmatch.filter(subdirs, pattern) + fnmatch.filter(files, pattern)
            return sorted(self / name for name in names)
        with backend_errors(str(self), self.fs.storage_options):
            found = self.fs.glob(posixpath.join(self.path, pattern), detail=True)
        return sorted(self._child(p, i.get("type"), i.get("size")) for p, i in found.items())

    def rglob(self, pattern: str) -> list[RemotePath]:
        self.fs.invalidate_cache(self.path)  # files added since the last look are found
        with backend_errors(str(self), self.fs.storage_options):
            found = self.fs.glob(posixpath.join(self.path, "**", pattern), detail=True)
        return sorted(
            (self._child(p, info.get("type"), info.get("size")) for p, info in found.items()),
            key=lambda p: p.path,
        )


def _fetch_heads(fs: Any, listing: _Listing, first: str, size: int) -> None:
    """The heads of the next files the walk will sniff, fetched concurrently."""
    at = listing.position[first]
    upcoming = listing.order[at : at + HEADS_AT_ONCE]
    batch = [p for p in upcoming if listing.position.pop(p, None) is not None]
    with backend_errors(fs.unstrip_protocol(first), fs.storage_options):
        heads = fs.cat_ranges(batch, [0] * len(batch), [size] * len(batch), on_error="return")
    listing.heads = {p: h for p, h in zip(batch, heads, strict=True) if isinstance(h, bytes)}


@contextmanager
def backend_errors(name: str, options: StorageOptions | None = None) -> Iterator[None]:
    """Any failure of a storage backend as an InputError naming the path, credentials masked."""
    try:
        yield
    except InputError:
        raise
    except ImportError as e:  # fsspec found, the backend for this protocol not
        raise InputError(name, f"{INSTALL} ({e})") from None
    except FileNotFoundError:
        raise InputError(name, "no such file or directory") from None
    except PermissionError as e:
        raise InputError(name, redact(f"access denied ({e})", options)) from None
    except Exception as e:  # network, credentials, a backend's own errors
        message = str(e).splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(name, redact(f"{type(e).__name__}: {message}", options)) from None


def filesystem(url: str, options: StorageOptions | None = None) -> tuple[Any, str]:
    """fsspec's filesystem for a URL and the path on it; credentials from the backend's own
    conventions (environment, config files, FSSPEC_<PROTOCOL>_<OPTION>) and `options`."""
    shown = redact(url, options)
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise InputError(shown, INSTALL) from None
    with backend_errors(shown, options):
        return url_to_fs(url, **dict(options or {}))


def locate(
    arg: str | os.PathLike | RemotePath, options: StorageOptions | None = None
) -> Path | RemotePath:
    """One path, local or remote, as given (no glob)."""
    if isinstance(arg, RemotePath):
        return arg
    if not is_url(arg):
        return Path(arg)
    fs, path = filesystem(arg, options)
    return RemotePath(fs, path)


def resolve(arg: str, options: StorageOptions | None = None) -> list[Path | RemotePath]:
    """The paths an argument names: itself, or what its glob pattern matches."""
    import glob

    if not is_url(arg):
        if not Path(arg).exists() and glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                raise InputError(arg, "no file matches this pattern")
            return [Path(m) for m in matches]
        return [Path(arg)]
    fs, path = filesystem(arg, options)
    if not glob.has_magic(path):
        return [RemotePath(fs, path)]
    with backend_errors(redact(arg, options), options):
        found = fs.glob(path, detail=True)
    if not found:
        raise InputError(redact(arg, options), "no file matches this pattern")
    return [RemotePath(fs, p, i.get("type"), i.get("size")) for p, i in sorted(found.items())]


def read_head(path: Path | RemotePath, size: int) -> bytes:
    """The first `size` bytes of a file: one ranged read where the file is remote."""
    if isinstance(path, RemotePath):
        return path.read_range(0, size)
    with open(path, "rb") as f:
        return f.read(size)


def walk(
    root: Path | RemotePath, sniffed: Callable[[str], bool] = lambda name: False
) -> Iterator[tuple[Path | RemotePath, list[str], list[str]]]:
    """`os.walk` for local and remote trees: (folder, subfolder names, file names), top down;
    emptying the subfolder list prunes. `sniffed(name)` says which files' heads will be read,
    so that a remote walk fetches them in batches."""
    if isinstance(root, Path):
        for folder, dirs, files in os.walk(root):
            yield Path(folder), dirs, files
        return
    with backend_errors(str(root), root.fs.storage_options):
        found = root.fs.find(root.path, detail=True)
    files = {p: i.get("size") or 0 for p, i in found.items() if i.get("type") != "directory"}
    dirs = {root.path}
    for path in files:
        up = posixpath.dirname(path)
        while up.startswith(root.path) and up not in dirs:
            dirs.add(up)
            up = posixpath.dirname(up)
    children: dict[str, tuple[list[str], list[str]]] = {d: ([], []) for d in dirs}
    for d in dirs - {root.path}:
        children[posixpath.dirname(d)][0].append(posixpath.basename(d))
    for f in files:
        children[posixpath.dirname(f)][1].append(posixpath.basename(f))
    listing = _Listing(files, dirs, children)

    def in_walk_order(folder: str) -> Iterator[str]:
        subdirs, names = children[folder]
        yield from (posixpath.join(folder, f) for f in sorted(names) if sniffed(f))
        for name in sorted(subdirs):
            yield from in_walk_order(posixpath.join(folder, name))

    listing.order = list(in_walk_order(root.path))
    listing.position = {p: i for i, p in enumerate(listing.order)}
    root._listing = listing

    def visit(folder: RemotePath) -> Iterator[tuple[RemotePath, list[str], list[str]]]:
        subdirs, names = children[folder.path]
        subdirs, names = list(subdirs), list(names)
        yield folder, subdirs, names
        for name in subdirs:
            yield from visit(folder._child(posixpath.join(folder.path, name), "directory"))

    yield from visit(root)
