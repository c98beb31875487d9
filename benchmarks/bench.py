"""Time llmpipe and dvc side by side on the same work; print a Markdown report.

Each tool gets its own fresh copy of every generated project (a git repository
initialised with `llmpipe init` or `dvc init`), so neither sees the other's cache
or state. Times are wall-clock seconds of the whole command (subprocess), best of
`--repeat` runs; the ratio is dvc time / llmpipe time, so bigger is better for
llmpipe. Run `python benchmarks/bench.py --help` for the options.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GROUPS = ("three", "foreach", "big", "dir")
TOOLS = ("llmpipe", "dvc")
MIB = 1 << 20


class BenchError(Exception):
    """A command failed; the message holds the command and the tail of its stderr."""


@dataclass
class Result:
    """One row of the report: best times per tool and the ratio that is judged."""

    scenario: str
    target: str
    times: dict[str, float] = field(default_factory=dict)
    ratio: float | None = None
    met: bool | None = None
    note: str = ""


@dataclass
class Bench:
    """Settings shared by every scenario."""

    commands: dict[str, list[str]]
    workdir: Path
    repeat: int
    jobs: int
    stages: int
    big_mb: int
    small_files: int
    results: list[Result] = field(default_factory=list)
    counter: int = 0

    def fresh_dir(self, label: str) -> Path:
        """A new, empty directory under the work dir, unique for this run."""
        self.counter += 1
        path = self.workdir / f"{self.counter:03d}-{label}"
        path.mkdir(parents=True)
        return path


# --------------------------------------------------------------------------- running


def log(message: str) -> None:
    """Progress goes to stderr so that stdout carries only the report."""
    print(message, file=sys.stderr, flush=True)


def tool_env() -> dict[str, str]:
    """The environment of every command: no dvc analytics; llmpipe importable.

    Both tools run as installed, with their bytecode cached: pip compiles dvc's on
    install, and the first round writes llmpipe's. A caller's
    PYTHONDONTWRITEBYTECODE (CI sets it) would make every llmpipe run compile
    its modules again, which no user pays.
    """
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # Lets `python -m llmpipe` work from a checkout that is not pip-installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run(argv: Sequence[str], cwd: Path) -> float:
    """Run `argv` in `cwd`; return its wall time; raise BenchError if it fails."""
    env = tool_env()
    start = time.perf_counter()
    proc = subprocess.run(
        list(argv),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise BenchError(f"`{' '.join(argv)}` exited {proc.returncode} in {cwd}: {tail}")
    return elapsed


def tool_run(bench: Bench, tool: str, args: Sequence[str], cwd: Path) -> float:
    """Run one llmpipe or dvc subcommand in a project."""
    return run([*bench.commands[tool], *args], cwd)


def best_of(bench: Bench, measure: Callable[[str, int], float]) -> dict[str, float]:
    """Best time per tool over `bench.repeat` rounds; tools alternate within a round."""
    best: dict[str, float] = {}
    for round_no in range(bench.repeat):
        for tool in TOOLS:
            elapsed = measure(tool, round_no)
            best[tool] = min(best.get(tool, elapsed), elapsed)
            log(f"    {tool:8s} round {round_no + 1}: {elapsed:8.3f} s")
    return best


def record(bench: Bench, scenario: str, target: float, times: dict[str, float]) -> None:
    """Add a row judged on dvc/llmpipe >= target."""
    ratio = times["dvc"] / times["llmpipe"] if times.get("llmpipe") else None
    met = ratio is not None and ratio >= target
    bench.results.append(Result(scenario, f"{target:g}x", times, ratio, met))


def attempt(bench: Bench, scenario: str, target: str, body: Callable[[], None]) -> bool:
    """Run a scenario body; a failure becomes a FAILED row instead of ending the run.

    Returns whether it succeeded: scenarios that reuse its projects run only then.
    """
    log(f"== {scenario}")
    try:
        body()
    except BenchError as exc:
        log(f"   FAILED: {exc}")
        bench.results.append(Result(scenario, target, note=f"FAILED: {exc}"))
        return False
    return True


# ------------------------------------------------------------------------- projects


def git(args: Sequence[str], cwd: Path) -> None:
    run(["git", *args], cwd)


def make_project(bench: Bench, tool: str, template: Path | None, label: str) -> Path:
    """Copy `template` (if any) into a fresh git repository made a `tool` project."""
    project = bench.fresh_dir(f"{label}-{tool}")
    if template is not None:
        shutil.copytree(template, project, dirs_exist_ok=True)
    git(["init", "-q"], project)
    git(["config", "user.email", "bench@llmpipe.invalid"], project)
    git(["config", "user.name", "llmpipe bench"], project)
    tool_run(bench, tool, ["init", "-q"] if tool == "dvc" else ["init"], project)
    git(["add", "-A"], project)
    git(["commit", "-q", "--allow-empty", "-m", "benchmark project"], project)
    return project


def write_template(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path -> text) under `root`."""
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def three_stage_files() -> dict[str, str]:
    """A 3-stage chain with params, a 1 MiB input and shell-only commands."""
    dvc_yaml = """\
stages:
  prepare:
    cmd: sort data/input.txt > prepared.txt
    deps: [data/input.txt]
    params: [prepare.seed]
    outs: [prepared.txt]
  train:
    cmd: uniq -c prepared.txt > model.txt
    deps: [prepared.txt]
    params: [train.epochs, train.lr]
    outs: [model.txt]
  evaluate:
    cmd: >-
      echo "{\\"lines\\": $(wc -l < model.txt)}" > metrics.json
    deps: [model.txt]
    metrics:
      - metrics.json:
          cache: false
"""
    params = "prepare:\n  seed: 1\ntrain:\n  epochs: 3\n  lr: 0.01\n"
    rng = random.Random(3)
    lines = [f"{rng.randrange(10**6):06d}\n" for _ in range(MIB // 7)]
    return {"dvc.yaml": dvc_yaml, "params.yaml": params, "data/input.txt": "".join(lines)}


def foreach_files(stages: int) -> dict[str, str]:
    """`stages` foreach stages, each copying its own small input to its own output."""
    items = ", ".join(f"s{i:03d}" for i in range(stages))
    dvc_yaml = f"""\
stages:
  step:
    foreach: [{items}]
    do:
      cmd: cp inputs/${{item}}.txt outs/${{item}}.txt
      deps:
        - inputs/${{item}}.txt
      outs:
        - outs/${{item}}.txt
"""
    files = {"dvc.yaml": dvc_yaml, "outs/.keep": ""}
    files.update({f"inputs/s{i:03d}.txt": f"input {i}\n" for i in range(stages)})
    return files


def write_big_file(path: Path, size_mb: int) -> None:
    """`size_mb` MiB of pseudo-random bytes (incompressible, no repeated blocks)."""
    rng = random.Random(2)
    with path.open("wb") as handle:
        for _ in range(size_mb):
            handle.write(rng.randbytes(MIB))


def write_small_files(root: Path, count: int) -> None:
    """`count` files of 64 B - 2 KiB in 100 sub-folders."""
    rng = random.Random(1)
    for index in range(count):
        path = root / f"part{index % 100:02d}" / f"file{index:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randrange(64, 2048)))


# ------------------------------------------------------------------------ scenarios


def scenario_three(bench: Bench) -> None:
    """3-stage pipeline: no-op `repro` after a first full run (target 6x, issue 20)."""
    template = write_template(bench.fresh_dir("three-template"), three_stage_files())

    def body() -> None:
        projects = {tool: make_project(bench, tool, template, "three") for tool in TOOLS}
        for tool, project in projects.items():
            tool_run(bench, tool, ["repro"], project)
        times = best_of(bench, lambda tool, _: tool_run(bench, tool, ["repro"], projects[tool]))
        record(bench, "3-stage pipeline: no-op `repro`", 6, times)

    attempt(bench, "3-stage pipeline: no-op `repro`", "6x", body)


def scenario_foreach(bench: Bench) -> None:
    """100-stage foreach: first `repro` (10x), no-op (12x), one dep changed (12x)."""
    template = write_template(bench.fresh_dir("foreach-template"), foreach_files(bench.stages))
    name = f"{bench.stages}-stage foreach"
    first_args = {"llmpipe": ["repro", "-j", str(bench.jobs)], "dvc": ["repro"]}
    latest: dict[str, Path] = {}

    def first(tool: str, _: int) -> float:
        latest[tool] = make_project(bench, tool, template, "foreach")
        return tool_run(bench, tool, first_args[tool], latest[tool])

    def changed(tool: str, round_no: int) -> float:
        victim = latest[tool] / "inputs" / f"s{bench.stages // 2:03d}.txt"
        with victim.open("a", encoding="utf-8") as handle:
            handle.write(f"change {round_no}\n")
        return tool_run(bench, tool, ["repro"], latest[tool])

    def first_body() -> None:
        record(bench, f"{name}: first `repro` (llmpipe -j {bench.jobs})", 10, best_of(bench, first))

    def noop_body() -> None:
        noop = best_of(bench, lambda tool, _: tool_run(bench, tool, ["repro"], latest[tool]))
        record(bench, f"{name}: no-op `repro`", 12, noop)

    def changed_body() -> None:
        record(bench, f"{name}: `repro` after one dep changed", 12, best_of(bench, changed))

    if attempt(bench, f"{name}: first `repro`", "10x", first_body):
        attempt(bench, f"{name}: no-op `repro`", "12x", noop_body)
        attempt(bench, f"{name}: `repro` after one dep changed", "12x", changed_body)


def hash_once(path: Path) -> float:
    """Seconds to md5 `path` once with hashlib (the reference for status-after-touch)."""
    start = time.perf_counter()
    digest = hashlib.md5()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * MIB):
            digest.update(chunk)
    return time.perf_counter() - start


def md5sum_once(path: Path) -> float | None:
    """Seconds for coreutils `md5sum`, when it is installed."""
    if shutil.which("md5sum") is None:
        return None
    return run(["md5sum", str(path)], path.parent)


def scenario_big(bench: Bench) -> None:
    """`add` of one big file (3x), then `status` after `touch` vs hashing it once."""
    source = bench.fresh_dir("big-template") / "big.bin"
    log(f"   writing {bench.big_mb} MiB test file")
    write_big_file(source, bench.big_mb)
    latest: dict[str, Path] = {}
    label = f"`add` of one {bench.big_mb} MiB file"

    def add(tool: str, _: int) -> float:
        if tool in latest:  # keep at most one big project per tool on disk
            shutil.rmtree(latest[tool])
        latest[tool] = make_project(bench, tool, None, "big")
        shutil.copyfile(source, latest[tool] / "big.bin")
        return tool_run(bench, tool, ["add", "big.bin"], latest[tool])

    def touched_status(tool: str, _: int) -> float:
        os.utime(latest[tool] / "big.bin")
        return tool_run(bench, tool, ["status"], latest[tool])

    def add_body() -> None:
        record(bench, label, 3, best_of(bench, add))

    def touch_body() -> None:
        record_touch(bench, source, best_of(bench, touched_status))

    if attempt(bench, label, "3x", add_body):
        attempt(bench, "`status` after `touch` of that file", "<= 1 md5", touch_body)


def record_touch(bench: Bench, source: Path, times: dict[str, float]) -> None:
    """Judge llmpipe's status-after-touch against one hashlib md5 of the same file."""
    reference = min(hash_once(source) for _ in range(bench.repeat))
    md5sum = md5sum_once(source)
    times = {**times, "md5 (hashlib)": reference}
    note = f"hashlib md5 once: {reference:.3f} s"
    if md5sum is not None:
        note += f"; md5sum once: {md5sum:.3f} s"
    ratio = reference / times["llmpipe"]
    note += "; ratio = md5 time / llmpipe time"
    scenario = "`status` after `touch` of that file"
    bench.results.append(Result(scenario, "llmpipe <= 1 md5", times, ratio, ratio >= 1.0, note))


def scenario_dir(bench: Bench) -> None:
    """`add` of a directory of many small files (2x), then its no-op `status` (4x)."""
    source = bench.fresh_dir("dir-template") / "files"
    log(f"   writing {bench.small_files} small files")
    write_small_files(source, bench.small_files)
    latest: dict[str, Path] = {}
    label = f"`add` of a directory of {bench.small_files} files"

    def add(tool: str, _: int) -> float:
        if tool in latest:
            shutil.rmtree(latest[tool])
        latest[tool] = make_project(bench, tool, None, "dir")
        shutil.copytree(source, latest[tool] / "files")
        return tool_run(bench, tool, ["add", "files"], latest[tool])

    def status(tool: str, _: int) -> float:
        return tool_run(bench, tool, ["status"], latest[tool])

    def add_body() -> None:
        record(bench, label, 2, best_of(bench, add))

    def status_body() -> None:
        record(bench, "`status` of that directory", 4, best_of(bench, status))

    if attempt(bench, label, "2x", add_body):
        attempt(bench, "`status` of that directory", "4x", status_body)


SCENARIOS: dict[str, Callable[[Bench], None]] = {
    "three": scenario_three,
    "foreach": scenario_foreach,
    "big": scenario_big,
    "dir": scenario_dir,
}


# -------------------------------------------------------------------------- machine


def command_output(argv: Sequence[str]) -> str:
    """First line of a command's stdout, or a note that it failed."""
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=60, env=tool_env()
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    if proc.returncode != 0:
        return "unknown"
    lines = proc.stdout.strip().splitlines()
    return lines[-1] if lines else "unknown"


def llmpipe_version(bench: Bench) -> str:
    """`llmpipe --version`, or the version in pyproject.toml when not pip-installed."""
    reported = command_output([*bench.commands["llmpipe"], "--version"])
    if reported != "unknown":
        return reported
    match = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    return f"{match.group(1)} (checkout, not installed)" if match else "unknown"


def read_first(path: str, prefix: str) -> str:
    """The value of the first `prefix: value` line of a /proc file."""
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def filesystem(path: Path) -> str:
    """The filesystem type holding `path` (findmnt names ext4; stat says ext2/ext3)."""
    existing = next(parent for parent in (path, *path.parents) if parent.exists())
    fs_type = command_output(["findmnt", "-no", "FSTYPE", "-T", str(existing)])
    if fs_type == "unknown":
        fs_type = command_output(["stat", "-f", "-c", "%T", str(existing)])
    return f"{fs_type} ({path})"


def machine_details(bench: Bench) -> list[tuple[str, str]]:
    """What the numbers depend on, as (name, value) pairs."""
    mem_kb = read_first("/proc/meminfo", "MemTotal").split()[0]
    ram = f"{int(mem_kb) / MIB:.1f} GiB" if mem_kb.isdigit() else "unknown"
    fs = filesystem(bench.workdir)
    return [
        ("CPU", read_first("/proc/cpuinfo", "model name")),
        ("cores", str(os.cpu_count())),
        ("RAM", ram),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("llmpipe", llmpipe_version(bench)),
        ("dvc", command_output([*bench.commands["dvc"], "--version"])),
        ("work dir filesystem", fs),
        ("git commit", command_output(["git", "-C", str(REPO), "describe", "--always", "--dirty"])),
    ]


# --------------------------------------------------------------------------- report


def fmt_seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def report_head(title: str, script: str, argv: Sequence[str]) -> list[str]:
    """A report's first lines: the title with the time, and the command that made it."""
    return [
        f"## {title} " + time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "",
        f"Command: `python benchmarks/{script} {' '.join(argv)}`",
        "",
    ]


def render(bench: Bench, argv: Sequence[str]) -> str:
    """The Markdown report: how it was run, the machine, and one row per scenario."""
    lines = [
        *report_head("Run of", "bench.py", argv),
        f"Best of {bench.repeat} runs, wall-clock seconds per command; "
        "ratio = dvc time / llmpipe time (higher is better for llmpipe).",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in machine_details(bench)),
        "",
        "| scenario | llmpipe (s) | dvc (s) | ratio | target | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in bench.results:
        ratio = "-" if row.ratio is None else f"{row.ratio:.1f}x"
        met = {True: "yes", False: "**no**", None: "-"}[row.met]
        lines.append(
            f"| {row.scenario} | {fmt_seconds(row.times.get('llmpipe'))} | "
            f"{fmt_seconds(row.times.get('dvc'))} | {ratio} | {row.target} | {met} |"
        )
    notes = [f"- {row.scenario}: {row.note}" for row in bench.results if row.note]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


# ----------------------------------------------------------------------------- main


def default_command(name: str) -> list[str]:
    """The tool's console script if on PATH; llmpipe falls back to `python -m llmpipe`."""
    found = shutil.which(name)
    if found and os.sep + "shims" + os.sep in found and shutil.which("pyenv"):
        # A pyenv shim is a bash script that runs `pyenv exec`: about 60 ms per command
        # here, which would be timed as part of either tool. Time the real script.
        real = subprocess.run(["pyenv", "which", name], capture_output=True, text=True)
        found = real.stdout.strip() if real.returncode == 0 else found
    if found:
        return [found]
    if name == "llmpipe":
        return [sys.executable, "-m", "llmpipe"]
    raise SystemExit(f"bench.py: '{name}' is not on PATH (install it: pip install -e '.[dev]')")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenarios",
        default=",".join(GROUPS),
        help=f"comma-separated subset of {', '.join(GROUPS)} (default: all)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is kept)")
    parser.add_argument(
        "--jobs", type=int, default=2, help="llmpipe -j for the first foreach repro"
    )
    parser.add_argument("--stages", type=int, default=100, help="stages in the foreach pipeline")
    parser.add_argument("--big-mb", type=int, default=2048, help="size of the big file in MiB")
    parser.add_argument(
        "--small-files",
        type=int,
        default=10_000,
        help="files in the directory added by the 'dir' scenario",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=HERE / "work",
        help="where projects are generated (default: benchmarks/work)",
    )
    parser.add_argument("--output", type=Path, help="also append the report to this file")
    parser.add_argument("--keep", action="store_true", help="keep the generated projects")
    parser.add_argument("--llmpipe", help="command to run llmpipe (default: from PATH)")
    parser.add_argument("--dvc", help="command to run dvc (default: from PATH)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    groups = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise SystemExit(f"bench.py: unknown scenarios {unknown}; choose from {list(GROUPS)}")
    commands = {
        "llmpipe": args.llmpipe.split() if args.llmpipe else default_command("llmpipe"),
        "dvc": args.dvc.split() if args.dvc else default_command("dvc"),
    }
    workdir = args.workdir.resolve() / time.strftime("run-%Y%m%d-%H%M%S")
    sizes = (args.jobs, args.stages, args.big_mb, args.small_files)
    bench = Bench(commands, workdir, max(1, args.repeat), *sizes)
    try:
        for group in groups:
            SCENARIOS[group](bench)
        report = render(bench, argv)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(report)
    if args.output:
        with args.output.open("a", encoding="utf-8") as handle:
            handle.write("\n" + report)
    # Missed targets are data, shown in the table; only a scenario that could not run fails.
    return 1 if any(row.note.startswith("FAILED") for row in bench.results) else 0


if __name__ == "__main__":
    sys.exit(main())
