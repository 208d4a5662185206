"""Writes tests/data/keras/history.json: the `History.history` of a small Keras model (torch
backend) fitted for 40 epochs to a noisy two-class problem, dumped with json as scripts do.

    pip install keras torch && KERAS_BACKEND=torch python tests/fuzzing/make_keras_history.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "data" / "keras" / "history.json"

rng = np.random.default_rng(0)
x = rng.standard_normal((2000, 20)).astype("float32")
y = ((x[:, :5].sum(axis=1) + 0.8 * rng.standard_normal(2000)) > 0).astype("float32")
keras.utils.set_random_seed(0)
model = keras.Sequential(
    [
        keras.Input((20,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"]
)
history = model.fit(x, y, validation_split=0.3, epochs=40, batch_size=64, verbose=0)
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(history.history))
print(OUT, {k: len(v) for k, v in history.history.items()})
