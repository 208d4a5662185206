from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus"
REALRUNS = DATA / "realruns"


@pytest.fixture(params=["event by event", "compiled scan"])
def reading(request, monkeypatch):
    """Both paths of the TensorBoard reader: the compiled scan, and protobuf alone where the
    scan was not built."""
    from losstest.readers import tensorboard

    if request.param == "compiled scan":
        assert tensorboard._tfevents is not None, "the compiled scan was not built"
    else:
        monkeypatch.setattr(tensorboard, "_tfevents", None)
    return request.param


@pytest.fixture
def write(tmp_path):
    """Write text (or bytes) to a file in a temporary folder; `.gz` names are compressed."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return path

    return _write


def healthy_curve(n: int = 1000, noise: float = 0.03, seed: int = 0) -> np.ndarray:
    """A made-up power-law learning curve with multiplicative noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (2.0 + 8.0 / (1 + t / 30) ** 0.7) * np.exp(noise * rng.standard_normal(n))
