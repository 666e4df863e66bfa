"""Write a production with Dask: one shard per partition, the manifest kept by the driver.

``pip install 'spineh5[dask]'``. :func:`write_production` takes

* a ``dask.bag.Bag`` whose elements are writer batches (one shard per partition),
* a list of ``dask.delayed`` producers, each giving one batch or an iterable of batches, or
* a callable with ``inputs=``: ``producer(input)`` gives the batches of one
  input file's shard (one shard per input, as a SLURM job array does),

and writes shard ``i`` to ``<folder>/<name>_<i:05d>.h5`` in its own task
(:func:`spineh5.parallel.shards.write_shard`). Only the driver (this process)
writes ``production.json``: a shard is recorded complete when its task
returned, i.e. after its writer finalized it and it validated. A task that
raises is retried ``retries`` times; a task whose worker dies is rescheduled
by ``distributed`` itself. A failed shard is recorded with its error and never
as complete.

Rerunning the same production (same folder, name, shard count) skips every
shard recorded complete whose file is still there with the recorded size and
sha256; their producers are not called. With a ``distributed.Client`` (given,
or the default client), results are recorded as they arrive; without one, the
shards run on dask's local scheduler and are recorded at the end.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import dask
from dask.delayed import Delayed

from .manifest import COMPLETE, MANIFEST_NAME, Manifest, ProductionError, ShardRecord, shard_name, shard_state
from .shards import ShardTask, write_shard

__all__ = ["ProductionResult", "write_production"]

#: Seconds between two manifest saves while shards complete (it is saved at the end in any case).
SAVE_INTERVAL = 1.0


@attrs.frozen
class ProductionResult:
    """What :func:`write_production` did.

    Attributes
    ----------
    manifest : Manifest
        The manifest as saved.
    written, skipped, failed : tuple of int
        Shards written now, skipped (complete and valid already), failed (with their error in the manifest).
    seconds : float
        Wall time.
    """

    manifest: Manifest
    written: tuple[int, ...]
    skipped: tuple[int, ...]
    failed: tuple[int, ...]
    seconds: float

    @property
    def entries(self) -> int:
        """Return the entries of the production's complete shards."""
        return self.manifest.entries


def _partitions(source: Any, inputs: Sequence[Any] | None) -> tuple[list[Any], list[tuple[str, ...]], bool]:
    """Return the partitions of ``source`` (delayed objects or inputs), their inputs, and whether they are inputs."""
    import dask.bag as db

    if isinstance(source, db.Bag):
        parts = list(source.to_delayed())
        default = [(f"partition {i}",) for i in range(len(parts))]
        return parts, _inputs(inputs, default), False
    if callable(source) and not isinstance(source, Delayed):
        if inputs is None:
            raise ProductionError("a producer callable needs inputs=: the input files it is mapped over")
        return list(inputs), [(os.fspath(item),) for item in inputs], True
    parts = list(source)
    bad = [i for i, part in enumerate(parts) if not isinstance(part, Delayed)]
    if bad:
        raise ProductionError(f"partition {bad[0]} is a {type(parts[bad[0]]).__name__}, not a dask.delayed object")
    return parts, _inputs(inputs, [(f"partition {i}",) for i in range(len(parts))]), False


def _inputs(inputs: Sequence[Any] | None, default: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    if inputs is None:
        return default
    if len(inputs) != len(default):
        raise ProductionError(f"inputs= lists {len(inputs)} items for {len(default)} partitions")
    return [(os.fspath(item),) if isinstance(item, (str, os.PathLike)) else tuple(map(str, item)) for item in inputs]


def _manifest(folder: str, name: str, format_version: int, inputs: list[tuple[str, ...]]) -> Manifest:
    """Return the production's manifest: the existing one (checked to be this production) or a new one."""
    path = os.path.join(folder, MANIFEST_NAME)
    fresh = [ShardRecord(i, shard_name(name, i), list(item)) for i, item in enumerate(inputs)]
    if not os.path.exists(path):
        return Manifest(path, name, format_version, fresh)
    manifest = Manifest.load(path)
    if (manifest.name, manifest.format_version, len(manifest.shards)) != (name, format_version, len(inputs)):
        raise ProductionError(
            f"{path} records production {manifest.name!r} (V{manifest.format_version}, {len(manifest.shards)} "
            f"shards), not {name!r} (V{format_version}, {len(inputs)} shards); use another folder"
        )
    for i, record in enumerate(manifest.shards):
        if record.inputs != list(inputs[i]):  # another input for this shard: redo it
            manifest.shards[i] = fresh[i]
    return manifest


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return f"{type(err).__name__}: {text.splitlines()[0]}"


def _safe(task: ShardTask, produced: Any = None, producer: Callable | None = None) -> ShardRecord | str:
    """Run :func:`write_shard`, returning the error's first line instead of raising (local scheduler only)."""
    try:
        return write_shard(task, produced, producer)
    except Exception as err:  # noqa: BLE001 - reported in the manifest
        return _first_line(err)


def write_production(
    source: Any,
    folder: str | os.PathLike,
    name: str = "shard",
    *,
    inputs: Sequence[Any] | None = None,
    format_version: int = 1,
    cfg: dict | None = None,
    client: Any = None,
    retries: int = 2,
    progress: bool = False,
    raise_on_failure: bool = True,
    timeout: float | None = None,
    **writer_options: Any,
) -> ProductionResult:
    """Write a production in parallel, one shard per partition, and keep its manifest.

    Parameters
    ----------
    source : dask.bag.Bag, list of dask.delayed, or callable
        The partitions: a bag of writer batches, delayed producers of batches,
        or a producer called with each of ``inputs``.
    folder : str or path
        Folder of the shards and of ``production.json`` (created if needed).
    name : str, default 'shard'
        Name stem of the shards: ``<name>_<index:05d>.h5``.
    inputs : sequence, optional
        The input files a callable is mapped over (required then); for a bag or
        delayed list, what each partition is made from (recorded in the manifest).
    format_version : int, default 1
        Layout of the shards.
    cfg : dict, optional
        Configuration stored in every shard.
    client : distributed.Client, optional
        Where to run (default: the default client, else dask's local scheduler).
    retries : int, default 2
        Retries of a partition that raised (a killed worker's task is rescheduled by ``distributed``).
    progress : bool, default False
        Show a bar of the shards done.
    raise_on_failure : bool, default True
        Raise :class:`ProductionError` naming the failed shards (after saving the manifest).
    timeout : float, optional
        Seconds to wait for the shards with a ``distributed`` client (default: no limit); past it,
        :class:`ProductionError` is raised, the shards done so far being recorded.
    **writer_options
        Other :class:`~spineh5.writer.HDF5Writer` arguments (``keys``, ``lite``, ``compression``...).

    Returns
    -------
    ProductionResult
    """
    started = time.perf_counter()
    folder = os.path.abspath(os.fspath(folder))
    os.makedirs(folder, exist_ok=True)
    parts, part_inputs, mapped = _partitions(source, inputs)
    manifest = _manifest(folder, name, format_version, part_inputs)
    skipped = [i for i, record in enumerate(manifest.shards) if shard_state(manifest, record)[0] == COMPLETE]
    todo = [i for i in range(len(parts)) if i not in set(skipped)]
    for i in todo:
        manifest.shards[i] = ShardRecord(i, shard_name(name, i), list(part_inputs[i]))
    manifest.save()
    tasks = {}
    for i in todo:
        task = ShardTask(
            i,
            manifest.shard_path(manifest.shards[i]),
            manifest.shards[i].path,
            part_inputs[i],
            format_version,
            cfg,
            writer_options,
        )
        tasks[i] = (task, None, source) if mapped else (task, parts[i], None)
    try:
        failed = _run(tasks, manifest, _client(client), retries, progress, timeout)
    finally:
        manifest.save()
    result = ProductionResult(
        manifest,
        tuple(i for i in todo if i not in failed),
        tuple(skipped),
        tuple(failed),
        time.perf_counter() - started,
    )
    if failed and raise_on_failure:
        shown = "; ".join(f"{manifest.shards[i].path}: {manifest.shards[i].error}" for i in failed[:5])
        raise ProductionError(f"{len(failed)} of {len(parts)} shards failed ({shown}); rerun to retry them")
    return result


def _client(client: Any) -> Any:
    if client is not None:
        return client
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


def _run(
    tasks: dict[int, tuple], manifest: Manifest, client: Any, retries: int, progress: bool, timeout: float | None
) -> list[int]:
    """Run the shard tasks, recording each result in the manifest; return the failed shards."""
    from tqdm import tqdm

    bar = tqdm(total=len(tasks), unit="shard", desc="writing", file=sys.stderr, disable=not progress)
    failed: list[int] = []

    def record(index: int, outcome: ShardRecord | BaseException | str) -> None:
        if isinstance(outcome, ShardRecord):
            manifest.shards[index] = outcome
        else:
            text = outcome if isinstance(outcome, str) else _first_line(outcome)
            manifest.shards[index] = attrs.evolve(manifest.shards[index], complete=False, error=text)
            failed.append(index)
        bar.update(1)

    try:
        if client is None:
            graphs = [_delayed(_safe, *args) for args in tasks.values()]
            for index, outcome in zip(tasks, dask.compute(*graphs)):
                record(index, outcome)
            return failed
        from distributed import as_completed

        graphs = {index: _delayed(write_shard, *args) for index, args in tasks.items()}
        futures = client.compute(list(graphs.values()), retries=retries)
        index_of = {future.key: index for future, index in zip(futures, graphs)}
        saved, done = time.monotonic(), set()
        try:
            for future in as_completed(futures, timeout=timeout):
                index = index_of[future.key]
                done.add(index)
                try:
                    record(index, future.result())
                except Exception as err:  # noqa: BLE001 - a failed partition, recorded
                    record(index, err)
                if time.monotonic() - saved > SAVE_INTERVAL:
                    manifest.save()
                    saved = time.monotonic()
        except TimeoutError:
            client.cancel(futures)
            late = [manifest.shards[index].path for index in tasks if index not in done]
            raise ProductionError(
                f"{len(late)} shards were not done within {timeout} s ({', '.join(late[:5])}); rerun to finish them"
            ) from None
        return failed
    finally:
        bar.close()


def _delayed(function: Callable, task: ShardTask, part: Delayed | None, producer: Callable | None) -> Delayed:
    """Return the delayed shard write of one partition (a mapped producer runs in the same task)."""
    key = f"spineh5-shard-{task.index:05d}-{dask.base.tokenize(task.path, time.time_ns())}"
    return dask.delayed(function, pure=False)(task, part, producer, dask_key_name=key)
