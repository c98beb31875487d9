"""`llmpipe exp`: run, save, show and manage experiments (dvc's `exp` commands).

Experiments are git refs in dvc's layout, so `dvc exp show` lists llmpipe's
and `llmpipe exp show` lists dvc's. The verbs live in `llmpipe.ops.exp`.
"""

from __future__ import annotations

import click

from .render import emit_json, quiet_option, verbose_option


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
@click.option("--queue", is_flag=True, help="Queue the experiment to run later (--run-all).")
@click.option("--run-all", is_flag=True, help="Run every queued experiment.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="With --run-all: experiments at once (each in a copy of the project); else stages.",
)
@click.option("--dry", is_flag=True, help="Say what would run; save nothing.")
@click.option("--no-run-cache", is_flag=True, help="Always execute; never restore from run-cache.")
@click.option("-k", "--keep-going", is_flag=True, help="Keep running stages after a failure.")
@quiet_option
@verbose_option
def run(targets: tuple[str, ...], set_params: tuple[str, ...], name: str | None, force: bool,
        queue: bool, run_all: bool, jobs: int | None, dry: bool, no_run_cache: bool,
        keep_going: bool, quiet: bool, verbose: bool) -> None:  # fmt: skip
    """Reproduce the pipeline in the workspace and save the result as an experiment.

    The experiment is a commit on HEAD kept under refs/exps/ (as dvc keeps it);
    the results stay in the workspace.
    """
    from ..ops.exp.run import run_experiment
    from ..ops.repro import ReproRequest
    from .repro import summarize, with_progress
    from .session import invocation, open_project

    if queue or run_all:
        _queue(targets, set_params, name, queue, run_all, jobs, quiet)
        return

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
        result = with_progress(quiet, lambda r, p: run_experiment(
            project, request, name, force, r, p, invocation=invocation()))  # fmt: skip
    summarize(result.repro, quiet, dry)
    if result.saved is not None:
        _saved_line(result.saved, quiet)


def _queue(targets: tuple[str, ...], set_params: tuple[str, ...], name: str | None, queue: bool,
           run_all: bool, jobs: int | None, quiet: bool) -> None:  # fmt: skip
    from ..errors import RunError
    from ..ops.exp.queue import enqueue, run_queued
    from .session import run_verb

    if queue:
        entry = run_verb(enqueue, set_params, name, targets)
        if not quiet:
            click.echo(f"Queued experiment '{entry.name}' for future execution.")
    if not run_all:
        return
    result = run_verb(run_queued, jobs or 1)
    for done in result.runs:
        if done.error:
            click.secho(f"ERROR: {done.error}", fg="red", err=True)
        elif not quiet:
            click.echo(f"Ran experiment '{done.entry.name}' ({done.commit[:7]}).")
    if not result.runs and not quiet:
        click.echo("No queued experiments to run.")
    if result.failed:
        raise RunError(
            f"{len(result.failed)} queued experiment(s) failed (see above); they stay queued"
        )


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
@click.argument("targets", nargs=-1)
@click.option("-n", "--name", help="The experiment's name (default: a random one).")
@click.option("-f", "--force", is_flag=True, help="Replace an experiment of the same name.")
@click.option(
    "-I",
    "--include-untracked",
    multiple=True,
    metavar="PATH",
    help="Also save this file git does not track (repeatable).",
)
@click.option("-m", "--message", help="The experiment commit's message.")
@click.option("--json", "as_json", is_flag=True, help='Print {"ref": <commit sha>} (dvc\'s).')
@click.option(
    "-R", "--recursive", is_flag=True, help="A directory target: every stage defined inside it."
)
@quiet_option
@verbose_option
def save(targets: tuple[str, ...], name: str | None, force: bool,
         include_untracked: tuple[str, ...], message: str | None, as_json: bool,
         recursive: bool, quiet: bool, verbose: bool) -> None:  # fmt: skip
    """Save the workspace, without running anything, as an experiment on HEAD.

    As `dvc exp save`, the outputs of TARGETS (default: every stage) are committed
    first, as they are (`commit -f`).
    """
    from ..ops.exp.run import save_experiment
    from .session import run_verb

    saved = run_verb(save_experiment, name, force, include_untracked, message, targets,
                     recursive)  # fmt: skip
    if saved.left_out:
        click.secho(
            "WARNING: The following untracked files were present in the workspace before"
            " saving but will not be included in the experiment commit:\n\t"
            + ", ".join(saved.left_out),
            fg="yellow",
            err=True,
        )
    if as_json:
        emit_json({"ref": saved.exp.commit}, like_dvc=True)
    elif not quiet:
        click.echo(f"Experiment has been saved as: {saved.exp.name}")


def _regex(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    import re

    for value in values:
        try:
            re.compile(value)
        except re.error as exc:
            raise click.BadParameter(f"'{value}' is not a regular expression: {exc}") from None
    return values


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
@click.option(
    "--drop",
    multiple=True,
    metavar="REGEX",
    callback=_regex,
    help="Leave out the columns this matches (table, Markdown, CSV).",
)
@click.option(
    "--keep",
    multiple=True,
    metavar="REGEX",
    callback=_regex,
    help="Keep the columns this matches, whatever --only-changed or --drop say.",
)
@click.option("--precision", type=int, help="Significant digits of floats (default 5).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (dvc's shape).")
@click.option("--md", "--markdown", "as_md", is_flag=True, help="Print a Markdown table.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (dvc's columns).")
@click.option("--no-pager", is_flag=True, hidden=True, help="Accepted for dvc's sake.")
@click.option("-f", "--force", is_flag=True, help="Read every commit again, not what was kept.")
@click.option(
    "--sha", "sha_only", is_flag=True, help="Name baselines by commit, not by branch or tag."
)
@quiet_option
@verbose_option
def show(all_branches: bool, all_tags: bool, all_commits: bool, revs: tuple[str, ...], num: int,
         hide_workspace: bool, param_deps: bool, sort_by: str | None, sort_order: str,
         only_changed: bool, drop: tuple[str, ...], keep: tuple[str, ...], precision: int | None,
         as_json: bool, as_md: bool, as_csv: bool, no_pager: bool, force: bool, sha_only: bool,
         quiet: bool, verbose: bool) -> None:  # fmt: skip
    """Show the workspace, the baseline(s) and their experiments, with params and metrics."""
    from ..ops.exp.show import ShowRequest, show
    from .session import open_project

    request = ShowRequest(revs, all_branches, all_tags, all_commits, num, hide_workspace,
                          param_deps, force, sha_only)  # fmt: skip
    with open_project() as project:
        states = show(project, request, _fetcher(project))
    if quiet:  # as dvc's: nothing at all, JSON included
        return
    if as_json:
        emit_json([state.to_json() for state in states], like_dvc=True)
        return
    from .exptable import TableOptions, tabulate, to_csv  # the table's code: not for --json

    options = TableOptions(
        precision=precision if precision is not None else (None if as_csv else 5),
        csv=as_csv,
        sort_by=sort_by,
        sort_order=sort_order,
        only_changed=only_changed,
        keep=keep,
        drop=drop,
    )
    headers, rows = tabulate(states, options)
    if as_csv:
        click.echo(to_csv(headers, rows), nl=False)
        return
    from ..compare.render import markdown_table, text_table

    text = markdown_table(headers, rows) if as_md else text_table(headers, rows)
    if text:
        click.echo(text)


def _fetcher(project):  # noqa: ANN001, ANN202
    """What fetches objects the cache lacks; the transfer code is imported only with a remote."""
    if not project.config.remotes:
        return None
    from ..ops.compare import fetcher

    return fetcher(project)


@exp.command(name="diff")
@click.argument("a_rev", required=False)
@click.argument("b_rev", required=False)
@click.option("--all", "include_all", is_flag=True, help="Include unchanged values.")
@click.option("--param-deps", is_flag=True, help="Only params that stages depend on.")
@click.option("--no-path", is_flag=True, help="Leave out the Path column.")
@click.option("--precision", type=int, help="Round floats to this many decimal places.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (dvc's shape).")
@click.option("--md", "as_md", is_flag=True, help="Print Markdown tables.")
@click.option("-q", "--quiet", is_flag=True, help="No JSON (dvc's -q still prints the table).")
@verbose_option
def diff(a_rev: str | None, b_rev: str | None, include_all: bool, param_deps: bool,
         no_path: bool, precision: int | None, as_json: bool, as_md: bool, quiet: bool,
         verbose: bool) -> None:  # fmt: skip
    """Compare params and metrics of A_REV (default HEAD) and B_REV (default the workspace).

    Each may be a git revision or an experiment name.
    """
    from ..compare.diff import changes_to_json
    from ..errors import FileProblem
    from ..ops.exp.diff import diff as exp_diff
    from .session import open_project

    with open_project() as project:
        found = exp_diff(project, a_rev, b_rev, include_all, param_deps, _fetcher(project))
    for problem in found.problems:
        click.secho(f"WARNING: {problem}", fg="yellow", err=True)
    if as_json and not quiet:
        emit_json({"metrics": changes_to_json(found.metrics),
                   "params": changes_to_json(found.params, stringify_lists=True)},
                  like_dvc=True)  # fmt: skip
    elif not as_json:  # dvc prints the tables even with -q
        titles = (a_rev or "HEAD", b_rev or "workspace")
        tables = [
            _diff_table(changes, title, titles, precision, no_path, as_md)
            for title, changes in (("Metric", found.metrics), ("Param", found.params))
        ]
        # dvc's layout: a blank line between the two tables, even when one (or both) is
        # empty; in Markdown every table (an empty one is its header) ends with a blank line.
        click.echo("\n".join(t + "\n" if as_md else t for t in tables), nl=False)
    if found.problems:
        raise FileProblem("could not read every file of both revisions (see the warnings above)")


_NO_DIFF = "diff not supported"  # dvc's Change cell when the values are not both numbers


def _diff_table(changes, title: str, titles: tuple[str, str], precision: int | None,  # noqa: ANN001
                no_path: bool, as_md: bool) -> str:  # fmt: skip
    """dvc's `exp diff` table: Path, the key, both values and the change, ending with a
    newline ('' for a text table without changes)."""
    from ..compare.render import markdown_table, text_table
    from .exptable import format_cell

    # dvc rounds metrics only (to 5 significant digits by default); params are shown whole.
    digits = (5 if precision is None else precision) if title == "Metric" else None
    headers = ["Path", title, *titles, "Change"]
    rows = [
        [c.path, c.key, format_cell(c.old, digits), format_cell(c.new, digits),
         _NO_DIFF if c.diff is None else format_cell(c.diff, digits)]
        for c in changes
    ]  # fmt: skip
    if no_path:
        headers, rows = headers[1:], [row[1:] for row in rows]
    if as_md:
        return markdown_table(headers, rows, empty_headers=True)
    text = text_table(headers, rows)
    return text + "\n" if text else ""


@exp.command(name="apply")
@click.argument("experiment")
@click.option("--no-force", is_flag=True, help="Deprecated in dvc; changes nothing.")
@quiet_option
@verbose_option
def apply(experiment: str, no_force: bool, quiet: bool, verbose: bool) -> None:
    """Put an experiment's files and outputs in the workspace (HEAD does not move)."""
    from ..ops.exp.manage import apply as apply_verb
    from .session import run_verb

    if no_force:  # dvc too only warns, then applies
        warning = "--no-force is deprecated (as in dvc) and changes nothing"
        click.secho(f"WARNING: {warning}: the experiment's files overwrite the workspace's",
                    fg="yellow", err=True)  # fmt: skip
    applied = run_verb(apply_verb, experiment)
    if not quiet:
        click.echo(
            f"Changes for experiment '{applied.exp.name}' have been applied"
            " to your current workspace."
        )


@exp.command(name="branch")
@click.argument("experiment")
@click.argument("branch", required=False)
@quiet_option
@verbose_option
def branch(experiment: str, branch: str | None, quiet: bool, verbose: bool) -> None:
    """Make a git branch (default EXPERIMENT-branch) at an experiment's commit."""
    from ..ops.exp.manage import branch as branch_verb
    from .session import run_verb

    made, exp_ref = run_verb(branch_verb, experiment, branch)
    if not quiet:
        click.echo(
            f"Git branch '{made}' has been created from experiment '{exp_ref.name}'.\n"
            f"To switch to the new branch run:\n\n\tgit checkout {made}"
        )


def _baseline_options(func):  # noqa: ANN001, ANN202
    options = [
        click.option("--rev", "revs", multiple=True, metavar="REV",
                     help="Experiments of this baseline (repeatable; default HEAD)."),
        click.option("-A", "--all-commits", is_flag=True, help="Experiments of every baseline."),
        _num_option,
        quiet_option,
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


_num_option = click.option(
    "-n", "--num", type=int, default=1, show_default=True,
    help="Also the baselines this many first-parent commits back from each --rev (or HEAD);"
    " negative: all of them.",
)  # fmt: skip


@exp.command(name="list")
@click.argument("git_remote", required=False)
@_baseline_options
@click.option("--name-only", "--names-only", is_flag=True, help="Only the names.")
@click.option("--sha-only", "--shas-only", is_flag=True, help="Only the commit shas.")
@verbose_option
def list_(git_remote: str | None, revs: tuple[str, ...], all_commits: bool, num: int,
          quiet: bool, name_only: bool, sha_only: bool, verbose: bool) -> None:  # fmt: skip
    """List experiments (of HEAD by default), or those a git remote holds."""
    from ..ops.exp.manage import list_experiments
    from ..ops.exp.show import describe_baselines
    from .session import open_project

    if sha_only and git_remote:
        raise click.UsageError("--sha-only cannot be used with a git remote")
    with open_project() as project:
        baselines = _resolve_baselines(project.root, revs, num)
        grouped = list_experiments(project, baselines, all_commits, git_remote)
        names = describe_baselines(project.root, list(grouped))
    if quiet:  # as dvc's: nothing
        return
    for baseline, exps in grouped.items():
        if not (name_only or sha_only):
            click.echo(f"{names.get(baseline) or baseline[:7]}:")
        for exp_ref in exps:
            if name_only:
                click.echo(exp_ref.name)
            elif sha_only:
                click.echo(exp_ref.commit)
            elif git_remote:  # as dvc: a remote's experiments are listed by name
                click.echo(f"\t{exp_ref.name}")
            else:
                click.echo(f"\t{exp_ref.commit[:7]} [{exp_ref.name}]")


def _resolve_baselines(root: str, revs: tuple[str, ...], num: int = 1) -> list[str]:
    """The commits `revs` name; with `num` other than 1, each (default HEAD) and its
    first-parent ancestors, `num` in all (negative: every one), as dvc's `-n`."""
    from ..ops.exp.refs import commit_of

    commits = [commit_of(root, rev, None) for rev in revs]
    if num == 1:
        return commits
    from .. import scm

    limit = () if num < 0 else (f"--max-count={num}",)
    back = [scm.run_git(root, "rev-list", "--first-parent", *limit, sha).split()
            for sha in commits or [commit_of(root, "HEAD", None)]]  # fmt: skip
    return list(dict.fromkeys(sha for shas in back for sha in shas))


@exp.command(name="remove")
@click.argument("experiments", nargs=-1)
@_baseline_options
@click.option("-g", "--git-remote", metavar="REMOTE", help="Remove them from this git remote.")
@click.option("--keep", is_flag=True, help="Keep the experiments chosen; remove all the others.")
@click.option("--queue", is_flag=True, help="Remove every queued experiment (exp run --queue).")
@verbose_option
def remove(experiments: tuple[str, ...], revs: tuple[str, ...], all_commits: bool, num: int,
           quiet: bool, git_remote: str | None, keep: bool, queue: bool,
           verbose: bool) -> None:  # fmt: skip
    """Remove experiments by name, all of a baseline (--rev), every one (-A) or the queue."""
    from ..ops.exp.manage import remove as remove_verb
    from ..ops.exp.queue import clear_queue
    from .session import open_project, run_verb

    if not (experiments or revs or all_commits or queue):
        raise click.UsageError("name the experiments to remove, or use --rev, -A or --queue")
    if queue and (keep or git_remote):
        raise click.UsageError("--queue cannot be used with --keep or -g (as in dvc)")
    removed = [entry.name for entry in run_verb(clear_queue)] if queue else []
    if experiments or revs or all_commits:
        with open_project() as project:
            baselines = _resolve_baselines(project.root, revs, num)
        found = run_verb(remove_verb, experiments, baselines, all_commits, git_remote, keep)
        removed += [exp.name for exp in found]
    if quiet:
        return
    if removed:
        click.echo(f"Removed experiments: {', '.join(repr(name) for name in removed)}")
    else:
        click.echo("No experiments to remove.")


@exp.command(name="rename")
@click.argument("experiment")
@click.argument("name", required=False)
@click.option("-f", "--force", is_flag=True, help="Replace an experiment that has the new name.")
@click.option(
    "-g",
    "--git-remote",
    metavar="GIT_REMOTE",
    help="Find EXPERIMENT among those this git remote (name or URL) holds; as dvc's, the"
    " local ref is renamed and the remote's is left as it is.",
)
@quiet_option
@verbose_option
def rename(experiment: str, name: str | None, force: bool, git_remote: str | None, quiet: bool,
           verbose: bool) -> None:  # fmt: skip
    """Rename EXPERIMENT to NAME (on the same baseline)."""
    from ..errors import ExperimentError
    from ..ops.exp.manage import rename as rename_verb
    from .session import run_verb

    if name is None:  # as dvc: `exp rename NEW` names no experiment
        raise ExperimentError("an experiment to rename and a new experiment name are required")
    renamed = run_verb(rename_verb, experiment, name, force, git_remote)
    if quiet:
        return
    if renamed is None:
        click.echo("No experiments to rename.")
    else:
        click.echo(f"Renamed experiments: {renamed[0].name!r}")


@exp.command(name="clean")
@quiet_option
@verbose_option
def clean(quiet: bool, verbose: bool) -> None:
    """Remove temporary files left by experiment runs that were interrupted."""
    from ..ops.exp.queue import clean as clean_verb
    from .session import run_verb

    if not quiet:
        click.echo("Cleaning up experiments' temporary files...")
    run_verb(clean_verb)
    if not quiet:
        click.echo("Done!")


def _sync_options(func):  # noqa: ANN001, ANN202
    options = [
        click.argument("git_remote"),
        click.argument("experiments", nargs=-1),
        click.option("-A", "--all-commits", is_flag=True, help="Every experiment."),
        click.option("--rev", "revs", multiple=True, metavar="REV",
                     help="The experiments of this baseline (repeatable; default HEAD)."),
        click.option("-f", "--force", is_flag=True, help="Overwrite experiments that diverged."),
        click.option("--no-cache", is_flag=True, help="Only the git refs, not the outputs."),
        click.option("-r", "--remote", help="Data remote (default: the default remote)."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), help="Parallel transfers."),
        click.option("--run-cache/--no-run-cache", default=False,
                     help="The run-cache (runs/) too, as `push --run-cache`."),
        _num_option,
        quiet_option,
        verbose_option,
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def _sync(verb_name: str, git_remote: str, experiments: tuple[str, ...], all_commits: bool,
          revs: tuple[str, ...], force: bool, no_cache: bool, remote: str | None,
          jobs: int | None, run_cache: bool, num: int, quiet: bool) -> None:  # fmt: skip
    from ..ops.exp import transfer
    from .session import open_project, run_verb

    with open_project() as project:
        baselines = tuple(_resolve_baselines(project.root, revs, num))
    selection = transfer.ExpSelection(experiments, baselines, all_commits)
    data = transfer.DataOptions(not no_cache, remote, jobs, run_cache)
    verb = transfer.push if verb_name == "push" else transfer.pull
    result = run_verb(verb, git_remote, selection, data, force)
    if quiet:
        return
    done = "Pushed" if verb_name == "push" else "Pulled"
    if not result.exps:
        click.echo("No experiments to " + verb_name + ".")
        return
    names = ", ".join(repr(e.name) for e in result.exps)
    where = "to" if verb_name == "push" else "from"
    click.echo(f"{done} experiments {names} {where} git remote '{git_remote}'.")
    if result.data is not None:
        from .transfer import report_transfer

        report_transfer("pushed" if verb_name == "push" else "fetched", result.data, False, False)


@exp.command(name="push")
@_sync_options
def push(**options) -> None:  # noqa: ANN003
    """Push experiments (HEAD's by default) to GIT_REMOTE, and their outputs to the data remote."""
    options.pop("verbose", None)
    _sync("push", **options)


@exp.command(name="pull")
@_sync_options
def pull(**options) -> None:  # noqa: ANN003
    """Pull experiments (HEAD's by default) from GIT_REMOTE, and their outputs into the cache."""
    options.pop("verbose", None)
    _sync("pull", **options)
