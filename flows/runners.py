"""Task runners for the clean-corpus flow: threads or processes on this machine, or a Dask cluster.

``auto`` (the default) picks ``processes`` for more than one worker, ``threads`` for one, and
``dask`` when a scheduler address is given. ``threads`` runs the shard tasks in a thread pool of ``workers`` threads: the stages hold Python's
lock most of the time, so this uses about one core. ``processes`` runs the task runs on threads
of the flow's process too, where Prefect records them at a few milliseconds each, but each task's
work goes to a pool of ``workers`` processes on this machine (:func:`offload`): only the task's
small arguments and summary cross between them. ``dask`` runs them
through prefect-dask's ``DaskTaskRunner``: on an existing cluster given by its scheduler address
(``tcp://HOST:8786``), or on a local cluster of ``workers`` single-threaded worker processes. The
shard tasks only pass paths and small dicts, so every worker must see the input and output
folders at the same paths (a shared file system) and have scrapewash installed.

The flow's default runner comes from the environment (``SCRAPEWASH_RUNNER``,
``SCRAPEWASH_DASK_ADDRESS``, ``SCRAPEWASH_WORKERS``, see :func:`runner_from_env`): that is the runner
of deployments whose runs load the flow from its entrypoint, such as runs started by a Prefect worker.

Task runs on Dask workers report to the Prefect API named by the settings the flow run sends along
with each task. When no ``PREFECT_API_URL`` is configured the flow runs against a temporary local
server, and without help each worker process would start a temporary server of its own and record
its task runs there; :class:`ScrapewashDaskTaskRunner` sends the flow run's server address instead.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Literal, TypeVar

RunnerName = Literal["auto", "threads", "processes", "dask"]
RUNNERS: tuple[str, ...] = ("auto", "threads", "processes", "dask")
_CLASS_LOCK = threading.Lock()
T = TypeVar("T")
_SETTINGS_WITH_URL: dict[tuple[int, str], tuple[Any, Any]] = {}  # see api_url_for_workers


class RunnerError(ValueError):
    """The requested task runner cannot be built."""


def make_task_runner(runner: str = "auto", workers: int = 2, dask_address: str | None = None) -> Any:
    """Build the Prefect task runner named ``runner`` (``auto``: Dask when given a scheduler address,
    else worker processes for more than one worker, else a thread)."""
    if runner == "auto":
        runner = "dask" if dask_address else "processes" if workers > 1 else "threads"
    if runner == "threads":
        if dask_address:
            raise RunnerError("--dask-address needs --runner dask")
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if runner == "processes":
        if dask_address:
            raise RunnerError("--dask-address needs --runner dask")
        return _process_task_runner_class()(max_workers=workers)
    if runner == "dask":
        try:
            DaskTaskRunner = _dask_task_runner_class()
        except ImportError as e:
            raise RunnerError("the dask runner needs the dask extra: pip install 'scrapewash[dask]'") from e
        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    raise RunnerError(f"unknown runner {runner!r}: choose one of {', '.join(RUNNERS)}")


def runner_from_env(default_workers: int = 2) -> Any:
    """The task runner the environment asks for (``auto`` when it asks for nothing)."""
    raw_workers = os.environ.get("SCRAPEWASH_WORKERS") or str(default_workers)
    try:
        workers = int(raw_workers)
    except ValueError:
        raise RunnerError(f"SCRAPEWASH_WORKERS must be a whole number, not {raw_workers!r}") from None
    runner = os.environ.get("SCRAPEWASH_RUNNER") or "auto"
    address = os.environ.get("SCRAPEWASH_DASK_ADDRESS") or None
    if address and runner not in ("dask", "auto"):
        raise RunnerError("SCRAPEWASH_DASK_ADDRESS needs SCRAPEWASH_RUNNER=dask")
    return make_task_runner(runner, workers, address)


def api_url_for_workers() -> AbstractContextManager[Any]:
    """Settings that send task runs in other processes to the API server this flow run reports to.

    A no-op when ``PREFECT_API_URL`` is set (the settings sent with each task already name it) or
    outside a flow run. Otherwise the flow run talks to a temporary local server; its address is put
    into the settings, so that task runs on workers of a local cluster report to it too.
    """
    from prefect.context import FlowRunContext
    from prefect.settings import PREFECT_API_URL, get_current_settings

    if get_current_settings().api.url:
        return nullcontext()
    ctx = FlowRunContext.get()
    client = getattr(ctx, "client", None) if ctx is not None else None
    url = str(client.api_url).rstrip("/") if client is not None else ""
    if not url.startswith(("http://", "https://")) or "ephemeral-prefect" in url:
        return nullcontext()  # an in-process app: nothing another process could reach
    # What ``temporary_settings(updates={PREFECT_API_URL: url})`` enters, with the updated settings
    # built once per flow run's settings and address rather than once per task (building them
    # re-reads the environment and profiles: tens of milliseconds in the flow's process per submit).
    import prefect.context

    context = prefect.context.get_settings_context()
    key = (id(context.settings), url)
    with _CLASS_LOCK:
        cached = _SETTINGS_WITH_URL.get(key)
        if cached is None or cached[0] is not context.settings:
            cached = (context.settings, context.settings.copy_with_update(updates={PREFECT_API_URL: url}))
            _SETTINGS_WITH_URL.clear()  # one flow run's settings at a time
            _SETTINGS_WITH_URL[key] = cached
    return prefect.context.SettingsContext(profile=context.profile, settings=cached[1])


def offload(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``: in a worker process when the flow run's task runner is ``processes``, else here.

    ``fn`` and its arguments must pickle (module-level functions, paths, configuration); what it
    returns comes back by pickle too, so it should be a small summary."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    runner = getattr(ctx, "task_runner", None) if ctx is not None else None
    run = getattr(runner, "run_in_process", None)
    return run(fn, *args) if run is not None else fn(*args)


def parallel_slots(runner: Any) -> int | None:
    """How many task runs ``runner`` works on at the same time: its worker processes, its threads, or
    the threads of its Dask cluster's workers; None when it cannot tell."""
    processes = getattr(runner, "processes", None)
    if isinstance(processes, int):
        return processes
    client = getattr(runner, "_client", None)
    if client is not None:
        try:
            return sum(int(w.get("nthreads", 1)) for w in client.scheduler_info()["workers"].values()) or None
        except Exception:  # noqa: BLE001 - a cluster that does not say is run one shard per task
            return None
    threads = getattr(runner, "_max_workers", None)
    return threads if isinstance(threads, int) and 0 < threads < sys.maxsize else None


def warm_up() -> None:
    """Run once in each worker process as it starts: load what every shard task needs (the cleaning
    modules, the rule set, the line model, the compiled loops from numba's cache), so that the
    first shard of each worker does not pay for it while the others wait."""
    try:
        from scrapewash.config import Config
        from scrapewash.records import RawDocument
        from scrapewash.tasks import dedup, finalize, prepare, sign, templates  # noqa: F401
        from scrapewash.tasks.clean import Cleaner

        Cleaner(Config()).clean(RawDocument("warm-up", "Warm up.\n\nA line of text to clean, twice.\n\n"
                                                       "A line of text to clean, twice.", "-", "-", 0))
    except Exception:  # noqa: BLE001 - only a head start: a task meeting the same problem reports it
        pass


def freeze_heap() -> None:
    """Leave every object alive now out of the garbage collector's later passes (``gc.freeze``).

    A process that runs shard tasks holds a few hundred thousand long-lived objects by the time the
    first task starts: the imported modules (Prefect's among them in the flow's own process), the
    rule set, the line model. Each full pass of the collector, which the stages' many short-lived
    lists and dicts set off, walks all of them again: about a seventh of the sign and finalize
    stages' time in the flow's process. Frozen objects are still freed when their last reference
    goes; only reference cycles among them that become garbage later would stay (a full collection
    at this point finds a few dozen such objects of 390,000, not worth its quarter of a second).
    Called in this project's own processes only: the worker processes as they start and the
    command-line run before its flow run."""
    import gc

    gc.freeze()


def _start_worker() -> None:
    warm_up()
    freeze_heap()


TASKS_PER_PROCESS = 2  # task runs in flight per worker process of the processes runner: one runs, one waits
_EARLY_POOLS: dict[int, Any] = {}  # worker pools started before their flow run, by number of workers
_EARLY_LOCK = threading.Lock()


def _spawn_pool(workers: int) -> Any:
    """A pool of ``workers`` processes (``spawn``: the flow's process has threads), each loading the
    cleaning stages as it starts (:func:`warm_up`, then :func:`freeze_heap`), all of them started now."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(workers):
        pool.submit(int)
    return pool


def start_workers_early(runner: Any, config: Any = None) -> None:
    """Get ``runner``'s workers ready before its flow run starts, while the command waits for the
    temporary server: the worker processes of the ``processes`` runner are started (the flow run
    takes them over), and for the ``threads`` runner this process loads the cleaning stages itself.
    Nothing for Dask, whose workers live elsewhere.

    With worker processes, this process still builds the run's rule set (``config``'s), whose
    versions the flow run records and whose errors it reports before any shard starts: a quarter
    of a second that would otherwise be spent while the workers wait."""
    from prefect.task_runners import ThreadPoolTaskRunner

    if getattr(runner, "run_in_process", None) is not None:  # the processes runner (a thread pool too)
        workers = runner.processes
        with _EARLY_LOCK:
            if workers not in _EARLY_POOLS:
                _EARLY_POOLS[workers] = _spawn_pool(workers)
        if config is not None:
            try:
                from scrapewash.tasks import boilerplate

                boilerplate.rules_for(config.boilerplate)
            except Exception:  # noqa: BLE001 - the flow run loads them again and reports the problem
                pass
    elif isinstance(runner, ThreadPoolTaskRunner):
        warm_up()


def _process_task_runner_class() -> type:
    return _lazy_class("ScrapewashProcessTaskRunner", _build_process_task_runner_class)


def _build_process_task_runner_class() -> type:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from prefect.task_runners import ThreadPoolTaskRunner

    class ScrapewashProcessTaskRunner(ThreadPoolTaskRunner):
        """A pool of ``max_workers`` worker processes for the tasks' work (:func:`offload`), and
        Prefect's thread pool, of ``TASKS_PER_PROCESS`` times as many threads, for the task runs.
        The processes start with the flow run (``spawn``: the flow's process has threads) and load
        the cleaning stages once each (:func:`warm_up`).

        Each process has a second task's work queued behind the one it runs: between two task runs
        Prefect records the first one's end and the next one's start (tens of milliseconds), and
        with one task per process the process would wait through that, which costs a quarter of the
        time of stages whose shard tasks take a tenth of a second. So a task run shows as running
        from when its work is queued for a process."""

        def __init__(self, max_workers: int | None = None):
            super().__init__(max_workers)
            self.processes = self._max_workers
            self._max_workers = self.processes * TASKS_PER_PROCESS

        def duplicate(self):  # type: ignore[no-untyped-def]
            return type(self)(max_workers=self.processes)

        def __enter__(self):  # type: ignore[no-untyped-def]
            super().__enter__()
            self._pool_lock = threading.Lock()
            self._pool = self._new_pool()
            return self

        def __exit__(self, exc_type, exc_value, traceback):  # type: ignore[no-untyped-def]
            try:
                super().__exit__(exc_type, exc_value, traceback)
            finally:
                pool, self._pool = getattr(self, "_pool", None), None
                if pool is not None:
                    pool.shutdown(wait=True, cancel_futures=True)

        def _new_pool(self) -> ProcessPoolExecutor:
            # the pool started before the flow run (:func:`start_workers_early`), else a new one, all
            # of whose processes start now, while the run plans its shards
            with _EARLY_LOCK:
                early = _EARLY_POOLS.pop(self.processes, None)
            return early if early is not None else _spawn_pool(self.processes)

        def run_in_process(self, fn: Callable[..., T], *args: Any) -> T:
            pool = self._pool
            if pool is None:
                raise RuntimeError("the process task runner is not started")
            try:
                return pool.submit(fn, *args).result()
            except BrokenProcessPool as e:
                # A worker died (killed, out of memory): later tasks, and this one's retry, get a new pool.
                with self._pool_lock:
                    if self._pool is pool:
                        self._pool = self._new_pool()
                        pool.shutdown(wait=False, cancel_futures=True)
                raise RuntimeError(f"a worker process died while running {fn.__name__}: {e}") from e

        def __getstate__(self) -> dict[str, Any]:
            state = super().__getstate__()
            state.pop("_pool", None)
            state.pop("_pool_lock", None)
            return state

    return ScrapewashProcessTaskRunner


def _dask_task_runner_class() -> type:
    return _lazy_class("ScrapewashDaskTaskRunner", _build_dask_task_runner_class)


def _lazy_class(name: str, build: Callable[[], type]) -> type:
    """This module's class ``name``, built by ``build`` on first use, so that importing the module
    stays cheap (Prefect's runners, Dask). Named as a module attribute (see ``__getattr__``), so that
    a flow carrying one of these runners unpickles in another process."""
    with _CLASS_LOCK:
        cls = globals().get(name)
        if cls is None:
            cls = build()
            cls.__module__ = __name__
            cls.__qualname__ = name
            globals()[name] = cls
        return cls


def _build_dask_task_runner_class() -> type:
    from prefect_dask import DaskTaskRunner

    class ScrapewashDaskTaskRunner(DaskTaskRunner):
        """prefect-dask's runner, sending the flow run's API server along with each task."""

        def submit(self, task, parameters, wait_for=None, dependencies=None):
            with api_url_for_workers():
                return super().submit(task, parameters, wait_for=wait_for, dependencies=dependencies)

    return ScrapewashDaskTaskRunner


def __getattr__(name: str) -> Any:
    lazy = {"ScrapewashDaskTaskRunner": _dask_task_runner_class,
            "ScrapewashProcessTaskRunner": _process_task_runner_class}
    if name in lazy:
        return lazy[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
