"""The scheduled ``clean-corpus`` deployment that ``scrapewash serve`` registers and serves.

One deployment per landing folder: a cron schedule, the run parameters (the
Pydantic model :class:`~scrapewash.config.RunParameters`, so the Prefect UI's
run form shows every field with its description); each run cleans what
arrived since the last (input files earlier runs read are skipped), and a deployment concurrency limit of
one with queueing, so a run scheduled while the previous one still writes
waits for it (the output root's lock would make it wait too).
"""

from __future__ import annotations

from typing import Any

from scrapewash import __version__
from scrapewash.config import Config, RunParameters
from scrapewash.flows.runners import make_task_runner


class DeploymentError(ValueError):
    """The deployment cannot be built as asked (bad schedule, name or parameters)."""


def build_deployment(inputs: list[str], out: str, config: Config, cron: str, timezone: str = "UTC",
                     name: str = "scheduled", runner: str = "auto", dask_address: str | None = None,
                     settle_seconds: float = 60) -> Any:
    """A ``RunnerDeployment`` of the clean-corpus flow, ready for ``prefect.serve``."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron

    from scrapewash.flows.clean_corpus import clean_corpus

    params = RunParameters(inputs=inputs, out=out, config=config, settle_seconds=settle_seconds)
    try:
        schedule = Cron(cron, timezone=timezone)
    except Exception as e:  # noqa: BLE001 - croniter and zoneinfo raise several types
        raise DeploymentError(f"bad schedule {cron!r} ({timezone}): {e}") from e
    flow = clean_corpus.with_options(task_runner=make_task_runner(runner, config.workers, dask_address))
    where = ", ".join(inputs)
    return flow.to_deployment(
        name=name,
        schedules=[schedule],
        parameters={"params": params.model_dump(mode="json")},
        description=f"Clean new input from {where} into {out} on the schedule `{cron}` ({timezone}).",
        tags=["scrapewash"],
        version=__version__,
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
    )
