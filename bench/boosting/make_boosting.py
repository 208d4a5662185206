"""Write tests/data/boosting: the stdout of real gradient-boosting runs, one line a round.

XGBoost's `xgb.train(..., evals=[(train, "train"), (valid, "validation")])` prints
`[10]\\ttrain-logloss:0.31\\tvalidation-logloss:0.35`; LightGBM's `log_evaluation` callback
prints `[10]\\ttraining's binary_logloss: 0.31\\tvalid_1's binary_logloss: 0.35`. Data:
sklearn's breast cancer set, a fixed split.

    python bench/boosting/make_boosting.py   (needs xgboost and lightgbm)
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "boosting"


def data(flipped: float = 0.0):
    """The split, with a share of the training labels flipped (noisy labels to overfit on)."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(x, y, test_size=0.3, random_state=0)
    flip = np.random.default_rng(0).random(len(y_train)) < flipped
    return x_train, x_valid, np.where(flip, 1 - y_train, y_train), y_valid


def xgboost_log(name: str, rounds: int, flipped: float = 0.0, **params) -> None:
    import xgboost as xgb

    x_train, x_valid, y_train, y_valid = data(flipped)
    train, valid = xgb.DMatrix(x_train, y_train), xgb.DMatrix(x_valid, y_valid)
    params = {"objective": "binary:logistic", "eval_metric": "logloss", "seed": 0} | params
    with contextlib.redirect_stdout(io.StringIO()) as out:
        xgb.train(params, train, rounds, evals=[(train, "train"), (valid, "validation")])
    (OUT / f"{name}.log").write_text(out.getvalue())


def lightgbm_log(name: str, rounds: int, flipped: float = 0.0, **params) -> None:
    import lightgbm as lgb

    x_train, x_valid, y_train, y_valid = data(flipped)
    train = lgb.Dataset(x_train, y_train)
    valid = lgb.Dataset(x_valid, y_valid, reference=train)
    params = {"objective": "binary", "verbose": -1, "seed": 0} | params
    with contextlib.redirect_stdout(io.StringIO()) as out:
        lgb.train(
            params, train, rounds, valid_sets=[train, valid],
            callbacks=[lgb.log_evaluation(1)],
        )  # fmt: skip
    (OUT / f"{name}.log").write_text(out.getvalue())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # a learning rate and depth the set can take: the validation loss levels off
    xgboost_log("xgboost_healthy", 150, eta=0.05, max_depth=3)
    # 15 % of the training labels flipped, 300 rounds: the trees fit the noise, the validation
    # loss climbs from its best (round ~30 for XGBoost, ~140 for LightGBM)
    xgboost_log("xgboost_overfit", 300, flipped=0.15, eta=0.3, max_depth=6)
    lightgbm_log("lightgbm_healthy", 150, learning_rate=0.05, num_leaves=7)
    lightgbm_log("lightgbm_overfit", 300, flipped=0.15, learning_rate=0.1, num_leaves=31)
    # a high rate and leaves of one sample: the training loss reaches 5e-6 by round 47 and
    # stays there to the digit (no split helps any more) while the validation loss climbs
    lightgbm_log("lightgbm_exact_fit", 300, learning_rate=0.5, num_leaves=63, min_data_in_leaf=1)


if __name__ == "__main__":
    sys.exit(main())
