"""`llmpipe exp`: run, save, show and manage experiments (dvc's `exp` commands).

Experiments are git refs in dvc's layout, so `dvc exp show` lists llmpipe's
and `llmpipe exp show` lists dvc's. The verbs live in `llmpipe.ops.exp`.
"""

from __future__ import annotations

import click

from .render import CliProgress, CliReporter, emit_json, quiet_option, verbose_option


@click.group(help="Run, compare and keep experiments (git refs in dvc's layout).")
def exp() -> None:
    pass


@exp.command(name="run")
@click.argument("targets", nargs=-1)
@click.option(
    "-S",
    "--set-param",
    "set_params",
    multiple=True,
    metavar="OVERRIDE",
    help="Override a param for this experiment ([file:]key=value, Hydra syntax).",
)
@click.option("-n", "--name", help="The experiment's name (default: a random one).")
@click.option(
    "-f", "--force", is_flag=True, help="Run every stage; replace an experiment of that name."
)
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Stages to run at once.")
@click.option("--dry", is_flag=True, help="Say what would run; save nothing.")
@click.option("--no-run-cache", is_flag=True, help="Always execute; never restore from run-cache.")
@click.option("-k", "--keep-going", is_flag=True, help="Keep running stages after a failure.")
@quiet_option
@verbose_option
def run(targets: tuple[str, ...], set_params: tuple[str, ...], name: str | None, force: bool,
        jobs: int | None, dry: bool, no_run_cache: bool, keep_going: bool, quiet: bool,
        verbose: bool) -> None:  # fmt: skip
    """Reproduce the pipeline in the workspace and save the result as an experiment.

    The experiment is a commit on HEAD kept under refs/exps/ (as dvc keeps it);
    the results stay in the workspace.
    """
    from ..ops.exp.run import run_experiment
    from ..ops.repro import ReproRequest
    from .repro import summarize
    from .session import invocation, open_project

    with open_project() as project:
        request = ReproRequest(
            targets=targets,
            force=force,
            jobs=jobs or project.config.jobs or 1,
            dry=dry,
            keep_going=keep_going,
            use_run_cache=not no_run_cache,
            overrides=set_params,
        )
        progress = CliProgress(enabled=not quiet)
        try:
            result = run_experiment(project, request, name, force, CliReporter(quiet), progress,
                                    invocation=invocation())  # fmt: skip
        finally:
            progress.finish()
    summarize(result.repro, quiet, dry)
    if result.saved is not None:
        _saved_line(result.saved, quiet)


def _saved_line(saved, quiet: bool) -> None:  # noqa: ANN001
    if quiet:
        return
    exp = saved.exp
    if saved.reused:
        click.echo(f"Experiment '{exp.name}' already holds these results ({exp.commit[:7]}).")
        return
    click.echo(f"Ran experiment(s): {exp.name}")
    click.echo(
        f"Experiment results have been applied to your workspace.\n"
        f"Saved as {exp.ref} ({exp.commit[:7]}); see them with 'llmpipe exp show'."
    )


@exp.command(name="save")
@click.option("-n", "--name", help="The experiment's name (default: a random one).")
@click.option("-f", "--force", is_flag=True, help="Replace an experiment of the same name.")
@click.option(
    "-I",
    "--include-untracked",
    multiple=True,
    metavar="PATH",
    help="Also save this file git does not track (repeatable).",
)
@quiet_option
@verbose_option
def save(name: str | None, force: bool, include_untracked: tuple[str, ...], quiet: bool,
         verbose: bool) -> None:  # fmt: skip
    """Save the workspace as it is, without running anything, as an experiment on HEAD."""
    from ..ops.exp.run import save_experiment
    from .session import run_verb

    saved = run_verb(save_experiment, name, force, include_untracked)
    if not quiet:
        click.echo(f"Experiment has been saved as: {saved.exp.name}")


@exp.command(name="show")
@click.option("-a", "--all-branches", is_flag=True, help="Show every branch's experiments.")
@click.option("-T", "--all-tags", is_flag=True, help="Show every tag's experiments.")
@click.option("-A", "--all-commits", is_flag=True, help="Show every commit's experiments.")
@click.option("--rev", "revs", multiple=True, metavar="REV", help="A baseline (repeatable).")
@click.option("-n", "--num", type=click.IntRange(min=1), default=1,
              help="Show this many commits back from each revision.")  # fmt: skip
@click.option("--hide-workspace", is_flag=True, help="Leave out the workspace row.")
@click.option("--param-deps", is_flag=True, help="Only params that stages depend on.")
@click.option("--sort-by", metavar="KEY", help="Sort experiments by a metric or param.")
@click.option("--sort-order", type=click.Choice(["asc", "desc"]), default="asc", show_default=True)
@click.option("--only-changed", is_flag=True, help="Only the columns whose values differ.")
@click.option("--precision", type=int, help="Significant digits of floats (default 5).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (dvc's shape).")
@click.option("--md", "--markdown", "as_md", is_flag=True, help="Print a Markdown table.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (dvc's columns).")
@click.option("--no-pager", is_flag=True, hidden=True, help="Accepted for dvc's sake.")
@verbose_option
def show(all_branches: bool, all_tags: bool, all_commits: bool, revs: tuple[str, ...], num: int,
         hide_workspace: bool, param_deps: bool, sort_by: str | None, sort_order: str,
         only_changed: bool, precision: int | None, as_json: bool, as_md: bool, as_csv: bool,
         no_pager: bool, verbose: bool) -> None:  # fmt: skip
    """Show the workspace, the baseline(s) and their experiments, with params and metrics."""
    from ..ops.compare import fetcher
    from ..ops.exp.show import ShowRequest, show
    from .exptable import TableOptions, tabulate, to_csv
    from .session import open_project

    request = ShowRequest(revs, all_branches, all_tags, all_commits, num, hide_workspace,
                          param_deps)  # fmt: skip
    with open_project() as project:
        states = show(project, request, fetcher(project))
    if as_json:
        emit_json([state.to_json() for state in states], like_dvc=True)
        return
    options = TableOptions(
        precision=precision if precision is not None else (None if as_csv else 5),
        csv=as_csv,
        sort_by=sort_by,
        sort_order=sort_order,
        only_changed=only_changed,
    )
    headers, rows = tabulate(states, options)
    if as_csv:
        click.echo(to_csv(headers, rows), nl=False)
        return
    from ..compare.render import markdown_table, text_table

    text = markdown_table(headers, rows) if as_md else text_table(headers, rows)
    if text:
        click.echo(text)
