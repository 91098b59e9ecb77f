"""Task runners for the clean-corpus flow: a thread pool on this machine, or a Dask cluster.

``threads`` runs the shard tasks in a thread pool of ``workers`` threads. ``dask`` runs them
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
import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Literal

RunnerName = Literal["threads", "dask"]
RUNNERS: tuple[str, ...] = ("threads", "dask")
_CLASS_LOCK = threading.Lock()
_SETTINGS_WITH_URL: dict[tuple[int, str], tuple[Any, Any]] = {}  # see api_url_for_workers


class RunnerError(ValueError):
    """The requested task runner cannot be built."""


def make_task_runner(runner: str = "threads", workers: int = 2, dask_address: str | None = None) -> Any:
    """Build the Prefect task runner named ``runner``."""
    if runner == "threads":
        if dask_address:
            raise RunnerError("--dask-address needs --runner dask")
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
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
    """The task runner the environment asks for (threads when it asks for nothing)."""
    raw_workers = os.environ.get("SCRAPEWASH_WORKERS") or str(default_workers)
    try:
        workers = int(raw_workers)
    except ValueError:
        raise RunnerError(f"SCRAPEWASH_WORKERS must be a whole number, not {raw_workers!r}") from None
    runner = os.environ.get("SCRAPEWASH_RUNNER") or "threads"
    address = os.environ.get("SCRAPEWASH_DASK_ADDRESS") or None
    if address and runner != "dask":
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


def _dask_task_runner_class() -> type:
    """``ScrapewashDaskTaskRunner``, built on first use so that importing this module stays cheap."""
    with _CLASS_LOCK:
        cls = globals().get("ScrapewashDaskTaskRunner")
        if cls is None:
            cls = globals()["ScrapewashDaskTaskRunner"] = _build_dask_task_runner_class()
        return cls


def _build_dask_task_runner_class() -> type:
    from prefect_dask import DaskTaskRunner

    class ScrapewashDaskTaskRunner(DaskTaskRunner):
        """prefect-dask's runner, sending the flow run's API server along with each task."""

        def submit(self, task, parameters, wait_for=None, dependencies=None):
            with api_url_for_workers():
                return super().submit(task, parameters, wait_for=wait_for, dependencies=dependencies)

    # importable as scrapewash.flows.runners.ScrapewashDaskTaskRunner (see __getattr__), so that the
    # flow, which carries its task runner, unpickles on the workers
    ScrapewashDaskTaskRunner.__module__ = __name__
    ScrapewashDaskTaskRunner.__qualname__ = "ScrapewashDaskTaskRunner"
    return ScrapewashDaskTaskRunner


def __getattr__(name: str) -> Any:
    if name == "ScrapewashDaskTaskRunner":
        return _dask_task_runner_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
