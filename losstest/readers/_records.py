"""Rows read one at a time (a text line, a protocol-buffer record) into the columns
`frame.from_columns` takes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Columns = dict[str, tuple[np.ndarray, np.ndarray]]


def columns_of(rows: Sequence[dict[str, float]], skip: frozenset[str] = frozenset()) -> Columns:
    """Each key's values in row order (NaN where a row lacks it) and where it was present."""
    keys = [k for k in dict.fromkeys(k for row in rows for k in row) if k not in skip]
    return {
        key: (
            np.array([row.get(key, np.nan) for row in rows], dtype=float),
            np.array([key in row for row in rows], dtype=bool),
        )
        for key in keys
    }
