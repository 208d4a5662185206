"""Every key of a large JSON Lines file and the kinds of value it holds, in one compiled pass.

A fast columnar parser (duckdb) must be told the columns; inferring them from a sample loses
keys that first appear late (an eval metric, a summary on the last line). This scan reads all
the bytes once, in both cores, without parsing numbers, so the parser gets every key exactly.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

NUMBER, NULL, BOOL, STRING, NESTED = 1, 2, 4, 8, 16  # kinds of value, or-ed per key
ESCAPED_KEY, TOO_MANY_KEYS = 1, 2  # why a file is left to the general reader
MAX_KEYS, MAX_KEY_BYTES, SLOTS = 1024, 1 << 16, 64
RANGE = 8 << 20  # per task; small enough that buffers are reused rather than faulted in anew


def _scan(data, keybuf, key_start, kinds):  # pragma: no cover - compiled by `_compiled`
    """Keys into keybuf/key_start, their value kinds into kinds; returns (keys, objects, flags).

    A string followed by a colon is a key. The key seen at the same position of the previous
    line is tried first, so the common line costs one comparison per key.
    """
    n = len(data)
    keys = objects = flags = 0
    slot = np.full(SLOTS, -1, np.int64)
    position = 0  # ordinal of the key within its line
    i = 0
    while i < n:
        c = data[i]
        if c == 34:  # "
            start = j = i + 1
            escaped = False
            while j < n:
                d = data[j]
                if d == 92:  # backslash: the next byte is escaped
                    escaped = True
                    j += 2
                    continue
                if d == 34:
                    break
                j += 1
            k = j + 1
            while k < n and (data[k] == 32 or data[k] == 9 or data[k] == 13):
                k += 1
            if k >= n or data[k] != 58:  # a string value, not a key
                i = j + 1
                continue
            if escaped:
                flags |= ESCAPED_KEY
            length = j - start
            key = -1
            last = slot[position] if position < SLOTS else -1
            for attempt in range(-1, keys):  # the key last seen here first, then every key
                candidate = last if attempt < 0 else attempt
                if candidate < 0 or key_start[candidate + 1] - key_start[candidate] != length:
                    continue
                base = key_start[candidate]
                same = True
                for t in range(length):
                    if keybuf[base + t] != data[start + t]:
                        same = False
                        break
                if same:
                    key = candidate
                    break
            if key < 0:
                if keys == MAX_KEYS or key_start[keys] + length > MAX_KEY_BYTES:
                    return keys, objects, flags | TOO_MANY_KEYS
                base = key_start[keys]
                keybuf[base : base + length] = data[start : start + length]
                key_start[keys + 1] = base + length
                key = keys
                keys += 1
            if position < SLOTS:
                slot[position] = key
            position += 1
            v = k + 1
            while v < n and (data[v] == 32 or data[v] == 9 or data[v] == 13):
                v += 1
            if v < n:
                f = data[v]
                if f == 34:
                    kinds[key] |= STRING
                elif f == 110:  # null
                    kinds[key] |= NULL
                elif f == 116 or f == 102:  # true, false
                    kinds[key] |= BOOL
                elif f == 123 or f == 91:  # an object or an array
                    kinds[key] |= NESTED
                else:
                    kinds[key] |= NUMBER
                    while v < n and data[v] != 44 and data[v] != 125 and data[v] != 10:
                        v += 1  # a number holds no quote: on to the , } or line end
            i = v
            continue
        if c == 123 and position == 0:  # { opening a line's object
            objects += 1
        elif c == 10:
            position = 0
        i += 1
    return keys, objects, flags


@functools.cache
def _compiled() -> Callable:
    """`_scan` compiled, on first use only: numba costs ~0.35 s to import; the machine code
    is cached beside this module after the first compilation."""
    import numba

    return numba.njit(nogil=True, cache=True)(_scan)


@dataclass
class Census:
    """What the scan found: each key (as bytes) with its value kinds, objects, flags."""

    kinds: dict[bytes, int] = field(default_factory=dict)
    objects: int = 0
    flags: int = 0

    def add(self, other: Census) -> None:
        for key, kind in other.kinds.items():
            self.kinds[key] = self.kinds.get(key, 0) | kind
        self.objects += other.objects
        self.flags |= other.flags


def _lines_in(path: str, offset: int, size: int, total: int) -> bytes | memoryview:
    """The lines that start in [offset, offset + size): the last one read to its end."""
    with open(path, "rb") as f:
        lead = 1 if offset else 0  # the byte before tells whether offset starts a line
        f.seek(offset - lead)
        data = f.read(size + lead)
        while offset + size < total and data.find(b"\n", size + lead - 1) < 0:
            more = f.read(1 << 16)
            if not more:
                break
            data += more
    start = data.find(b"\n") + 1 if offset else 0
    if offset and start == 0:
        return b""
    end = data.find(b"\n", size + lead - 1) + 1 or len(data)
    return memoryview(data)[start:end]


def _census_of(path: str, offset: int, size: int, total: int) -> Census:
    data = np.frombuffer(_lines_in(path, offset, size, total), np.uint8)
    keybuf = np.empty(MAX_KEY_BYTES, np.uint8)
    key_start = np.zeros(MAX_KEYS + 1, np.int64)
    kinds = np.zeros(MAX_KEYS, np.uint8)
    keys, objects, flags = _compiled()(data, keybuf, key_start, kinds)
    found = {bytes(keybuf[key_start[i] : key_start[i + 1]]): int(kinds[i]) for i in range(keys)}
    return Census(found, objects, flags)


def census(path: str) -> Census:
    """Every key of the file, scanned in ranges of RANGE bytes on all cores."""
    total = os.path.getsize(path)
    out = Census()
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for part in pool.map(lambda o: _census_of(path, o, RANGE, total), range(0, total, RANGE)):
            out.add(part)
    return out
