"""Unprotect: make workspace files linked to the cache editable, as `dvc unprotect` does.

A symlink or a hard link into the cache would let an edit change the cached object
itself, so each becomes a copy of its own (copied beside it, then renamed over it:
a reader never sees half a file). Every file then gets the mode a new file gets,
as dvc leaves it. Copies (`cache.type copy`) are left as they are.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from ..errors import TargetError
from ..fsutil import new_file_mode, walk_files


def unprotect(path: str) -> list[str]:
    """Unprotect the file or every file below the folder `path`; the files copied.

    TargetError when `path` does not exist.
    """
    if not os.path.exists(path):
        raise TargetError(f"can't unprotect non-existing data '{path}'")
    if os.path.isdir(path):
        files = [os.path.join(path, relpath) for relpath, _ in walk_files(path)]
    else:
        files = [path]
    mode = new_file_mode()
    return [name for name in files if _unprotect_file(name, mode)]


def _unprotect_file(path: str, mode: int) -> bool:
    linked = os.path.islink(path) or os.stat(path).st_nlink > 1
    if linked:
        fd, tmp = tempfile.mkstemp(prefix=".unprotect-", dir=os.path.dirname(path))
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    os.chmod(path, mode)
    return linked
