"""Log one small made-up training curve through the real trackers' own local writers.

    python make.py dvclive|sacred|ray|wandb|comet|neptune|clearml   (in a venv with the tool)

Each writes under this folder; SOURCES.md lists the versions used.
"""

import math
import os
import sys
from pathlib import Path

HERE = Path(__file__).parent.resolve()
STEPS = 30


def loss_at(step: int) -> float:
    return 0.4 + 2.0 / (1 + step / 5) + 0.02 * math.sin(step)


def val_loss_at(step: int) -> float:
    return loss_at(step) + 0.1


def dvclive() -> None:
    from dvclive import Live

    os.chdir(HERE / "dvclive_run")
    with Live(save_dvc_exp=False) as live:
        for step in range(STEPS):
            live.log_metric("train/loss", loss_at(step))
            live.log_metric("val/loss", val_loss_at(step))
            live.log_metric("lr", 0.01)
            live.next_step()


def sacred() -> None:
    from sacred import Experiment
    from sacred.observers import FileStorageObserver

    ex = Experiment("tiny", save_git_info=False)
    ex.observers.append(FileStorageObserver(str(HERE / "sacred_runs")))

    @ex.main
    def train(_run):
        for step in range(STEPS):
            _run.log_scalar("training.loss", loss_at(step), step)
            if step % 5 == 4:
                _run.log_scalar("validation.loss", val_loss_at(step), step)

    ex.run()


def ray() -> None:
    from ray import tune

    def trainable(config):
        for step in range(STEPS):
            tune.report({"loss": loss_at(step) * config["scale"], "val_loss": val_loss_at(step)})

    tuner = tune.Tuner(
        trainable,
        param_space={"scale": tune.grid_search([1.0])},
        run_config=tune.RunConfig(name="tune_run", storage_path=str(HERE / "ray_results")),
    )
    tuner.fit()


def wandb() -> None:
    import wandb as wb

    run = wb.init(project="tiny", mode="offline", dir=str(HERE / "wandb_offline"))
    for step in range(STEPS * 5):  # past the 32 KiB block of the .wandb file
        run.log({"train/loss": loss_at(step), "lr": 0.01}, step=step)
        if step % 5 == 4:
            run.log({"val/loss": val_loss_at(step)}, step=step)
    run.finish()


def comet() -> None:
    import comet_ml

    experiment = comet_ml.OfflineExperiment(
        project_name="tiny", offline_directory=str(HERE / "comet_offline"),
        auto_output_logging=False, log_env_details=False, log_git_metadata=False,
        log_env_gpu=False, log_env_host=False, log_env_cpu=False, display_summary_level=0,
    )  # fmt: skip
    for step in range(STEPS):
        experiment.log_metric("loss", loss_at(step), step=step)
        if step % 5 == 4:
            experiment.log_metric("val_loss", val_loss_at(step), step=step)
    experiment.end()


def neptune() -> None:
    import neptune as nt

    os.chdir(HERE)
    run = nt.init_run(project="tiny/tiny", mode="offline", capture_hardware_metrics=False,
                      capture_stdout=False, capture_stderr=False, git_ref=False)  # fmt: skip
    for step in range(STEPS):
        run["train/loss"].append(loss_at(step), step=step)
        if step % 5 == 4:
            run["val/loss"].append(val_loss_at(step), step=step)
    run.stop()


def clearml() -> None:
    from clearml import Task

    os.environ["CLEARML_CACHE_DIR"] = str(HERE / "clearml_offline")
    Task.set_offline(offline_mode=True)
    task = Task.init(project_name="tiny", task_name="tiny", auto_connect_frameworks=False,
                     auto_resource_monitoring=False, auto_connect_streams=False)  # fmt: skip
    logger = task.get_logger()
    for step in range(STEPS):
        logger.report_scalar("loss", "train", loss_at(step), iteration=step)
        if step % 5 == 4:
            logger.report_scalar("loss", "val", val_loss_at(step), iteration=step)
    task.close()


if __name__ == "__main__":
    (HERE / "dvclive_run").mkdir(exist_ok=True)
    globals()[sys.argv[1]]()
