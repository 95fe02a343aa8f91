"""The run's environment jobs, planned once per doit invocation and shared by the stages."""

from __future__ import annotations

import functools

from tasks.pipeline import EnvJob, plan_run
from tasks.stages.common import pipeline


@functools.cache
def run_jobs() -> tuple[EnvJob, ...]:
    return tuple(plan_run(pipeline()))
