"""Per-run work of `compare` on a Dask distributed cluster; only summaries travel back.

Runs go in batches, so that the scheduler's cost per task (about a millisecond) stays small
beside the work; a batch whose worker died is split and its runs retried one by one, so that
a run that kills every worker it lands on is reported as a problem for that run alone.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from .errors import LossTestError

INSTALL = "--cluster needs the dask extra: pip install 'losstest[dask]'"
TASKS_PER_THREAD = 8  # enough tasks that every thread stays busy to the end
LARGEST_BATCH = 50  # runs in one task at most: progress and retries stay fine-grained

Item = TypeVar("Item")
Result = TypeVar("Result")


def batch_size(items: int, threads: int) -> int:
    return max(1, min(LARGEST_BATCH, math.ceil(items / (max(1, threads) * TASKS_PER_THREAD))))


def _run_batch(batch: bytes) -> list:
    """On a worker: the batch arrives as one pickled blob, which the scheduler stores and
    forwards without unpickling (it needs neither losstest nor the storage backends)."""
    work, items = pickle.loads(batch)
    return [work(item) for item in items]


def map_on_cluster(
    address: str,
    work: Callable[[Item], Result],
    items: Sequence[Item],
    lost: Callable[[Item, str], Result],
) -> Iterator[tuple[int, Result]]:
    """(index, result) of `work(item)` for every item, as batches finish on the cluster;
    `lost(item, why)` stands in for an item whose worker died (or whose task failed)."""
    try:
        from distributed import Client, KilledWorker, as_completed
    except ImportError:
        raise LossTestError(INSTALL) from None
    try:
        client = Client(address, set_as_default=False)
    except (OSError, ValueError, TimeoutError) as e:
        raise LossTestError(f"--cluster {address}: could not connect ({e})") from None
    with client:
        size = batch_size(len(items), sum(client.nthreads().values()))
        indices = [list(range(i, min(i + size, len(items)))) for i in range(0, len(items), size)]
        pending, futures = {}, []
        for batch in indices:
            blob = pickle.dumps((work, [items[i] for i in batch]))
            future = client.submit(_run_batch, blob, pure=False)
            pending[future.key] = batch
            futures.append(future)
        done = as_completed(futures, loop=client.loop)
        del futures
        for future in done:
            batch = pending.pop(future.key)
            if future.status == "finished":
                yield from zip(batch, future.result(), strict=True)
            elif len(batch) > 1:  # find the run that failed: each again on its own
                for i in batch:
                    single = client.submit(_run_batch, pickle.dumps((work, [items[i]])), pure=False)
                    pending[single.key] = [i]
                    done.add(single)
            else:
                error = future.exception()
                why = (
                    "its worker died (killed for memory, or crashed)"
                    if isinstance(error, KilledWorker)
                    else f"its task failed ({type(error).__name__}: {str(error).splitlines()[0]})"
                )  # fmt: skip
                yield batch[0], lost(items[batch[0]], why)
            future.release()
