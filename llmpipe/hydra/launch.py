"""Run a planned sweep's jobs through a Hydra launcher plugin.

Hydra's multirun is driven with one sweep override, `+job=0,1,…`: Hydra's
BasicSweeper batches the jobs and the chosen launcher (`basic`, `joblib`,
`submitit_slurm`, `ray`, …) runs `job.hydra_task` for each, wherever it runs
jobs. The job's real overrides are read from the plan, so the user's config is
composed by llmpipe the same way for every launcher.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfigError, LlmpipeError, RunError

# launcher name -> (plugin module, pip extra)
LAUNCHER_PLUGINS = {
    "submitit_slurm": ("hydra_plugins.hydra_submitit_launcher", "slurm"),
    "submitit_local": ("hydra_plugins.hydra_submitit_launcher", "slurm"),
    "ray": ("hydra_plugins.hydra_ray_launcher", "ray"),
}


def launcher_overrides(launcher: str | None, jobs: int, extra: Sequence[str]) -> list[str]:
    """The `hydra/launcher=…` choice and its settings; checks the plugin is installed."""
    chosen = _chosen(extra) or launcher or ("joblib" if jobs > 1 else "basic")
    _require_plugin(chosen)
    settings = [o for o in extra if not o.startswith("hydra/launcher=")]
    if chosen == "joblib" and not any(o.startswith("hydra.launcher.n_jobs=") for o in settings):
        settings.append(f"hydra.launcher.n_jobs={jobs}")
    return [f"hydra/launcher={chosen}", *settings]


def _chosen(extra: Sequence[str]) -> str | None:
    for override in extra:
        if override.startswith("hydra/launcher="):
            return override.split("=", 1)[1]
    return None


def _require_plugin(name: str) -> None:
    if name == "basic":
        return
    module, extra = LAUNCHER_PLUGINS.get(name, (None, None))
    if module is None:
        return  # a third-party launcher: Hydra says if it is missing
    if (
        importlib.util.find_spec("hydra_plugins") is None
        or importlib.util.find_spec(module) is None
    ):
        raise ConfigError(
            f"the Hydra launcher '{name}' is not installed: pip install 'llmpipe[{extra}]'"
        )


def launch(
    task: Callable[[Any], Any],
    sweep_dir: str,
    n_jobs: int,
    launcher: Sequence[str],
    batch_size: int | None,
) -> None:
    """Run jobs 0..n_jobs-1 of the sweep in `sweep_dir` with Hydra's multirun.

    `task` is Hydra's task function (a module-level function, so that launchers
    running jobs in other processes or on other machines can import it).

    Job failures are reported by the jobs themselves; with --fail-fast the first one
    ends the sweep after its batch (Hydra raises; the remaining jobs stay not-run).
    """
    from hydra import initialize
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    overrides = [
        "+job=" + ",".join(str(i) for i in range(n_jobs)),
        f"+sweep_dir={_quote(sweep_dir)}",
        "hydra/job_logging=none",
        "hydra/hydra_logging=none",
        f"hydra.sweep.dir={_quote(sweep_dir + '/hydra')}",
        "hydra.output_subdir=null",
        "hydra.job.chdir=False",
        *launcher,
    ]
    if batch_size:
        overrides.append(f"hydra.sweeper.max_batch_size={batch_size}")
    GlobalHydra.instance().clear()
    try:
        with initialize(config_path=None, version_base=None, job_name="llmpipe_sweep"):
            hydra = GlobalHydra.instance().hydra
            hydra.multirun(
                config_name=None,
                task_function=task,
                overrides=overrides,
                with_log_configuration=False,
            )
    except RunError:
        return  # --fail-fast: a job failed; the sweep stops after its batch
    except HydraException as exc:
        _raise_unless_job_failure(exc)
    finally:
        GlobalHydra.instance().clear()


def _raise_unless_job_failure(exc: Any) -> None:
    # --fail-fast: a job's RunError comes back wrapped; that is the expected stop.
    cause = exc
    while cause is not None:
        if isinstance(cause, LlmpipeError):
            return
        cause = cause.__cause__ or cause.__context__
    raise ConfigError(f"the Hydra launcher failed: {str(exc).strip().splitlines()[0]}") from exc


def _quote(value: str) -> str:
    if "'" in value:
        raise ConfigError(f"the project path {value!r} contains a quote; sweeps cannot use it")
    return f"'{value}'"
