"""Experiment refs, laid out as dvc lays them out, so that both tools see the same experiments.

An experiment is a commit whose parent is its baseline, kept under
`refs/exps/<baseline[:2]>/<baseline[2:]>/<name>`. The namespace also holds
dvc's own bookkeeping (`refs/exps/exec/…`, `refs/exps/celery/…`, stashes);
those are not experiments and are skipped.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ... import scm
from ...errors import ExperimentError

NAMESPACE = "refs/exps"
# dvc's bookkeeping inside the namespace: never an experiment.
_SKIPPED = ("refs/exps/apply", "refs/exps/celery", "refs/exps/exec", "refs/exps/temp")
_STASH = "refs/exps/stash"
_SHA = re.compile(r"^[0-9a-f]{40}$")
# The parts of a ref name git refuses (git check-ref-format), and `/`, which would
# put the name at another depth of the layout.
_BAD_NAME = re.compile(r"[\x00-\x20~^:?*\[\\/\x7f]|\.\.|@\{|^[.-]|\.lock$|\.$")


@dataclass(frozen=True)
class ExpRef:
    """One experiment: its baseline commit, its name and (when read from git) its commit."""

    baseline: str
    name: str
    commit: str = ""

    @property
    def ref(self) -> str:
        return f"{NAMESPACE}/{self.baseline[:2]}/{self.baseline[2:]}/{self.name}"

    @classmethod
    def parse(cls, ref: str, commit: str = "") -> ExpRef | None:
        """The experiment a full ref name holds; None for anything else in the namespace."""
        if ref == _STASH or ref.startswith(_SKIPPED):
            return None
        parts = ref.split("/")
        if len(parts) != 5 or "/".join(parts[:2]) != NAMESPACE:
            return None
        baseline = parts[2] + parts[3]
        return cls(baseline, parts[4], commit) if _SHA.match(baseline) else None


def experiments(root: str) -> list[ExpRef]:
    """Every experiment of the repository holding `root`, sorted by ref name."""
    return experiments_in(scm.full_refs(root, NAMESPACE))


def experiments_in(refs: Iterable[tuple[str, str]]) -> list[ExpRef]:
    """The experiments among (full ref name, commit sha) pairs, in their order."""
    found = (ExpRef.parse(ref, sha) for ref, sha in refs)
    return [exp for exp in found if exp is not None]


def check_name(name: str) -> str:
    """`name` when git can hold it as an experiment name; ExperimentError otherwise."""
    if not name or _BAD_NAME.search(name):
        raise ExperimentError(
            f"invalid experiment name '{name}': use letters, digits, '-', '_' and '.'"
            " (no '/', spaces or characters git refuses in a ref name)"
        )
    return name


def find(root: str, name: str, baseline: str | None) -> ExpRef:
    """The experiment `name` names: a name, a full ref, or (a prefix of) its commit sha.

    A name shared by experiments of several baselines means the one on `baseline`
    (HEAD); otherwise ExperimentError lists the refs to choose from.
    """
    found = experiments(root)
    if name.startswith(NAMESPACE + "/"):
        matches = [exp for exp in found if exp.ref == name]
    else:
        matches = [exp for exp in found if exp.name == name]
        if not matches and re.fullmatch(r"[0-9a-f]{4,40}", name):
            matches = [exp for exp in found if exp.commit.startswith(name)]
    if len(matches) > 1:
        on_baseline = [exp for exp in matches if exp.baseline == baseline]
        if len(on_baseline) == 1:
            return on_baseline[0]
        refs = "\n".join(f"\t{exp.ref}" for exp in matches)
        raise ExperimentError(
            f"'{name}' names {len(matches)} experiments; name one by its full ref:\n{refs}"
        )
    if not matches:
        raise ExperimentError(f"no experiment named '{name}'; list them with 'llmpipe exp list -A'")
    return matches[0]


def name_for_overrides(overrides: list[str]) -> str:
    """An experiment name made of a sweep job's overrides (`train.lr=0.1,seed=2`), with
    the characters git refuses in a ref name replaced by `_`."""
    joined = ",".join(overrides) or "defaults"
    cleaned = re.sub(r"[\x00-\x20~^:?*\[\\/\x7f]|\.\.|@\{", "_", joined).strip(".-")
    if cleaned.endswith(".lock"):
        cleaned += "_"
    return cleaned or "defaults"


def random_name(taken: set[str]) -> str:
    """A fresh `adjective-noun` name (dvc names experiments alike), not in `taken`."""
    # A generator of its own: stage code often seeds the global one.
    generator = random.Random()  # noqa: S311 - names, not secrets
    for _ in range(1000):
        name = f"{generator.choice(_ADJECTIVES)}-{generator.choice(_NOUNS)}"
        if name not in taken:
            return name
    return f"exp-{generator.getrandbits(32):08x}"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ADJECTIVES = _words(
    "agile amber ample azure balmy bold brave brisk calm candid clear clever cosmic "
    "crisp daring deft eager early easy epic fair fast fiery fleet fluid frank fresh "
    "gentle giddy glad grand green hardy hazel humble jolly keen kind lively lucid lucky "
    "lunar mellow merry mighty misty modest noble nimble oaken olive plush polar prime "
    "proud quick quiet rapid ready regal rosy royal rustic sandy sharp shiny silky sleek "
    "smart snowy solar solid spry steady stoic sunny swift tidal tidy timid upbeat urban "
    "vivid warm wavy wise witty young zesty"
)
_NOUNS = _words(
    "acorn alder aspen badger basil birch bison brook cedar cliff cloud comet coral "
    "crane delta dune eagle ember falcon fern finch fjord flint fox gecko glade grove "
    "gull hare hawk heron iris ivy jade kelp kiwi lark lemur lily lotus lynx maple marsh "
    "mesa mink moose moss newt oak orca otter owl panda pearl pine plum pond quail raven "
    "reef ridge robin sage seal shore slate sparrow spruce stone swan thorn tiger trout "
    "tulip vale wasp willow wolf wren yak yew zebra"
)


def remote_experiments(root: str, remote: str) -> list[ExpRef]:
    """The experiments a git remote holds (`git ls-remote`), sorted by ref name."""
    output = scm.run_git(root, "ls-remote", "--refs", remote, f"{NAMESPACE}/*")
    found = []
    for line in output.splitlines():
        sha, _, ref = line.partition("\t")
        exp = ExpRef.parse(ref, sha)
        if exp is not None:
            found.append(exp)
    return sorted(found, key=lambda exp: exp.ref)


def commit_of(root: str, rev: str, baseline: str | None) -> str:
    """The commit `rev` names: a git revision, else an experiment (dvc's resolve order)."""
    from ...errors import RevisionError
    from ...revfs import GitObjects

    with GitObjects(scm.git_root(root) or root) as objects:
        sha = objects.commit_of(rev)
        if sha is not None:
            return sha
        try:
            return resolve_commit(root, rev, baseline)
        except ExperimentError:
            raise RevisionError(
                f"'{rev}' is neither a git revision nor an experiment; list experiments with"
                " 'llmpipe exp list -A' and revisions with 'git branch -a' and 'git tag'"
            ) from None


def resolve_commit(root: str, name: str, baseline: str | None) -> str:
    return find(root, name, baseline).commit
