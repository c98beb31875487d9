"""`import-url` and its `update`: data from a URL or an outside path, tracked by a frozen
`.dvc` file as `dvc import-url` writes it.

The dep records the URL as given (a local path inside the project relative to the
`.dvc` file's folder; `remote://NAME/path` read through remote NAME's settings) with
what dvc records for it (`storage.urldata`); the output, the downloaded content. The
data is downloaded into `.dvc/tmp`, hashed, and moved into the cache, then checked
out; with `to_remote` it goes from the scratch folder to the remote instead, never
into the cache or the workspace. `update` re-downloads only when the source's
fingerprint changed (a stat and a hash through the state DB for a local path, one
request for S3 and HTTP; SSH has no fingerprint but its bytes, so it downloads).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..cache.build import Manifest, build
from ..cache.checkout import checkout, in_cache
from ..cache.odb import ObjectDB
from ..cache.parallel import map_in_threads
from ..cache.state import NoState
from ..config.schema import remote_option_problem
from ..errors import LlmpipeError, RemoteError, SpecError
from ..fsutil import atomic_write_text
from ..gitignore import ignore_output
from ..pathguard import PathGuard
from ..run.repolock import repo_lock
from ..spec.imports import ImportSpec, url_import_body
from ..stage import HashInfo, is_url
from ..storage.urldata import UrlData
from ..yamlio import dump_yaml, load_for_update, load_yaml
from .audit import Outcome, Targets, audited
from .stage_add import merge_into

if TYPE_CHECKING:
    from ..project import Project

REMOTE_SCHEME = "remote://"


@dataclass(frozen=True)
class Fetched:
    """Content downloaded into a scratch folder and hashed, with its dep's record."""

    path: str
    info: HashInfo
    manifest: Manifest | None
    dep: HashInfo


# fs_config keys that tune dvc's own work, not the connection: never given to a backend.
_NOT_CONNECTION = frozenset(
    {"jobs", "checksum_jobs", "verify", "worktree", "no_traverse", "version_aware"}
    | {"type", "protected", "shared", "slow_link_warning"}
)


@dataclass(frozen=True)
class UrlFlags:
    """`import-url`'s flags: what to do beyond recording the URL (dvc's, same names)."""

    no_exec: bool = False  # record the URL only, no hashes, nothing downloaded
    no_download: bool = False  # record the source's hash, download nothing
    to_remote: bool = False
    remote: str | None = None
    force: bool = False
    jobs: int | None = None  # parallel downloads of a folder's files
    fs_config: dict[str, str] | None = None  # settings for the URL's storage, recorded
    version_aware: bool = False


def check_flags(flags: UrlFlags) -> None:
    """dvc's refusals of flag combinations, and llmpipe's of what it cannot do yet."""
    if flags.no_exec and flags.no_download:
        raise SpecError("--no-exec and --no-download cannot be used together")
    if flags.to_remote and (flags.no_exec or flags.no_download or flags.version_aware):
        raise SpecError(
            "--no-exec/--no-download/--version-aware cannot be combined with --to-remote"
        )
    if flags.remote and not flags.to_remote:
        raise SpecError("--remote can't be used without --to-remote")


def _recorded_settings(flags: UrlFlags) -> dict[str, Any] | None:
    """The `fs_config` dvc records: the `--fs-config` settings, then `version_aware`."""
    settings: dict[str, Any] = dict(flags.fs_config or {})
    if flags.version_aware:
        settings["version_aware"] = True
    return settings or None


def recorded_url(project: Project, url: str, wdir: str) -> str:
    """The dep path dvc writes: a local path inside the project relative to `wdir`."""
    if is_url(url) or not os.path.exists(url):
        return url
    absolute = os.path.abspath(url)
    if absolute != project.root and not absolute.startswith(project.root + os.sep):
        return url
    return os.path.relpath(absolute, os.path.join(project.root, wdir)).replace(os.sep, "/")


def open_url(
    project: Project, url: str, wdir: str, fs_config: dict[str, Any] | None = None
) -> UrlData:
    """The data a recorded dep path names (relative paths from the `.dvc` file's folder),
    read with the settings `fs_config` gives (over a `remote://` URL's remote's).

    SpecError for a setting dvc refuses for that kind of storage, and for
    `version_aware` on cloud storage, which llmpipe cannot honour yet.
    """
    options: dict[str, str] = {}
    if url.startswith(REMOTE_SCHEME):
        name, _, path = url[len(REMOTE_SCHEME) :].partition("/")
        remote = project.config.remote(name)
        options = dict(remote.options)
        where = remote.url.rstrip("/") + "/" + path.strip("/")
    elif is_url(url) or os.path.isabs(url):
        where = url
    else:
        where = os.path.normpath(os.path.join(project.root, wdir, url))
    settings = {key: _as_text(value) for key, value in (fs_config or {}).items()}
    _check_fs_config(where, settings)
    options.update((k, v) for k, v in settings.items() if k not in _NOT_CONNECTION)
    return UrlData(where, options)


def _as_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _check_fs_config(url: str, settings: dict[str, str]) -> None:
    for key, value in settings.items():
        problem = remote_option_problem(url, key, value)
        if problem is not None:
            raise SpecError(f"fs_config: {problem}")
    # dvc reads object versions on these; llmpipe cannot yet, so it refuses rather than
    # record a version-aware import it would then read unversioned. Elsewhere dvc, too,
    # only records the setting.
    versioned = urlsplit(url).scheme in ("s3", "gs", "gcs", "azure", "az")
    if versioned and settings.get("version_aware", "false").lower() == "true":
        raise SpecError(
            f"version-aware imports ({urlsplit(url).scheme}:// object versions) are not"
            " supported by llmpipe yet; import without --version-aware, or with dvc"
        )


def missing(url: str) -> LlmpipeError:
    return SpecError(
        f"failed to import {url}. You could also try downloading it manually, and adding"
        f" it with `llmpipe add`. - dependency '{url}' does not exist"
    )


def fetch(
    project: Project, data: UrlData, url: str, scratch: str, jobs: int | None = None
) -> Fetched:
    """Download `data` into the folder `scratch` (a folder's files on `jobs` threads) and
    hash it."""
    try:
        files = data.files()
    except FileNotFoundError:
        raise missing(url) from None
    dest = os.path.join(scratch, "data")
    if files == [""]:
        data.download("", dest)
    else:
        for folder in sorted({posixpath.dirname(relpath) for relpath in files}):
            os.makedirs(os.path.join(dest, *folder.split("/")), exist_ok=True)

        def download(relpath: str) -> None:
            data.download(relpath, os.path.join(dest, *relpath.split("/")))

        map_in_threads(download, files, jobs)
    info, manifest = build(dest, project.odb.hash_name, NoState())
    return Fetched(dest, info, manifest, data.dep_hash(files, info))


def current_dep(project: Project, data: UrlData) -> HashInfo | None:
    """The source's fingerprint without downloading it; None when only the bytes tell."""
    local = data.location.local_path
    if local is not None:
        try:
            return build(local, project.odb.hash_name, project.state)[0]
        except FileNotFoundError:
            return None
    if not data.fingerprinted:
        return None
    try:
        return data.dep_hash(data.files(), None)
    except FileNotFoundError:
        return None


def store(odb: ObjectDB, fetched: Fetched) -> list[str]:
    """Move the fetched files into `odb` as objects (the `.dir` last); the objects."""
    if fetched.manifest is None:
        odb.add_file(fetched.path, fetched.info.value, move=True)
        return [fetched.info.value]
    for relpath, value, _size, _exec in fetched.manifest.entries:
        odb.add_file(os.path.join(fetched.path, *relpath.split("/")), value, move=True)
    odb.add_bytes(fetched.info.value, fetched.manifest.dir_bytes(odb.hash_name))
    return [e[1] for e in fetched.manifest.entries] + [fetched.info.value]


def place(project: Project, fetched: Fetched, target: str, to_remote: bool,
          remote: str | None) -> None:  # fmt: skip
    """Put fetched content in the cache and the workspace, or (`to_remote`) on the remote."""
    if to_remote:
        from ..remote.direct import push_objects

        folder = os.path.join(os.path.dirname(fetched.path), "odb")
        scratch_odb = ObjectDB(folder, project.odb.hash_name)
        result = push_objects(project, scratch_odb, store(scratch_odb, fetched), remote)
        if result.failed:
            raise RemoteError(f"could not send '{target}' to the remote: {result.failed[0]}")
        return
    store(project.odb, fetched)
    restore(project, fetched.info, target)


def restore(project: Project, info: HashInfo, target: str) -> None:
    absolute = os.path.join(project.root, target)
    guard = PathGuard(project.root)
    checkout(project.odb, info, absolute, project.config.link_types, project.state, guard=guard)
    project.links.record([target])


def scratch_folder(project: Project) -> str:
    os.makedirs(project.tmp_dir, exist_ok=True)
    return tempfile.mkdtemp(prefix="import-url-", dir=project.tmp_dir)


def write_dvcfile(project: Project, dvcfile: str, url: str, hashes: tuple[HashInfo | None,
                  HashInfo | None], target: str, fs_config: dict[str, Any] | None = None,
                  md5: str | None = None) -> None:  # fmt: skip
    """Write the `.dvc` file (in place: see `write_in_place`) with the (dep, output)
    `hashes` (None: not known)."""
    dep, out = hashes
    body = url_import_body(url, dep, posixpath.basename(target), out, md5, fs_config)
    write_in_place(project, dvcfile, body)
    ignore_output(project.root, target)


def write_in_place(project: Project, dvcfile: str, body: dict[str, Any]) -> bool:
    """Write `body` as the `.dvc` file `dvcfile`, keeping what is there in place as dvc
    does when it rewrites a stage it loaded (keys keep their places, new ones go last,
    comments stay); whether the text changed."""
    path = os.path.join(project.root, dvcfile)
    try:
        with open(path, encoding="utf-8") as handle:
            before: str | None = handle.read()
    except FileNotFoundError:
        before = None
    document = load_for_update(before) if before is not None else None
    if isinstance(document, dict):
        merge_into(body, document)
        body = document
    text = dump_yaml(body)
    if text != before:
        atomic_write_text(path, text)
    return text != before


def recorded_hashes(project: Project, dvcfile: str) -> tuple[HashInfo | None, HashInfo | None, Any]:
    """The dep's and the output's recorded hashes, and the stage md5, of an import-url."""
    with open(os.path.join(project.root, dvcfile), encoding="utf-8") as handle:
        data = load_yaml(handle.read(), dvcfile)
    dep, out = data["deps"][0], data["outs"][0]
    return HashInfo.from_lock_dict(dep), HashInfo.from_lock_dict(out), data.get("md5")


def same(a: HashInfo | None, b: HashInfo | None) -> bool:
    return a is not None and b is not None and (a.name, a.value) == (b.name, b.value)


def update_url(project: Project, dvcfile: str, spec: ImportSpec, to_remote: bool,
               remote: str | None, jobs: int | None = None,
               ) -> tuple[str, HashInfo | None, bool]:  # fmt: skip
    """Bring one import-url up to date: (target, output hash, whether anything changed)."""
    url, fs_config = spec.dep["path"], spec.dep.get("fs_config")
    wdir = posixpath.dirname(dvcfile)
    target = posixpath.join(wdir, spec.out_path)
    old_dep, old_out, old_md5 = recorded_hashes(project, dvcfile)
    with open_url(project, url, wdir, fs_config) as data:
        if same(current_dep(project, data), old_dep) and old_out is not None:
            if to_remote:
                return target, old_out, False
            if in_cache(project.odb, old_out):
                restore(project, old_out, target)
                return target, old_out, False
        scratch = scratch_folder(project)
        try:
            fetched = fetch(project, data, url, scratch, jobs)
            place(project, fetched, target, to_remote, remote)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    unchanged = same(fetched.dep, old_dep) and same(fetched.info, old_out)
    # dvc leaves the stage md5 as it was when it updates on the remote.
    hashes = (fetched.dep, fetched.info)
    write_dvcfile(project, dvcfile, url, hashes, target, fs_config, old_md5 if to_remote else None)
    return target, fetched.info, not unchanged


def fetch_recorded(project: Project, dvcfile: str, spec: ImportSpec, dep: HashInfo) -> HashInfo:
    url, wdir = spec.dep["path"], posixpath.dirname(dvcfile)
    scratch = scratch_folder(project)
    try:
        with open_url(project, url, wdir, spec.dep.get("fs_config")) as data:
            fetched = fetch(project, data, url, scratch)
        if not same(fetched.dep, dep):
            raise SpecError(
                f"'{url}' no longer holds what '{dvcfile}' records (it changed since the"
                f" import); run 'llmpipe update {dvcfile}' to import what it holds now"
            )
        store(project.odb, fetched)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return fetched.info


@dataclass(frozen=True)
class Imported:
    """An output imported or updated (`import`, `import-url`, `update`): where, from which
    commit (imports from projects), with which hash (None: not downloaded, `--no-exec`)."""

    path: str  # repository-relative
    dvcfile: str
    hash_info: HashInfo | None
    rev_lock: str | None = None
    changed: bool = True


def describe_imported(done: list[Imported]) -> tuple[Targets, Outcome]:
    return [
        {"path": i.path, "hash": i.hash_info.value if i.hash_info else None} for i in done
    ], Outcome()


@audited("import-url", describe=describe_imported)
def import_url(
    project: Project, url: str, out: str | None = None, flags: UrlFlags = UrlFlags()
) -> list[Imported]:
    """Import the file or folder at `url` into this project, tracked by a frozen `.dvc` file.

    SpecError for refused flags and settings, a `.dvc` file or a path in the way, and a
    source that does not exist; the storage errors of a source that cannot be reached.
    """
    check_flags(flags)
    target = _target(project, url, out)
    dvcfile = target + ".dvc"
    wdir = posixpath.dirname(dvcfile)
    recorded = recorded_url(project, url, wdir)
    fs_config = _recorded_settings(flags)
    with repo_lock(project.tmp_dir):
        if not flags.force:
            _refuse_existing(project, url, target, dvcfile, flags.to_remote)
        with open_url(project, recorded, wdir, fs_config) as data:
            if flags.no_exec:
                write_dvcfile(project, dvcfile, recorded, (None, None), target, fs_config)
                return [Imported(target, dvcfile, None)]
            if flags.no_download:
                dep = _source_hash(project, data, url, flags.jobs)
                write_dvcfile(project, dvcfile, recorded, (dep, None), target, fs_config)
                return [Imported(target, dvcfile, None)]
            if flags.to_remote:
                project.config.remote(flags.remote)  # an unknown remote fails first
            scratch = scratch_folder(project)
            try:
                fetched = fetch(project, data, url, scratch, flags.jobs)
                place(project, fetched, target, flags.to_remote, flags.remote)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        hashes = (fetched.dep, fetched.info)
        write_dvcfile(project, dvcfile, recorded, hashes, target, fs_config)
        return [Imported(target, dvcfile, fetched.info)]


def _source_hash(project: Project, data: UrlData, url: str, jobs: int | None) -> HashInfo:
    """What dvc records for the source (`--no-download`), without keeping its data: its
    fingerprint, or (SSH, which has none but its bytes) the hash of a copy thrown away."""
    dep = current_dep(project, data)
    if dep is not None:
        return dep
    scratch = scratch_folder(project)
    try:
        return fetch(project, data, url, scratch, jobs).dep
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _target(project: Project, url: str, out: str | None) -> str:
    name = posixpath.basename(url.split("?")[0].rstrip("/")) if is_url(url) else None
    name = name or os.path.basename(os.path.normpath(url))
    path = out if out is not None else name
    if out is not None and os.path.isdir(out):
        path = os.path.join(out, name)
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, project.root).replace(os.sep, "/")
    if relative == "." or relative.startswith("../"):
        raise SpecError(f"'{path}' is outside the project at '{project.root}'")
    return relative


def _refuse_existing(
    project: Project, url: str, target: str, dvcfile: str, to_remote: bool
) -> None:
    failed = f"failed to import {url} - "
    if not to_remote and os.path.lexists(os.path.join(project.root, target)):
        raise SpecError(f"{failed}'{target}' exists already; pass --force to replace it")
    if os.path.exists(os.path.join(project.root, dvcfile)):
        raise SpecError(f"{failed}'{dvcfile}' exists already; pass --force to replace it,"
                        f" or 'llmpipe update {dvcfile}' to update it")  # fmt: skip
