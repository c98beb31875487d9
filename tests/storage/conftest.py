"""Storage backends under test: a folder, fsspec's memory, S3 (moto) and SSH (OpenSSH).

The servers are the remote tests' own (tests/remote/conftest.py); each `Place`
pairs a `RemoteSite` (direct access to what is stored, the server switch) with
the `Location` that opens it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from llmpipe.storage import Location
from tests.remote import conftest as remote_sites
from tests.remote.conftest import RemoteSite, local_site

moto_s3 = remote_sites.moto_s3
openssh = remote_sites.openssh

_counter = itertools.count()


@dataclass
class Place:
    site: RemoteSite
    location: Location

    def with_options(self, **options: str) -> Location:
        return replace(self.location, options={**self.location.options, **options})


def memory_site(name: str) -> RemoteSite:
    import fsspec

    fs = fsspec.filesystem("memory")
    root = f"/{name}"
    return RemoteSite(
        kind="memory",
        url=f"memory://{name}",
        read=lambda key: fs.cat_file(f"{root}/{key}"),
        write=lambda key, data: fs.pipe_file(f"{root}/{key}", data),
        delete=lambda key: fs.rm_file(f"{root}/{key}"),
        listing=lambda: sorted(p[len(root) + 1 :] for p in fs.find(root)),
    )


@pytest.fixture(params=["local", "memory", "s3", "ssh"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    """Each backend in turn, at a fresh empty location."""
    kind = request.param
    if kind == "memory":
        name = f"storage-test-{next(_counter)}"
        yield _place(memory_site(name))
        import fsspec

        fs = fsspec.filesystem("memory")
        if fs.exists(f"/{name}"):
            fs.rm(f"/{name}", recursive=True)
        return
    if kind == "local":
        (tmp_path / "store").mkdir()
        site = local_site(tmp_path / "store")
    elif kind == "s3":
        site = request.getfixturevalue("moto_s3").site(f"storage{next(_counter)}")
    else:
        root = tmp_path / "sshstore"
        root.mkdir()
        site = request.getfixturevalue("openssh").site(root)
    yield _place(site)


def _place(site: RemoteSite) -> Place:
    options = {**site.options, **site.secret_options}
    return Place(site, Location(site.url, options, label=f"test store {site.url}"))
