"""Small filesystem helpers shared by every module that writes trusted files."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol, TypeVar


def atomic_write_bytes(
    path: str, data: bytes, mode: int | None = None, *, durable: bool = True
) -> None:
    """Write `data` to `path` so that readers see the old or the new file, never a mix.

    The bytes go to a temporary file in the same directory, are fsynced (unless
    `durable` is False, for files that are only an optimization and verified
    when read), and the file is renamed over `path`. A crash leaves at most a
    stray `.tmp` file. The file gets `mode`, by default the one a plain
    `open(path, "w")` leaves (see `write_mode`).
    """
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(fd, write_mode(path, mode))
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        discard(tmp)
        raise
    publish(tmp, path)


def publish(tmp: str, path: str, mode: int | None = None) -> None:
    """Give the complete file `tmp` its `mode` and rename it over `path`.

    Readers see the old file or the new one; on failure `tmp` is removed.
    """
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        discard(tmp)
        raise


def discard(tmp: str) -> None:
    """Remove a temporary file that will not be used (gone already is fine)."""
    with contextlib.suppress(OSError):
        os.unlink(tmp)


@contextlib.contextmanager
def atomic_path(path: str, *, durable: bool = True) -> Iterator[str]:
    """A temporary path beside `path` to write; on success it replaces `path` in one rename.

    For writers that want a file name (pyarrow, archives, tools). With `durable`
    the written file is fsynced before the rename; on an exception the temporary
    is removed and `path` is left as it was. The temporary starts with the mode
    `write_mode(path)` gives; a writer that sets its own (a copy keeping its
    source's) keeps it.
    """
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        os.fchmod(fd, write_mode(path))
    finally:
        os.close(fd)
    try:
        yield tmp
        if durable:
            _fsync_file(tmp)
    except BaseException:
        discard(tmp)
        raise
    publish(tmp, path)


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(path: str, *, shared: bool = False, wait: bool = True) -> Iterator[None]:
    """Hold an flock on the lock file `path` (created, with its folder) for the block.

    Exclusive unless `shared`. The lock goes with the process: a crash releases it.
    Without `wait`, a lock held elsewhere raises BlockingIOError at once.
    """
    import fcntl

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        kind = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        fcntl.flock(fd, kind if wait else kind | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)


def write_mode(path: str, mode: int | None = None) -> int:
    """`mode` if given, else the mode a plain `open(path, "w")` leaves: the existing
    file's, or the umask's for a new one.

    Temporary files (mkstemp) are private (0600); files that others read (dvc.lock,
    `.dvc` files, a deploy's CURRENT, a plots page) must not stay so.
    """
    if mode is not None:
        return mode
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return new_file_mode()


def new_file_mode(permissions: int = 0o666) -> int:
    """The mode `open()` gives a new file: `permissions` less the process umask.

    For atomic writers (whose temporary file is private) that must leave the
    mode a plain write would. Read from /proc where it is (changing the umask to
    read it would race other threads creating files).
    """
    return permissions & ~_umask()


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_SMALL_FILE = 1 << 20


def process_umask() -> int:
    """The process umask (read from /proc where it can be: see `new_file_mode`)."""
    return _umask()


def copy_new(src: str, dst: str, *, keep_mode: bool = False, umask: int | None = None) -> int:
    """Copy `src` into the new path `dst`; return its size.

    `dst` is created exclusively (an existing path, or a symlink someone put there,
    is an error rather than something written through) with the mode the umask
    gives, or the source's with `keep_mode`. A failed copy removes `dst`. It is
    the copy under every cache, workspace and folder-remote transfer, so it makes
    as few system calls as it can: a small file is one read and one write, and with
    `keep_mode` and the process `umask` known, no chmod where the umask keeps the mode.
    """
    src_fd = os.open(src, os.O_RDONLY)
    try:
        st = os.fstat(src_fd)
        data = read_exactly(src_fd, st.st_size) if st.st_size < _SMALL_FILE else None
        mode = st.st_mode & 0o7777 if keep_mode else 0o666
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            # open() applies the umask (and may drop set-id bits): chmod where it would.
            if keep_mode and (umask is None or mode & (umask | 0o7000)):
                os.fchmod(fd, mode)
            if data is None:
                _copy_large(src_fd, fd, st.st_size)
            else:
                write_all(fd, data)
        except BaseException:
            os.close(fd)
            discard(dst)
            raise
        os.close(fd)
    finally:
        os.close(src_fd)
    return st.st_size


def read_exactly(fd: int, size: int) -> bytes:
    """`size` bytes from `fd` (fewer only at end of file), in as few reads as the OS allows.

    Plain `os` calls: `open()` adds an fstat, an lseek and an end-of-file read per file.
    """
    data = os.read(fd, size)
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            break
        data += more
    return data


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy_large(src_fd: int, fd: int, size: int) -> None:
    """Copy in the kernel (sendfile: no user-space buffer), else through a buffer."""
    offset = 0
    try:
        while offset < size:
            sent = os.sendfile(fd, src_fd, offset, min(size - offset, 1 << 30))
            if sent == 0:
                break
            offset += sent
    except OSError as exc:
        if offset or exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise
        while chunk := os.read(src_fd, 1 << 20):
            write_all(fd, chunk)


def atomic_write_text(
    path: str, text: str, mode: int | None = None, *, durable: bool = True
) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode, durable=durable)


def remove(path: str) -> None:
    """Remove a file, symlink or directory tree; a missing path is fine."""
    import shutil

    if os.path.islink(path) or os.path.isfile(path):
        _unlink_even_readonly(path)
    elif os.path.isdir(path):
        shutil.rmtree(path, onerror=_make_writable_and_retry)


def _unlink_even_readonly(path: str) -> None:
    try:
        os.unlink(path)
    except PermissionError:
        os.chmod(path, 0o644)
        os.unlink(path)


def _make_writable_and_retry(func, path, _exc_info) -> None:  # noqa: ANN001
    os.chmod(os.path.dirname(path), 0o755)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o755)
    func(path)


class StatLike(Protocol):
    """The fields of a file's stat that llmpipe reads: `os.stat_result` or `FileStat`."""

    st_mode: int
    st_ino: int
    st_size: int
    st_mtime_ns: int


class FileStat:
    """The four fields of a walked file's stat that llmpipe reads, and no more.

    A walk keeps one per file (a directory output's files, hashed and recorded in
    the state together); an `os.stat_result` holds some twenty fields, ~600 bytes
    with their numbers, which for a million files is most of a GB.
    """

    __slots__ = ("st_mode", "st_ino", "st_size", "st_mtime_ns")

    def __init__(self, st: os.stat_result) -> None:
        self.st_mode = _MODES.setdefault(st.st_mode, st.st_mode)  # a few values, shared
        self.st_ino = st.st_ino
        self.st_size = st.st_size
        self.st_mtime_ns = st.st_mtime_ns

    def __repr__(self) -> str:
        return f"FileStat(mode={self.st_mode:o}, ino={self.st_ino}, size={self.st_size})"


_MODES: dict[int, int] = {}


def walk_files(
    root: str,
    prune: Callable[[str, list[str], list[str]], tuple[list[str], list[str]]] | None = None,
) -> Iterator[tuple[str, FileStat]]:
    """Yield (relative posix path, stat) for every regular file under `root`.

    Uses scandir so that the stat comes from the directory read where the OS
    allows it; symlinks to files are followed, directory symlinks are not.
    `prune(folder, dirs, files)` (folder relative to `root`, "" for itself)
    returns the names the walk keeps: `.dvcignore` rules (llmpipe.dvcignore).
    """
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        folder = os.path.join(root, rel_dir) if rel_dir else root
        dirs, files = _scan(folder, rel_dir, prune)
        stack.extend(f"{rel_dir}/{name}" if rel_dir else name for name in dirs)
        yield from files


def _scan(
    folder: str,
    rel_dir: str,
    prune: Callable[[str, list[str], list[str]], tuple[list[str], list[str]]] | None,
) -> tuple[list[str], list[tuple[str, FileStat]]]:
    """One folder's subfolder names and its files' (relpath, stat), those `prune` keeps.

    Where the OS allows, the folder is read through a descriptor and each file is
    stat'ed relative to it: the kernel resolves one name per file, not the whole path.
    """
    fd = os.open(folder, _DIR_FLAGS) if _SCAN_FD else None
    try:
        dirs: list[str] = []
        entries: dict[str, os.DirEntry[str]] = {}
        with os.scandir(folder if fd is None else fd) as listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False):
                    dirs.append(entry.name)
                elif entry.is_file():
                    entries[entry.name] = entry
        if prune is not None:
            dirs, kept = prune(rel_dir, dirs, list(entries))
            entries = {name: entries[name] for name in kept}
        prefix = f"{rel_dir}/" if rel_dir else ""
        return dirs, [(prefix + name, FileStat(entry.stat())) for name, entry in entries.items()]
    finally:
        if fd is not None:
            os.close(fd)


_SCAN_FD = os.scandir in os.supports_fd
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


K = TypeVar("K")

# Asking for a file costs a stat (path walk and all); a listed entry costs far less.
# A folder is listed when it holds at most this many entries per file asked for.
_ENTRIES_PER_STAT = 8
# A directory's st_size grows with its entries: ~40 bytes each on ext4, 20 on tmpfs,
# twice the name on btrfs. Filesystems that report 0 give no estimate: names are stat-ed.
_BYTES_PER_ENTRY = 32


def present_in_folders(folders: Mapping[str, Mapping[str, K]]) -> set[K]:
    """The keys whose name (`{folder: {name: key}}`) names a regular file in its folder
    (symlinks followed, as `os.path.isfile`).

    Each folder is stat-ed once; a missing one answers for all its names. A folder
    whose size shows few entries per name asked is read in one listing instead of a
    stat per name (a push of 10,000 objects: 512 calls instead of 20,000).
    """
    found: set[K] = set()
    for folder, wanted in folders.items():
        try:
            size = os.stat(folder).st_size
        except (FileNotFoundError, NotADirectoryError):
            continue
        listed = 0 < size // _BYTES_PER_ENTRY <= len(wanted) * _ENTRIES_PER_STAT
        files = _file_names(folder) if listed else None
        if files is not None:
            found.update(map(wanted.__getitem__, files.intersection(wanted)))
        else:
            prefix = folder + os.sep
            found.update(key for name, key in wanted.items() if os.path.isfile(prefix + name))
    return found


def _file_names(folder: str) -> set[str] | None:
    """Names of the regular files in `folder` (symlinks followed); None when it cannot
    be listed (a folder one may enter but not read: its files are then stat-ed)."""
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError:
        return None
    try:
        return {entry.name for entry in entries if entry.is_file()}
    except OSError:  # a symlink whose target cannot be stat-ed: entry by entry
        return {entry.name for entry in entries if _is_file(entry)}


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:  # as os.path.isfile says
        return False


def is_inside(path: str, root: str) -> bool:
    """True when `path` (absolute, normalized) is `root` or below it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def append_durably(path: str, data: bytes) -> None:
    """Append complete lines (`data` ends with a newline) to a log file, fsynced.

    A crash mid-append leaves a last line without its newline; such a line was
    never committed, so it is cut before anything is appended after it. Callers
    serialize appends themselves (a file lock).
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        _cut_partial_line(fd)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _cut_partial_line(fd: int) -> None:
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    start = max(0, size - (1 << 20))
    tail = os.pread(fd, size - start, start)
    cut = tail.rfind(b"\n")
    os.ftruncate(fd, start + cut + 1 if cut >= 0 else start)
