"""Train a small Keras 3 classifier (torch backend) and print `model.fit` output to stdout.

KERAS_BACKEND=torch python make.py 2 > fit_verbose2.out
KERAS_BACKEND=torch script -qfc "python make.py 1" fit_verbose1.out   # a terminal: \\r bars
"""

import sys

import keras
import numpy as np

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.standard_normal((1200, 8)).astype("float32")
y = (x[:, :3].sum(axis=1) + 0.5 * rng.standard_normal(1200) > 0).astype("int32")
model = keras.Sequential(
    [keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)]
)
model.compile(
    optimizer=keras.optimizers.Adam(1e-2),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
model.fit(x, y, validation_split=0.2, epochs=12, batch_size=32, verbose=int(sys.argv[1]))
