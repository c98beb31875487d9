"""llmpipe against the machine's limits (and dvc), plus scaling curves.

Groups (`--groups`, default all but `scale`):

* `floor`: no-op `repro` of the 3-stage and of the `--stages`-stage pipeline, and a
  `repro` after one dependency changed, as ratios to dvc and as multiples of
  `python -c pass` (the interpreter start-up every Python tool pays);
* `touch`: `status` of a tracked directory of `--files` small files plus one
  `--touch-mb` MiB file after that file's mtime changed, against one `stat` walk of
  the tree plus one md5 of the touched file (a Python process doing just that);
* `add`: `add` of one `--big-mb` MiB file against one md5 pass over it (hashlib, in
  this process), with the default link types and with `cache.type hardlink`, and an
  llmpipe project with `hash = blake3` against the md5 project;
* `scale`: first `repro`, no-op `repro` and `status` of `--scale-stages` stages, and
  `add`, `status` and `checkout` of `--scale-files` files: wall time and peak RSS of
  both tools, written to `--json` and drawn as a log-log SVG (`--svg`).

Every command runs as a subprocess; wall clock and CPU (user + system) come from
`os.wait4`, peak RSS from its `ru_maxrss`. Best of `--repeat` for the timed rows.
Projects are made with bench.py's helpers (see README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bench
from bench import MIB, TOOLS, foreach_files, three_stage_files, write_big_file, write_template

HERE = Path(__file__).resolve().parent
GROUPS = ("floor", "touch", "add", "scale")


@dataclass
class Measure:
    wall: float
    cpu: float
    rss_mb: float


@dataclass
class Row:
    """One line of the report: times per column, and the judged ratio."""

    label: str
    cells: dict[str, Measure | float] = field(default_factory=dict)
    judged: str = ""
    goal: str = ""
    met: bool | None = None


def measure(argv: Sequence[str], cwd: Path) -> Measure:
    """Run `argv`; wall seconds, CPU seconds and peak RSS (MiB) of it and its children."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=bench.tool_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # wait4 gives this child's own rusage (children it waited for are included).
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise bench.BenchError(
            f"`{' '.join(argv)}` exited {proc.returncode} in {cwd}: {err[-400:]}"
        )
    return Measure(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def best(measures: list[Measure]) -> Measure:
    """Best wall and best CPU over rounds (each its own minimum), highest RSS."""
    return Measure(
        min(m.wall for m in measures),
        min(m.cpu for m in measures),
        max(m.rss_mb for m in measures),
    )


@dataclass
class Limits:
    commands: dict[str, list[str]]
    work: Path
    args: argparse.Namespace
    rows: list[Row] = field(default_factory=list)
    scale: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        # bench.py's settings object names the folders and makes the projects.
        self.dirs = bench.Bench(self.commands, self.work, 1, 1, 1, 1, 1)

    def fresh(self, label: str) -> Path:
        return self.dirs.fresh_dir(label)

    def project(self, tool: str, template: Path | None, label: str) -> Path:
        return bench.make_project(self.dirs, tool, template, label)

    def tool(self, tool: str, args: Sequence[str], cwd: Path) -> Measure:
        return measure([*self.commands[tool], *args], cwd)

    def rounds(self, body: Callable[[int], Measure]) -> Measure:
        return best([body(n) for n in range(self.args.repeat)])


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ floor


def group_floor(lim: Limits) -> None:
    """No-op repro (3 and N stages) and one-dep change: vs dvc and vs `python -c pass`."""
    floor = lim.rounds(lambda _: measure([sys.executable, "-c", "pass"], lim.work))
    lim.rows.append(Row("`python -c pass` (the floor)", {"llmpipe": floor}))
    three = write_template(lim.fresh("three-template"), three_stage_files())
    many = write_template(lim.fresh("many-template"), foreach_files(lim.args.stages))
    for label, template, goal in (
        ("3-stage", three, 6.0),
        (f"{lim.args.stages}-stage", many, 12.0),
    ):
        projects = {t: lim.project(t, template, "floor") for t in TOOLS}
        for tool, project in projects.items():
            lim.tool(tool, ["repro"], project)
        cells = {t: noop(lim, t, projects[t]) for t in TOOLS}
        judge(lim, f"{label} pipeline: no-op `repro`", cells, goal, floor)
        if template is many:
            judge(
                lim,
                f"{label} pipeline: `repro` after one dep changed",
                changed_dep(lim, projects),
                goal,
                floor,
                noop=False,
            )


def noop(lim: Limits, tool: str, project: Path) -> Measure:
    return lim.rounds(lambda _: lim.tool(tool, ["repro"], project))


def changed_dep(lim: Limits, projects: dict[str, Path]) -> dict[str, Measure]:
    def one(tool: str, round_no: int) -> Measure:
        victim = projects[tool] / "inputs" / f"s{lim.args.stages // 2:03d}.txt"
        with victim.open("a", encoding="utf-8") as handle:
            handle.write(f"change {round_no}\n")
        return lim.tool(tool, ["repro"], projects[tool])

    return {t: lim.rounds(lambda n, t=t: one(t, n)) for t in TOOLS}


def judge(
    lim: Limits, label: str, cells: dict, goal: float, floor: Measure, noop: bool = True
) -> None:
    """dvc / llmpipe against `goal`; a no-op is also held to 3x `python -c pass` (the
    issue's floor goal is the no-op's; a run that executes a stage is only reported)."""
    ratio = cells["dvc"].wall / cells["llmpipe"].wall
    cpu_ratio = cells["dvc"].cpu / cells["llmpipe"].cpu
    over_floor = cells["llmpipe"].cpu / floor.cpu
    judged = (
        f"dvc/llmpipe {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU; "
        f"llmpipe CPU = {over_floor:.2f}x `python -c pass`"
    )
    lim.rows.append(
        Row(
            label,
            cells,
            judged,
            f">= {goal:g}x dvc; <= 3x floor" if noop else f">= {goal:g}x dvc",
            ratio >= goal and (over_floor <= 3 or not noop),
        )
    )


# ------------------------------------------------------------------------------ touch


STAT_WALK = """
import hashlib, os, sys
for top, dirs, files in os.walk(sys.argv[1]):
    for name in files:
        os.lstat(os.path.join(top, name))
h = hashlib.md5()
with open(sys.argv[2], "rb") as f:
    while chunk := f.read(1 << 22):
        h.update(chunk)
"""


def group_touch(lim: Limits) -> None:
    """`status` after the big file of a tracked directory was touched."""
    source = lim.fresh("touch-template") / "data"
    log(f"   writing {lim.args.files} small files and one {lim.args.touch_mb} MiB file")
    bench.write_small_files(source, lim.args.files)
    write_big_file(source / "big.bin", lim.args.touch_mb)
    projects = {}
    for tool in TOOLS:
        projects[tool] = lim.project(tool, None, "touch")
        shutil.copytree(source, projects[tool] / "data")
        lim.tool(tool, ["add", "data"], projects[tool])

    def touched(tool: str) -> Measure:
        os.utime(projects[tool] / "data" / "big.bin")
        return lim.tool(tool, ["status"], projects[tool])

    cells: dict[str, Measure | float] = {t: lim.rounds(lambda _, t=t: touched(t)) for t in TOOLS}
    data = projects["llmpipe"] / "data"
    cells["reference"] = lim.rounds(
        lambda _: measure(
            [sys.executable, "-c", STAT_WALK, str(data), str(data / "big.bin")], lim.work
        )
    )
    ratio = cells["dvc"].wall / cells["llmpipe"].wall
    over = cells["llmpipe"].wall / cells["reference"].wall
    lim.rows.append(
        Row(
            f"`status` of {lim.args.files:,} files + one {lim.args.touch_mb} MiB file "
            "after that file was touched",
            cells,
            f"dvc/llmpipe {ratio:.1f}x; llmpipe = {over:.2f}x (stat walk + md5 of the file)",
            ">= 4x dvc; <= 1.5x reference",
            ratio >= 4 and over <= 1.5,
        )
    )


# -------------------------------------------------------------------------------- add


def md5_pass(path: Path) -> float:
    start = time.perf_counter()
    digest = hashlib.md5()
    with path.open("rb", buffering=0) as handle:
        while chunk := handle.read(4 * MIB):
            digest.update(chunk)
    return time.perf_counter() - start


def group_add(lim: Limits) -> None:
    """`add` of one big file against one md5 pass; hardlink cache; blake3."""
    source = lim.fresh("add-template") / "big.bin"
    log(f"   writing {lim.args.big_mb} MiB file")
    write_big_file(source, lim.args.big_mb)
    reference = min(md5_pass(source) for _ in range(lim.args.repeat))
    variants = [
        ("llmpipe", "md5, default cache.type", []),
        ("llmpipe", "md5, cache.type hardlink", [["config", "cache.type", "hardlink"]]),
        ("llmpipe", "blake3 (`hash = blake3`)", [BLAKE3]),
        ("dvc", "md5, default cache.type", []),
    ]
    cells: dict[str, Measure | float] = {"one md5 pass (hashlib)": reference}
    for tool, label, setup in variants:
        cells[f"{tool}: {label}"] = add_best(lim, tool, setup, source)
    md5_add = cells["llmpipe: md5, default cache.type"].wall
    b3 = cells["llmpipe: blake3 (`hash = blake3`)"].wall
    lim.rows.append(
        Row(
            f"`add` of one {lim.args.big_mb} MiB file",
            cells,
            f"llmpipe md5 add = {md5_add / reference:.2f}x one md5 pass "
            f"(hardlink: {cells['llmpipe: md5, cache.type hardlink'].wall / reference:.2f}x); "
            f"blake3 add {md5_add / b3:.1f}x faster than md5 add; "
            f"dvc/llmpipe {cells['dvc: md5, default cache.type'].wall / md5_add:.1f}x",
            "<= 1.1x md5 pass; blake3 >= 2x md5",
            md5_add / reference <= 1.1 and md5_add / b3 >= 2,
        )
    )


# `.llmpipe/config` is llmpipe's own settings file (README): `[llmpipe]` `hash = blake3`.
BLAKE3 = ["<write>", ".llmpipe/config", "[llmpipe]\nhash = blake3\n"]


def add_best(lim: Limits, tool: str, setup: list[list[str]], source: Path) -> Measure:
    return lim.rounds(lambda _: add_once(lim, tool, setup, source))


def add_once(lim: Limits, tool: str, setup: list[list[str]], source: Path) -> Measure:
    project = lim.project(tool, None, "add")
    for args in setup:
        if args[0] == "<write>":
            (project / args[1]).write_text(args[2], encoding="utf-8")
        else:
            lim.tool(tool, args, project)
    target = project / "big.bin"
    shutil.copyfile(source, target)
    result = lim.tool(tool, ["add", "big.bin"], project)
    shutil.rmtree(project)
    return result


# ------------------------------------------------------------------------------ scale


def group_scale(lim: Limits) -> None:
    """Wall time and peak RSS over sizes, both tools; dvc skips sizes over its caps."""
    for stages in lim.args.scale_stages:
        template = write_template(lim.fresh(f"scale-{stages}"), foreach_files(stages))
        for tool in TOOLS:
            if tool == "dvc" and stages > lim.args.dvc_max_stages:
                continue
            project = lim.project(tool, template, f"stages{stages}")
            first = ["repro", "-j", "2"] if tool == "llmpipe" else ["repro"]
            point(lim, tool, "first repro", "stages", stages, first, project, once=True)
            point(lim, tool, "no-op repro", "stages", stages, ["repro"], project)
            point(lim, tool, "status (stages)", "stages", stages, ["status"], project)
            shutil.rmtree(project)
        shutil.rmtree(template)
    for files in lim.args.scale_files:
        source = lim.fresh(f"files-{files}") / "data"
        log(f"   writing {files} files")
        bench.write_small_files(source, files)
        for tool in TOOLS:
            if tool == "dvc" and files > lim.args.dvc_max_files:
                continue
            project = lim.project(tool, None, f"files{files}")
            shutil.copytree(source, project / "data")
            point(lim, tool, "add", "files", files, ["add", "data"], project, once=True)
            point(lim, tool, "status (files)", "files", files, ["status"], project)
            shutil.rmtree(project / "data")
            point(lim, tool, "checkout", "files", files, ["checkout"], project, once=True)
            shutil.rmtree(project)
        shutil.rmtree(source.parent)


def point(
    lim: Limits,
    tool: str,
    op: str,
    unit: str,
    size: int,
    args: list[str],
    project: Path,
    once: bool = False,
) -> None:
    result = (
        lim.tool(tool, args, project)
        if once
        else lim.rounds(lambda _: lim.tool(tool, args, project))
    )
    log(f"    {tool:8s} {op:16s} {size:>8} {unit}: {result.wall:8.3f} s {result.rss_mb:7.1f} MiB")
    lim.scale.append(
        {
            "tool": tool,
            "op": op,
            "unit": unit,
            "size": size,
            "wall": result.wall,
            "cpu": result.cpu,
            "rss_mb": result.rss_mb,
        }
    )


# ------------------------------------------------------------------------------ report


def fmt(cell: Measure | float) -> str:
    if isinstance(cell, Measure):
        return f"{cell.wall:.3f} s (CPU {cell.cpu:.3f} s, {cell.rss_mb:.0f} MiB)"
    return f"{cell:.3f} s"


def render(lim: Limits, argv: Sequence[str]) -> str:
    lines = [
        *bench.report_head("Limits, run of", "bench_limits.py", argv),
        f"Best of {lim.args.repeat}; wall clock, CPU (user + system) and peak RSS of each "
        f"command. Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
        "(a shared machine: other jobs ran).",
        "",
        "| scenario | measured | judged | goal | met |",
        "|---|---|---|---|---|",
    ]
    for row in lim.rows:
        cells = "<br>".join(f"{name}: {fmt(cell)}" for name, cell in row.cells.items())
        met = {True: "yes", False: "**no**", None: "-"}[row.met]
        lines.append(f"| {row.label} | {cells} | {row.judged} | {row.goal} | {met} |")
    if lim.scale:
        lines += [
            "",
            "| op | size | tool | wall (s) | CPU (s) | peak RSS (MiB) |",
            "|---|---:|---|---:|---:|---:|",
        ]
        for p in lim.scale:
            lines.append(
                f"| {p['op']} | {p['size']:,} {p['unit']} | {p['tool']} | "
                f"{p['wall']:.3f} | {p['cpu']:.3f} | {p['rss_mb']:.0f} |"
            )
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default="floor,touch,add", help=f"subset of {GROUPS}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stages", type=int, default=100)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--touch-mb", type=int, default=64)
    parser.add_argument("--big-mb", type=int, default=2048)
    ints = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    parser.add_argument("--scale-stages", type=ints, default=[10, 100, 1000, 10000])
    parser.add_argument("--scale-files", type=ints, default=[1000, 10_000, 100_000])
    parser.add_argument(
        "--dvc-max-stages",
        type=int,
        default=1000,
        help="dvc's first repro of 10,000 stages takes about 20 minutes here",
    )
    parser.add_argument("--dvc-max-files", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=HERE / "work")
    parser.add_argument("--output", type=Path, help="append the report to this file")
    parser.add_argument("--json", type=Path, help="write the scaling points here")
    parser.add_argument("--svg", type=Path, help="draw the scaling points here")
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    groups = [g for g in args.groups.split(",") if g]
    if set(groups) - set(GROUPS):
        raise SystemExit(f"bench_limits.py: unknown groups; choose from {GROUPS}")
    commands = {name: bench.default_command(name) for name in TOOLS}
    work = args.workdir.resolve() / time.strftime("limits-%Y%m%d-%H%M%S")
    work.mkdir(parents=True)
    lim = Limits(commands, work, args)
    try:
        for group in groups:
            log(f"== {group}")
            {"floor": group_floor, "touch": group_touch, "add": group_add, "scale": group_scale}[
                group
            ](lim)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report = render(lim, argv)
    print(report)
    if args.output:
        with args.output.open("a", encoding="utf-8") as handle:
            handle.write("\n" + report)
    if args.json and lim.scale:
        args.json.write_text(json.dumps(lim.scale, indent=1) + "\n", encoding="utf-8")
    if args.svg and lim.scale:
        from plot_svg import loglog_svg

        args.svg.write_text(loglog_svg(lim.scale), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
