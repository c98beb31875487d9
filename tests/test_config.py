"""The one config reader (as dvc reads `.dvc/config`) and the comment-keeping writer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmpipe.config import ConfigDocument, dialect, load_config, set_value
from llmpipe.errors import ConfigError, RemoteConfigError
from llmpipe.fsutil import new_file_mode


def make_dirs(tmp_path: Path) -> tuple[Path, Path]:
    dvc_dir, llmpipe_dir = tmp_path / ".dvc", tmp_path / ".llmpipe"
    dvc_dir.mkdir()
    llmpipe_dir.mkdir()
    return dvc_dir, llmpipe_dir


CONFIG = """\
[Core]
    Remote = origin
[cache]
    type = reflink,copy
    dir = ./c/../cache2
['remote "Origin"']
    url = ../store
    prefix = bucket
    path = %(prefix)s/x
['remote "home"']
    url = ~/store
"""


def test_reads_what_dvc_reads(tmp_path: Path) -> None:
    dvc_config = pytest.importorskip("dvc.config")
    dvc_dir, llmpipe_dir = make_dirs(tmp_path)
    (dvc_dir / "config").write_text(CONFIG)
    theirs = dvc_config.Config.load_file(str(dvc_dir / "config"))
    ours = load_config(str(dvc_dir), str(llmpipe_dir))
    assert ours.default_remote == theirs["core"]["remote"] == "origin"
    assert ours.get("cache", "type") == ",".join(theirs["cache"]["type"])
    assert ours.link_types == ("reflink", "copy")
    origin = ours.remote("origin")
    assert origin.options["path"] == theirs["remote"]["origin"]["path"] == "bucket/x"
    # Paths are resolved against the config file's folder, `~` expanded, as dvc does.
    resolved = dvc_config.Config._load_paths(theirs, str(dvc_dir / "config"))
    assert origin.url == resolved["remote"]["origin"]["url"] == str(tmp_path / "store")
    assert ours.cache_dir == resolved["cache"]["dir"] == str(dvc_dir / "cache2")
    assert ours.remote("home").url == os.path.expanduser("~/store")


QUOTED = """\
[cache]
    type = "reflink,hardlink"
[core]
    remote = "store"
['remote "store"']
    url = "/srv/store"
    jobs = '4'
"""


def test_quoted_values_are_read_unquoted_as_dvc_reads_them(tmp_path: Path) -> None:
    """configobj strips the quotes; `type = "reflink,hardlink"` is two link types."""
    dvc_config = pytest.importorskip("dvc.config")
    dvc_dir, llmpipe_dir = make_dirs(tmp_path)
    (dvc_dir / "config").write_text(QUOTED)
    theirs = dvc_config.Config.load_file(str(dvc_dir / "config"))
    ours = load_config(str(dvc_dir), str(llmpipe_dir))
    assert ours.get("cache", "type") == theirs["cache"]["type"] == "reflink,hardlink"
    assert ours.link_types == ("reflink", "hardlink")
    assert ours.default_remote == theirs["core"]["remote"] == "store"
    assert ours.remote("store").url == theirs["remote"]["store"]["url"] == "/srv/store"
    assert ours.remote("store").options["jobs"] == str(theirs["remote"]["store"]["jobs"])


def test_later_files_win_and_each_resolves_its_own_paths(tmp_path: Path) -> None:
    dvc_dir, llmpipe_dir = make_dirs(tmp_path)
    (dvc_dir / "config").write_text("['remote \"a\"']\n    url = one\n    jobs = 2\n")
    (dvc_dir / "config.local").write_text("['remote \"a\"']\n    jobs = 8\n")
    (llmpipe_dir / "config").write_text("['remote \"a\"']\n    encrypt = true\n")
    (llmpipe_dir / "config.local").write_text("[llmpipe]\n    jobs = 3\n")
    config = load_config(str(dvc_dir), str(llmpipe_dir))
    remote = config.remote("a")
    assert (remote.url, remote.jobs, remote.encrypt) == (str(dvc_dir / "one"), 8, True)
    assert config.jobs == 3
    assert list(config.remotes) == ["a"] and config.has_remote_section("a")


def test_errors_name_the_file_and_the_fix(tmp_path: Path) -> None:
    dvc_dir, llmpipe_dir = make_dirs(tmp_path)
    with pytest.raises(RemoteConfigError, match="llmpipe remote add -d NAME URL"):
        load_config(str(dvc_dir), str(llmpipe_dir)).remote()
    (dvc_dir / "config").write_text("['remote \"a\"']\n    url = /a\n")
    with pytest.raises(RemoteConfigError, match=r"remote 'b' is not configured.*known remotes: a"):
        load_config(str(dvc_dir), str(llmpipe_dir)).remote("b")
    (dvc_dir / "config").write_text("[core\n    remote = a\n")
    with pytest.raises(ConfigError, match=r"\.dvc/config: not a valid config file"):
        load_config(str(dvc_dir), str(llmpipe_dir))
    (dvc_dir / "config").write_text("[core]\n    remote = %(missing)s\n")
    with pytest.raises(ConfigError, match=r"\.dvc/config: \[core\] remote: .*missing"):
        load_config(str(dvc_dir), str(llmpipe_dir))


def test_saving_normalizes_as_dvc_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(
        "# top\n[cache]\n    # how to link\n    Type = copy  # fast enough\n"
        "    dir = ./c/../cache2\n[MyTool]\n    Odd_Key = 1\n"
    )
    document = ConfigDocument.load(str(path))
    document.set("hydra", "enabled", "True")
    document.set("core", "remote", "x")
    document.save()
    assert path.read_text() == (
        "# top\n[cache]\n    # how to link\n    type = copy    # fast enough\n"
        "    dir = cache2\n[MyTool]\n    Odd_Key = 1\n"
        "[core]\n    remote = x\n[hydra]\n    enabled = True\n"
    )


def test_removed_entries_hand_their_comments_on(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(
        "[core]\n    # why\n    remote = a\n# about b\n['remote \"b\"']\n    url = /b\n"
    )
    document = ConfigDocument.load(str(path))
    document.unset("core", "remote")
    document.remove_section('remote "b"')
    document.save()
    # [core] is empty, so dvc drops it; the comment lines stay.
    assert path.read_text() == "# why\n# about b\n"


def test_an_empty_file_is_one_newline_as_dvc_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "config"
    set_value(str(path), "core", "remote", "a")
    document = ConfigDocument.load(str(path))
    document.unset("core", "remote")
    document.save()
    assert path.read_bytes() == b"\n"


def test_path_options_set_from_a_sub_folder_are_rebased(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    document = ConfigDocument.load(str(tmp_path / ".dvc" / "config"))
    document.set('remote "r"', "url", "../store", cwd=str(tmp_path / "sub"))
    document.set('remote "r"', "keyfile", "~/.ssh/id", cwd=str(tmp_path / "sub"))
    assert document.get('remote "r"', "url") == "../store"
    assert document.get('remote "r"', "keyfile") == "~/.ssh/id"
    assert dialect.stored_path(str(tmp_path / ".dvc"), "s3://b/x", "/elsewhere") == "s3://b/x"


def test_new_file_mode_is_the_umask_s(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        assert new_file_mode() == 0o640
        with open(tmp_path / "plain", "w"):
            pass
        assert (tmp_path / "plain").stat().st_mode & 0o777 == new_file_mode()
    finally:
        os.umask(previous)


def test_a_command_reads_the_config_files_once(project, tmp_path, monkeypatch) -> None:
    for name in ("a", "b", "c"):
        project.write(f"{name}.txt", name)
        project.ok("add", f"{name}.txt")
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    from llmpipe.config import read

    parsed: list[str] = []
    real_read = read.read_file

    def counting_read(path: str):  # noqa: ANN202
        parsed.append(path)
        return real_read(path)

    monkeypatch.setattr(read, "read_file", counting_read)
    project.ok("push")
    # dvc's system and global files, .dvc/config(.local), .llmpipe/config(.local)
    assert len(parsed) == 6, parsed
