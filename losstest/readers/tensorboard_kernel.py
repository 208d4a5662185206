"""One compiled pass over a whole event file: framing, both checksums, and the scalars.

Imported only for large files (numba costs a few tenths of a second to import); compiled
once and cached on disk. Every event whose layout the scan does not decode exactly (tensors,
repeated or conflicting fields, unknown wire types) is handed back for the protobuf classes,
so the scan has to be right only about the plain `simple_value` layout.
"""

from __future__ import annotations

import numba
import numpy as np

# What ended the scan: the end of the data, damage (as tensorboard's own reader finds it), or
# a table of tags too small for the file (the caller then scans again with a larger one).
END, TRUNCATED, HEADER_CHECKSUM, CHECKSUM, TOO_MANY_TAGS = 0, 1, 2, 3, 4

_SKIP, _SCALARS, _OTHER, _FULL = 0, 1, 2, 3  # no scalars / decoded here / for protobuf
_BROKEN = -1  # an offset that says the varint or field could not be read


def crc_table() -> np.ndarray:
    """Slicing-by-8 tables of CRC-32C (Castagnoli), as int64 for the compiled code."""
    c = np.arange(256, dtype=np.int64)
    for _ in range(8):
        c = np.where(c & 1, (c >> 1) ^ 0x82F63B78, c >> 1)
    table = np.empty((8, 256), dtype=np.int64)
    table[0] = c
    for k in range(1, 8):
        table[k] = (table[k - 1] >> 8) ^ table[0][table[k - 1] & 0xFF]
    return table


@numba.njit(cache=True, nogil=True)
def _u32(buf, i):
    return (
        np.int64(buf[i])
        | (np.int64(buf[i + 1]) << 8)
        | (np.int64(buf[i + 2]) << 16)
        | (np.int64(buf[i + 3]) << 24)
    )


@numba.njit(cache=True, nogil=True)
def _masked_crc(buf, start, end, table):
    """TFRecord's masked CRC-32C of buf[start:end]."""
    c = np.int64(0xFFFFFFFF)
    i = start
    while i + 8 <= end:
        c ^= _u32(buf, i)
        high = _u32(buf, i + 4)
        c = (
            table[7, c & 0xFF]
            ^ table[6, (c >> 8) & 0xFF]
            ^ table[5, (c >> 16) & 0xFF]
            ^ table[4, c >> 24]
            ^ table[3, high & 0xFF]
            ^ table[2, (high >> 8) & 0xFF]
            ^ table[1, (high >> 16) & 0xFF]
            ^ table[0, high >> 24]
        )
        i += 8
    while i < end:
        c = table[0, (c ^ buf[i]) & 0xFF] ^ (c >> 8)
        i += 1
    c ^= 0xFFFFFFFF
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


@numba.njit(cache=True, nogil=True)
def _varint(buf, i, end):
    """(value, next offset) of the varint at i, as protobuf reads it (low 64 bits)."""
    value = np.int64(0)
    for k in range(10):
        if i >= end:
            return value, _BROKEN
        byte = np.int64(buf[i])
        i += 1
        value |= (byte & 0x7F) << (7 * k)
        if byte < 0x80:
            return value, i
    return value, _BROKEN


@numba.njit(cache=True, nogil=True)
def _skip(buf, i, end, wire):
    """The offset after a field's value of this wire type."""
    if wire == 0:
        return _varint(buf, i, end)[1]
    if wire == 1:
        return i + 8 if i + 8 <= end else _BROKEN
    if wire == 5:
        return i + 4 if i + 4 <= end else _BROKEN
    if wire == 2:
        length, i = _varint(buf, i, end)
        if i < 0 or length < 0 or length > end - i:
            return _BROKEN
        return i + length
    return _BROKEN  # groups and invalid wire types: for the protobuf classes


@numba.njit(cache=True, nogil=True)
def _event(buf, start, end, word, double):
    """(kind, wall time, step, summary start, summary end) of one Event message.

    `word` and `double` are one int64 seen as a float64: bytes become a float without
    allocating an array view per value."""
    wall, step, summary_at, summary_end, members = 0.0, np.int64(0), -1, -1, 0
    i = start
    while i < end:
        key, i = _varint(buf, i, end)
        if i < 0:
            return _OTHER, wall, step, 0, 0
        field, wire = key >> 3, key & 7
        if field == 1 and wire == 1 and i + 8 <= end:
            word[0] = _u32(buf, i) | (_u32(buf, i + 4) << 32)
            wall = double[0]
            i += 8
        elif field == 2 and wire == 0:
            step, i = _varint(buf, i, end)
        elif field == 5 and wire == 2:
            length, i = _varint(buf, i, end)
            if i < 0 or length < 0 or length > end - i:
                return _OTHER, wall, step, 0, 0
            summary_at, summary_end = i, i + length
            i += length
            members += 1
        elif field <= 2:  # wall time or step with a wire type of its own: protobuf decides
            return _OTHER, wall, step, 0, 0
        else:
            i = _skip(buf, i, end, wire)
            if 3 <= field <= 10:
                members += 1
        if i < 0:
            return _OTHER, wall, step, 0, 0
    if members > 1:  # several members of the event's oneof: the last one wins in protobuf
        return _OTHER, wall, step, 0, 0
    if summary_at < 0:
        return _SKIP, wall, step, 0, 0
    return _SCALARS, wall, step, summary_at, summary_end


@numba.njit(cache=True, nogil=True)
def _value(buf, start, end, half, single):
    """(kind, tag start, tag end, value) of one Summary.Value: a scalar, something else, or
    a layout for protobuf (a tensor, or anything the scan cannot read)."""
    kind, tag_at, tag_end, value = _SKIP, 0, 0, 0.0
    i = start
    while i < end:
        key, i = _varint(buf, i, end)
        if i < 0:
            return _OTHER, 0, 0, 0.0
        field, wire = key >> 3, key & 7
        if field == 1 and wire == 2:
            length, i = _varint(buf, i, end)
            if i < 0 or length < 0 or length > end - i:
                return _OTHER, 0, 0, 0.0
            tag_at, tag_end = i, i + length
            i += length
        elif field == 2 and wire == 5 and i + 4 <= end:
            half[0] = _u32(buf, i)
            value = np.float64(single[0])
            kind = _SCALARS
            i += 4
        elif 3 <= field <= 6 and wire == 2:
            i = _skip(buf, i, end, wire)
            kind = _SKIP  # an image, histogram or audio: the oneof's last member wins
        elif (field == 7 or field == 9) and wire == 2:
            i = _skip(buf, i, end, wire)  # node name, metadata: nothing a scalar needs
        else:
            return _OTHER, 0, 0, 0.0  # a tensor, or a field out of its place
        if i < 0:
            return _OTHER, 0, 0, 0.0
    return kind, tag_at, tag_end, value


@numba.njit(cache=True, nogil=True)
def _same_bytes(buf, a, b, length):
    for k in range(length):  # noqa: SIM110 (a plain loop compiles; a generator does not)
        if buf[a + k] != buf[b + k]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _hash(buf, start, end):
    h = np.int64(-3750763034362895579)  # FNV-1a
    for k in range(start, end):
        h = (h ^ buf[k]) * 1099511628211
    return h


@numba.njit(cache=True, nogil=True)
def _lookup(buf, at, end, tags, table):
    """The id of a known tag (by its bytes), or the free hash slot for it as -1 - slot."""
    mask = len(table) - 1
    slot = _hash(buf, at, end) & mask
    length = end - at
    while table[slot] >= 0:
        known = table[slot]
        if tags[known, 1] == length and _same_bytes(buf, tags[known, 0], at, length):
            return known
        slot = (slot + 1) & mask
    return -1 - slot


@numba.njit(cache=True, nogil=True)
def scan(buf, crc, table):
    """Every `simple_value` scalar of an event file in write order, and what was left over.

    `table` is an empty hash table of tags (all -1, a power of two long); the scan ends with
    TOO_MANY_TAGS before it gets more than half full. Returns (steps, walls, values, tag ids,
    tags as (offset, length) rows, other events as (start, end, scalars before it) rows, how
    the scan ended, the offset of the record where it ended). Outputs are allocated at their
    bound (a scalar takes at least 7 bytes): only the part written is ever touched.
    """
    n = len(buf)
    bound = n // 7 + 1
    steps = np.empty(bound, dtype=np.int64)
    walls = np.empty(bound, dtype=np.float64)
    values = np.empty(bound, dtype=np.float64)
    ids = np.empty(bound, dtype=np.int64)
    tags = np.empty((len(table) // 2 + 1, 2), dtype=np.int64)
    recent = np.full(64, -1, dtype=np.int64)  # the tag last seen at each place in an event
    others = np.empty((n // 16 + 1, 3), dtype=np.int64)
    word = np.zeros(1, dtype=np.int64)
    double = word.view(np.float64)
    half = np.zeros(1, dtype=np.uint32)
    single = half.view(np.float32)
    count, ntags, nothers, pos, ended = 0, 0, 0, 0, END
    while pos < n:
        if n - pos < 12:
            ended = TRUNCATED
            break
        length = _u32(buf, pos) | (_u32(buf, pos + 4) << 32)
        if _masked_crc(buf, pos, pos + 8, crc) != _u32(buf, pos + 8):
            ended = HEADER_CHECKSUM
            break
        start = pos + 12
        if length < 0 or length > n - start - 4:
            ended = TRUNCATED
            break
        end = start + length
        if _masked_crc(buf, start, end, crc) != _u32(buf, end):
            ended = CHECKSUM
            break
        kind, wall, step, at, summary_end = _event(buf, start, end, word, double)
        mark, place = count, 0
        while kind == _SCALARS and at < summary_end:
            key, at = _varint(buf, at, summary_end)
            if at < 0 or key != 0x0A:  # anything but a Value in the summary
                kind = _OTHER
                break
            length, at = _varint(buf, at, summary_end)
            if at < 0 or length < 0 or length > summary_end - at:
                kind = _OTHER
                break
            what, tag_at, tag_end, value = _value(buf, at, at + length, half, single)
            at += length
            if what == _OTHER:
                kind = _OTHER
            elif what == _SCALARS:
                tag = recent[place] if place < len(recent) else -1
                if tag < 0 or not (
                    tags[tag, 1] == tag_end - tag_at
                    and _same_bytes(buf, tags[tag, 0], tag_at, tag_end - tag_at)
                ):
                    tag = _lookup(buf, tag_at, tag_end, tags, table)
                    if tag < 0 and 2 * (ntags + 1) > len(table):
                        kind = _FULL
                        break
                    if tag < 0:  # a new tag
                        table[-1 - tag] = ntags
                        tags[ntags, 0], tags[ntags, 1] = tag_at, tag_end - tag_at
                        tag, ntags = ntags, ntags + 1
                    if place < len(recent):
                        recent[place] = tag
                ids[count], steps[count], walls[count], values[count] = tag, step, wall, value
                count += 1
                place += 1
        if kind == _FULL:
            ended = TOO_MANY_TAGS
            break
        if kind == _OTHER:
            count = mark
            others[nothers, 0], others[nothers, 1], others[nothers, 2] = start, end, count
            nothers += 1
        pos = end + 4
    return (
        steps[:count],
        walls[:count],
        values[:count],
        ids[:count],
        tags[:ntags],
        others[:nothers],
        ended,
        pos,
    )
