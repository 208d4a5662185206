"""A JSON array of records, one a logged step or epoch: Chainer's `LogReport` file `log`
(`[{"epoch": 0, "iteration": 100, "main/loss": 0.31, ...}, ...]`), or a training loop's own
`json.dump` of its list of per-epoch dicts. Each record is read as a line of JSON Lines is."""

from __future__ import annotations

import pandas as pd

from ..errors import InputError
from ..frame import from_columns
from ._json import document, number_or_text
from ._table import columns_of
from .jsonl import flat_record
from .options import DEFAULT, ReadOptions
from .source import Source

NAME = "json-records"


def sniff(source: Source, options: ReadOptions = DEFAULT) -> bool:
    head = source.head().lstrip()
    return head[:1] == b"[" and head[1:].lstrip()[:1] == b"{" and b"loss" in head.lower()


def read(source: Source, options: ReadOptions = DEFAULT) -> pd.DataFrame:
    records = document(source)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputError(source.name, "not a JSON array of records (objects)")
    columns = columns_of([flat_record(r) for r in records], number_or_text)
    return from_columns(columns, step_name=options.step)
