"""SSH checks the server's host key as OpenSSH does: a host it does not know is refused.

sshfs (and so dvc) accepts any host key unless told otherwise; whoever sits between
the client and the server could then read and replace the data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmpipe.errors import StorageAuthError
from llmpipe.storage import Location, open_backend


@pytest.fixture
def server(openssh, tmp_path: Path):  # noqa: ANN001, ANN201
    root = tmp_path / "sshstore"
    root.mkdir()
    return openssh.site(root)


def _open(site, **options: str):  # noqa: ANN001, ANN202
    settings = {k: v for k, v in site.options.items() if k != "known_hosts"} | options
    return open_backend(Location(site.url, settings, label=f"test store {site.url}"))


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user with no ~/.ssh/known_hosts (and no system-wide file on this machine)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    if Path("/etc/ssh/ssh_known_hosts").exists():
        pytest.skip("this machine has a system-wide known_hosts file")
    return home


def test_an_unknown_host_is_refused_without_a_known_hosts_file(server, empty_home) -> None:  # noqa: ANN001
    with pytest.raises(StorageAuthError, match="host key is not known.*ssh"):
        _open(server).put_bytes("probe", b"x")
    assert server.listing() == []  # nothing was written


def test_a_host_missing_from_the_users_known_hosts_is_refused(server, empty_home) -> None:  # noqa: ANN001
    (empty_home / ".ssh").mkdir()
    (empty_home / ".ssh" / "known_hosts").write_text("[otherhost]:22 ssh-ed25519 AAAA\n")
    with pytest.raises(StorageAuthError, match="host key is not known"):
        _open(server).put_bytes("probe", b"x")


def test_the_users_known_hosts_is_used_by_default(server, empty_home) -> None:  # noqa: ANN001
    (empty_home / ".ssh").mkdir()
    known = Path(server.options["known_hosts"]).read_text()
    (empty_home / ".ssh" / "known_hosts").write_text(known)
    backend = _open(server)
    backend.put_bytes("probe", b"x")
    assert backend.get_bytes("probe") == b"x"


def test_known_hosts_none_turns_the_check_off(server, empty_home) -> None:  # noqa: ANN001
    backend = _open(server, known_hosts="none")
    backend.put_bytes("probe", b"x")
    assert backend.get_bytes("probe") == b"x"
