"""Write a small real MLflow file store (tests/data/mlflow) through MLflow itself:

MLFLOW_ALLOW_FILE_STORE=true python bench/realruns/mlflow_store.py tests/data/mlflow
"""

from __future__ import annotations

import math
import os
import sys

import mlflow


def main() -> None:
    os.chdir(sys.argv[1])
    mlflow.set_tracking_uri("file:./mlruns")
    with mlflow.start_run(run_name="bright-fox"):
        mlflow.log_param("lr", 0.001)
        for step in range(50):
            mlflow.log_metric("train/loss", 3.0 * math.exp(-step / 20) + 0.5, step=step)
            if step % 10 == 0:
                mlflow.log_metric("val_loss", 3.1 * math.exp(-step / 20) + 0.6, step=step)
        mlflow.log_metric("train/loss", float("nan"), step=50)


if __name__ == "__main__":
    main()
