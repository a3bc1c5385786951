"""Run a benchmark: every strategy on every dataset for every run, paired and resumable.

Run ``r`` of every strategy on a dataset starts from the same initial designs (the
protocol's draw with run seed ``r``) and uses the same campaign seed, so strategies are
compared run by run. Each finished run is appended as one JSON line to
``results.jsonl`` (flushed and synced) before the next is counted, so a benchmark that
is killed loses only the runs in progress; the same command again skips every run the
file already holds and finishes the rest. Runs spread over worker processes, or over a
Dask cluster given its scheduler's address.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from functools import cache
from multiprocessing import get_context
from pathlib import Path

from discovery.benchmark.catalogue import shipped_name
from discovery.benchmark.datasets import Dataset, load_dataset
from discovery.benchmark.protocol import resolve_protocol
from discovery.benchmark.strategies import resolve_strategy
from discovery.exceptions import ConfigurationError

RESULTS_FILE = "results.jsonl"
#: How often a worker process looks whether the benchmark that started it is still there.
PARENT_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Task:
    """One run of one strategy on one dataset, and everything needed to repeat it."""

    dataset: str
    strategy: str
    run: int
    protocol: str
    cycles: int
    objective: str | None = None
    direction: str | None = None
    features: tuple[str, ...] | None = None
    data: str | None = None  # a CSV's content fingerprint; None for a shipped dataset

    @property
    def key(self) -> tuple:
        """What makes two runs the same run: a row with this key is not run again."""
        return _key(asdict(self))


def plan(
    datasets: Iterable[str],
    strategies: Iterable[str],
    runs: int,
    cycles: int,
    protocol: str = "liang2021",
    objective: str | None = None,
    direction: str | None = None,
    features: Iterable[str] | None = None,
) -> list[Task]:
    """Every task of a benchmark, after checking every input (nothing runs yet).

    Raises:
        ConfigurationError: no dataset or strategy, ``runs`` or ``cycles`` below 1, an
            unknown dataset, strategy or protocol, a missing column, a protocol that needs
            more designs than a dataset holds, or a strategy option a campaign refuses.
    """
    datasets, strategies = list(datasets), list(dict.fromkeys(strategies))
    if not datasets:
        raise ConfigurationError("benchmark: name at least one dataset")
    if not strategies:
        raise ConfigurationError("benchmark: name at least one strategy")
    if runs < 1:
        raise ConfigurationError(f"benchmark: --runs must be at least 1, got {runs}")
    chosen = resolve_protocol(protocol)
    if cycles <= chosen.n_initial:
        raise ConfigurationError(
            f"benchmark: --cycles ({cycles}) must exceed the protocol's {chosen.n_initial} "
            f"initial designs"
        )
    features = tuple(features) if features else None
    parsed = [resolve_strategy(s) for s in strategies]
    given: dict[str, tuple] = {}  # the dataset's definition each task carries
    named: dict[str, str] = {}
    for name in dict.fromkeys(datasets):
        dataset = _dataset(name, objective, direction, features)
        if dataset.name in named:
            raise ConfigurationError(
                f"benchmark: datasets '{named[dataset.name]}' and '{name}' would share the "
                f"name '{dataset.name}' in the table and figures; rename one of the files"
            )
        named[dataset.name] = name
        chosen.check_fits(len(dataset), f"dataset '{dataset.name}'")
        for strategy in parsed:
            strategy.check(dataset, chosen.n_initial, chosen.batch_size, cycles)
        shipped = shipped_name(name) is not None  # its options were checked to be its own
        given[name] = (
            (None, None, None, None)
            if shipped
            else (objective, direction, features, _fingerprint(Path(name)))
        )
    return [
        Task(name, strategy, run, protocol, cycles, *given[name])
        for name in dict.fromkeys(datasets)
        for run in range(runs)
        for strategy in strategies
    ]


def _fingerprint(path: Path) -> str:
    """A short hash of a file's bytes: runs on a CSV that has changed since are new runs."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@cache
def _dataset(
    name: str, objective: str | None, direction: str | None, features: tuple[str, ...] | None
) -> Dataset:
    return load_dataset(name, objective, direction, list(features) if features else None)


def run_task(task: Task) -> dict:
    """Replay one run; the row the results file keeps for it."""
    dataset = _dataset(task.dataset, task.objective, task.direction, task.features)
    protocol = resolve_protocol(task.protocol)
    initial = protocol.initial_design(task.run, len(dataset))
    started = time.perf_counter()
    trace = resolve_strategy(task.strategy).run(
        dataset, initial, task.cycles, protocol.batch_size, seed=protocol.run_seed(task.run)
    )
    return asdict(task) | {
        "dataset_name": dataset.name,
        "seed": protocol.run_seed(task.run),
        "initial": initial,
        "trace": trace,
        "seconds": round(time.perf_counter() - started, 3),
    }


class ResultsFile:
    """The benchmark's JSON-lines file: one finished run per line, appended and synced."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / RESULTS_FILE

    def rows(self) -> list[dict]:
        """Every complete line (a line cut short by a kill is ignored)."""
        if not self.path.exists():
            return []
        rows = []
        for line in self.path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return rows

    def done(self) -> set[tuple]:
        """The keys of the runs the file holds."""
        return {_key(row) for row in self.rows()}

    def append(self, row: dict) -> None:
        """Add one finished run (call :meth:`drop_partial_line` once before the first)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def drop_partial_line(self) -> None:
        """Cut a last line left unfinished by a kill, so the next append starts a line."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        data = self.path.read_bytes()
        if not data.endswith(b"\n"):
            self.path.write_bytes(data[: data.rfind(b"\n") + 1])


def _key(row: dict) -> tuple:
    """A run's identity: a CSV's options and content included, so that a folder reused
    with another direction, or after the file changed, runs those runs anew."""
    features = row.get("features")
    return (
        row["dataset"], row["strategy"], row["run"], row["protocol"], row["cycles"],
        row.get("objective"), row.get("direction"), tuple(features) if features else None,
        row.get("data"),
    )  # fmt: skip


def execute(
    tasks: list[Task],
    out: Path,
    workers: int = 1,
    scheduler: str | None = None,
    on_planned: Callable[[int, int], None] | None = None,
    on_finished: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Run the tasks the results file in ``out`` does not hold yet; every row of this plan.

    Args:
        tasks: from :func:`plan`.
        out: the folder of ``results.jsonl``.
        workers: processes on this machine (1 runs in this process).
        scheduler: address of a Dask scheduler ("tcp://host:8786"): runs go to its workers.
        on_planned: called with (runs to do, runs already done) before running.
        on_finished: called with each finished row (progress display).
    """
    if workers < 1:
        raise ConfigurationError(f"benchmark: --workers must be at least 1, got {workers}")
    results = ResultsFile(out)
    done = results.done()
    todo = [task for task in tasks if task.key not in done]
    if on_planned is not None:
        on_planned(len(todo), len(tasks) - len(todo))
    results.drop_partial_line()
    rows = _finished_rows(todo, workers, scheduler)
    try:
        for row in rows:
            results.append(row)
            if on_finished is not None:
                on_finished(row)
    finally:  # a stop (Ctrl-C) while a row is recorded still ends the workers
        rows.close()
    return finished_rows(tasks, out)


def finished_rows(tasks: list[Task], out: Path) -> list[dict]:
    """The rows of the planned tasks that the results file in ``out`` holds, in plan order."""
    wanted = {task.key for task in tasks}
    rows = {_key(row): row for row in ResultsFile(out).rows() if _key(row) in wanted}
    return [rows[task.key] for task in tasks if task.key in rows]


def _finished_rows(todo: list[Task], workers: int, scheduler: str | None) -> Iterator[dict]:
    if scheduler is not None:
        yield from _on_dask(todo, scheduler)
    elif workers == 1 or len(todo) <= 1:
        for task in todo:
            yield run_task(task)
    else:
        threads = max(1, (os.cpu_count() or 1) // workers)
        pool = ProcessPoolExecutor(
            workers, mp_context=get_context("spawn"), initializer=_start_worker,
            initargs=(threads, os.getpid()),
        )  # fmt: skip
        finished = False
        try:
            futures = [pool.submit(run_task, task) for task in todo]
            for future in as_completed(futures):
                yield future.result()
            finished = True
        finally:
            if not finished:  # an error or a stop: end the runs under way, do not wait
                _end_workers(pool)
            pool.shutdown(wait=finished, cancel_futures=True)


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate a pool's worker processes. Shutting the pool down cancels only the runs
    not yet handed to a worker; the interpreter then waits at exit for the workers, which
    finish their runs and those queued for them (minutes, with nothing recorded), or for
    ever when one waits for work that never comes."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def _start_worker(threads: int, parent: int) -> None:
    """Give a worker its share of the cores, so that workers do not oversubscribe them,
    and end it when the benchmark that started it is gone (killed, say): its run would
    be lost anyway, and it would hold its cores until its queue ran dry."""
    import torch

    torch.set_num_threads(threads)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _on_dask(todo: list[Task], scheduler: str) -> Iterator[dict]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as error:
        raise ConfigurationError(
            "benchmark: --scheduler needs Dask: pip install 'discovery[dask]'"
        ) from error
    with Client(scheduler) as client:
        futures = client.map(run_task, todo, pure=False)
        for future in dask_completed(futures):
            yield future.result()
