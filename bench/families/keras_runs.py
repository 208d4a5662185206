"""Keras 3 (torch backend) models of sklearn's digits, logged the four ways Keras users keep
their curves: the History dict dumped to JSON, CSVLogger, and `model.fit`'s stdout with
verbose=2 (one line per epoch, redirected to a file) and verbose=1 (progress bars written to a
terminal: the run is trained in a pseudo-terminal and everything it printed is kept, carriage
returns and ANSI codes included).

    python bench/families/keras_runs.py OUT_DIR [--only NAME ...]
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

sys.path.insert(0, str(Path(__file__).parent))
from common import (  # noqa: E402
    Recorder,
    Run,
    Writer,
    digits,
    held_out_batch,
    main_for,
    single_thread,
)


@dataclass(frozen=True)
class Setup:
    model: str = "mlp"  # mlp | cnn | logreg | lstm | cnn1d
    epochs: int = 30
    lr: float = 1e-3
    optimizer: str = "adam"
    train_size: int | None = None
    width: int = 64
    lr_jump: tuple[int, float] | None = None  # (epoch, factor from then on)
    nan_pixel: bool = False  # one training image with a missing (NaN) pixel
    shuffled_labels: bool = False
    batch: int = 64
    seed: int = 0


def build(setup: Setup):
    import keras
    from keras import layers

    keras.utils.set_random_seed(setup.seed)
    w = setup.width
    body = {
        "mlp": [layers.Dense(w, activation="relu"), layers.Dense(w, activation="relu")],
        "cnn": [
            layers.Reshape((8, 8, 1)),
            layers.Conv2D(w // 4, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(w // 2, 3, padding="same", activation="relu"),
            layers.Flatten(),
        ],
        "logreg": [],
        "lstm": [layers.Reshape((8, 8)), layers.LSTM(w)],  # the eight rows as a sequence
        "cnn1d": [  # along the 64 pixels as one sequence
            layers.Reshape((64, 1)),
            layers.Conv1D(w // 4, 5, padding="same", activation="relu"),
            layers.MaxPooling1D(),
            layers.Conv1D(w // 2, 5, padding="same", activation="relu"),
            layers.GlobalMaxPooling1D(),
        ],
    }[setup.model]
    model = keras.Sequential([keras.Input((64,)), *body, layers.Dense(10)])
    optimizer = (
        keras.optimizers.Adam(setup.lr)
        if setup.optimizer == "adam"
        else keras.optimizers.SGD(setup.lr, momentum=0.9)
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


def fit(setup: Setup, verbose: int, callbacks: list) -> dict:
    import keras

    single_thread(setup.seed)
    x, y, vx, vy = digits(setup.seed, setup.train_size)
    if setup.shuffled_labels:
        y = np.random.default_rng(setup.seed).permutation(y)
    if setup.nan_pixel:
        x[700, 27] = float("nan")
    if setup.lr_jump:
        at, factor = setup.lr_jump
        callbacks = [
            *callbacks,
            keras.callbacks.LearningRateScheduler(
                lambda epoch, lr: setup.lr * (factor if epoch >= at else 1.0)
            ),
        ]
    model = build(setup)
    history = model.fit(
        x, y, validation_data=(vx, vy), epochs=setup.epochs, batch_size=setup.batch,
        verbose=verbose, callbacks=callbacks,
    )  # fmt: skip
    return {k: [float(v) for v in values] for k, values in history.history.items()}


def record(history: dict) -> Recorder:
    recorder = Recorder(Writer())
    for epoch, (loss, val) in enumerate(zip(history["loss"], history["val_loss"], strict=True)):
        recorder.log(epoch, {"loss": loss, "val_loss": val})
    return recorder


def train(run: Run, out: Path) -> Recorder:
    setup: Setup = run.options["setup"]
    if run.writer == "keras_history":
        history = fit(setup, 0, [])
        (out / "history.json").write_text(json.dumps(history))
    elif run.writer == "keras_csvlogger":
        import keras

        history = fit(setup, 0, [keras.callbacks.CSVLogger(str(out / "training.log"))])
    else:  # fit's own output, in a child process: a file for verbose=2, a terminal for 1
        verbose = 2 if run.writer == "keras_stdout_v2" else 1
        command = [sys.executable, __file__, "--fit", run.name, str(out), str(verbose)]
        with open(out / "fit.log", "wb") as log:
            if verbose == 2:
                subprocess.run(command, stdout=log, check=True)
            else:
                _in_terminal(command, log)
        history = json.loads((out / "history.tmp").read_text())
        (out / "history.tmp").unlink()
    return record(history)


def _in_terminal(command: list[str], log) -> None:
    """Run with its stdout on a pseudo-terminal, keeping every byte it writes there."""
    parent, child = pty.openpty()
    process = subprocess.Popen(command, stdout=child, stderr=subprocess.DEVNULL)
    os.close(child)
    while True:
        try:
            data = os.read(parent, 1 << 16)
        except OSError:  # the terminal closed: the child has exited
            break
        if not data:
            break
        log.write(data)
    os.close(parent)
    if process.wait():
        raise subprocess.CalledProcessError(process.returncode, command)


def fit_child(name: str, out: Path, verbose: int) -> None:
    """The child of a stdout run: trains with Keras printing to its stdout, and leaves the
    history beside it for the label check."""
    (run,) = [r for r in RUNS if r.name == name]
    with contextlib.redirect_stderr(open(os.devnull, "w")):  # noqa: SIM115
        history = fit(run.options["setup"], verbose, [])
    (out / "history.tmp").write_text(json.dumps(history))


def keras_run(name, writer, verdict, kinds, reason, **setup) -> Run:
    family = setup.get("model", "mlp")
    return Run(name, family, writer, verdict, tuple(kinds), reason, train,
               {"setup": Setup(**setup)})  # fmt: skip


OVERFIT = dict(train_size=150, width=256, epochs=200, batch=16)

RUNS = [
    keras_run("keras_mlp_healthy_history", "keras_history", "pass", [], "Adam, 30 epochs"),
    keras_run("keras_cnn_overfit_history", "keras_history", "fail", ["overfitting"], "a CNN on 150 training digits for 200 epochs: validation climbs steadily", model="cnn", **OVERFIT),
    keras_run("keras_logreg_short_csvlogger", "keras_csvlogger", "pass", [], "12 epochs: a run of 12 points", model="logreg", epochs=12, lr=1e-2),
    keras_run("keras_cnn_overfit_mild_csvlogger", "keras_csvlogger", "warn", ["overfitting"], "a CNN on 150 training digits, stopped some 30 epochs after the validation best: a mild rise", model="cnn", train_size=150, width=256, epochs=52, batch=16, seed=1),
    keras_run("keras_mlp_plateau_csvlogger", "keras_csvlogger", "fail", ["plateau"], "lr 1e-7: the loss never moves", lr=1e-7, epochs=20),
    keras_run("keras_mlp_explode_stdout_v2", "keras_stdout_v2", "fail", ["divergence"], "a LearningRateScheduler that multiplies SGD's lr by 1e7 from epoch 8: the loss explodes and stays up", optimizer="sgd", lr=0.01, epochs=15, lr_jump=(8, 1e7)),
    keras_run("keras_mlp_nan_stdout_v2", "keras_stdout_v2", "fail", ["nan"], "one training image has a NaN pixel: the loss is NaN from the first epoch", epochs=15, nan_pixel=True),
    keras_run("keras_cnn_healthy_stdout_v2", "keras_stdout_v2", "pass", [], "CNN, Adam, 20 epochs", model="cnn", epochs=20),
    keras_run("keras_mlp_overfit_stdout_v2", "keras_stdout_v2", "fail", ["overfitting"], "150 training digits for 200 epochs: validation climbs steadily", **OVERFIT, seed=1),
    keras_run("keras_mlp_healthy_stdout_v1", "keras_stdout_v1", "pass", [], "Adam, 25 epochs, progress bars", epochs=25, seed=2),
    keras_run("keras_logreg_healthy_stdout_v1", "keras_stdout_v1", "pass", [], "logistic regression, 30 epochs, progress bars", model="logreg", epochs=30, lr=1e-2),
    keras_run("keras_mlp_divergence_stdout_v1", "keras_stdout_v1", "fail", ["divergence"], "a LearningRateScheduler that multiplies the lr by 300 from epoch 15: the loss rises and stays up", epochs=30, lr_jump=(15, 300.0)),
]  # fmt: skip

# batch 3: held out of the retuning (see torch_runs.py)
RUNS += held_out_batch(3, [
    keras_run("keras_lstm_short_csvlogger", "keras_csvlogger", "pass", [], "an LSTM over the digit rows, 15 epochs: a run of 15 points", model="lstm", epochs=15, lr=3e-3, batch=32, seed=33),
    keras_run("keras_lstm_healthy_stdout_v1", "keras_stdout_v1", "pass", [], "an LSTM, batch 16, 20 epochs, progress bars", model="lstm", epochs=20, batch=16, seed=34),
    keras_run("keras_lstm_chance_history", "keras_history", "warn", ["underfitting"], "labels shuffled by a broken pipeline: the LSTM's loss stays at chance", model="lstm", shuffled_labels=True, epochs=20, seed=35),
    keras_run("keras_lstm_overfit_stdout_v2", "keras_stdout_v2", "fail", ["overfitting"], "an LSTM on 150 training digits for 150 epochs: validation climbs steadily", model="lstm", train_size=150, width=128, epochs=150, batch=16, seed=36),
    keras_run("keras_mlp_nan_stdout_v1", "keras_stdout_v1", "fail", ["nan"], "a LearningRateScheduler that multiplies SGD's lr by 1e12 from epoch 6: the weights overflow and the loss turns NaN", optimizer="sgd", lr=0.01, epochs=12, lr_jump=(6, 1e12), batch=32, seed=37),
])  # fmt: skip


# batch 4: held out (see torch_runs.py)
RUNS += held_out_batch(4, [
    keras_run("keras_cnn1d_healthy_stdout_v1", "keras_stdout_v1", "pass", [], "a 1-D CNN along the pixels, Adam, 20 epochs of batch 32, progress bars", model="cnn1d", epochs=20, batch=32, seed=65),
    keras_run("keras_cnn1d_chance_history", "keras_history", "warn", ["underfitting"], "labels shuffled by a broken pipeline: the 1-D CNN's loss stays at chance", model="cnn1d", width=32, shuffled_labels=True, epochs=20, seed=66),
    keras_run("keras_cnn1d_divergence_csvlogger", "keras_csvlogger", "fail", ["divergence"], "Adam at lr 3e-3, then a LearningRateScheduler that multiplies the lr by 100 from epoch 15: the loss rises and stays up", model="cnn1d", lr=3e-3, epochs=30, lr_jump=(15, 100.0), seed=67),
])  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1] == "--fit":
        fit_child(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
    else:
        main_for(RUNS)
