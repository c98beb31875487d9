"""`llmpipe ui` as a command: where it listens, what it says, when it refuses to start,
and that no other command pays for the web stack."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request

from tests.browser import ui_server
from tests.conftest import llmpipe_env


def fetch(url: str, host: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def run_ui(
    project, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:  # noqa: ANN001
    return subprocess.run(
        [sys.executable, "-m", "llmpipe", "ui", *args],
        cwd=project,
        env=env or llmpipe_env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def run_python(project, code: str) -> subprocess.CompletedProcess[str]:  # noqa: ANN001
    return subprocess.run(
        [sys.executable, "-c", code], cwd=project, env=llmpipe_env(),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_serves_this_machine_only_and_read_only_by_default(experiments_project) -> None:  # noqa: ANN001
    with ui_server(experiments_project) as server:
        url = server.url
        assert url.startswith("http://127.0.0.1:")
        status, page = fetch(f"{url}/experiments")
        assert status == 200 and "read-only" in page and "exp-fast" in page
        assert fetch(f"{url}/experiments", host="attacker.example")[0] == 400


def test_another_address_only_when_asked_and_with_a_warning(experiments_project) -> None:  # noqa: ANN001
    with ui_server(experiments_project, "--host", "0.0.0.0") as server:
        port = server.url.rsplit(":", 1)[1]
        # Reached under whatever name this machine has on the network: any Host is served.
        assert fetch(f"http://127.0.0.1:{port}/audit", host="build-box.lan")[0] == 200
        warning = server.output().splitlines()[0]
    assert warning.startswith("WARNING: listening on 0.0.0.0, not on this machine only")
    assert "There is no login." in warning


def test_allow_writes_needs_a_signing_key(experiments_project, tmp_path) -> None:  # noqa: ANN001
    env = {**llmpipe_env(), "XDG_CONFIG_HOME": str(tmp_path / "no-keys")}
    env.pop("LLMPIPE_KEY_FILE", None)
    result = run_ui(experiments_project, "--allow-writes", "--port", "0", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("ERROR: --allow-writes needs a signing key:")
    assert "llmpipe keys generate" in result.stderr


def test_a_port_in_use_is_one_clear_error(experiments_project) -> None:  # noqa: ANN001
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_ui(experiments_project, "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.startswith(f"ERROR: cannot listen on 127.0.0.1:{port} (")
    assert "--port (0 picks a free one)" in result.stderr


def test_outside_a_project(tmp_path) -> None:  # noqa: ANN001
    result = run_ui(tmp_path, "--port", "0")
    assert result.returncode == 1 and "not inside an llmpipe project" in result.stderr


def test_no_other_command_imports_the_web_stack(experiments_project) -> None:  # noqa: ANN001
    code = (
        "import sys\n"
        "from llmpipe.cli.main import main\n"
        "for args in (['status'], ['--help'], ['metrics', 'show'], ['ui', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('starlette', 'uvicorn', 'jinja2', 'llmpipe.ui') if m in sys.modules))\n"
    )
    result = run_python(experiments_project, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert "ui  " in result.stdout or "  ui" in result.stdout  # listed by --help


def test_only_the_ui_command_imports_the_dashboard() -> None:
    from tests.test_architecture import PACKAGE, imports_of

    importers = {
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*.py")
        if not path.is_relative_to(PACKAGE / "ui")
        and any(name.split(".")[:2] == ["llmpipe", "ui"] for name in imports_of(path))
    }
    assert importers == {"llmpipe/cli/ui.py"}


def test_without_the_web_extra_it_says_what_to_install(experiments_project) -> None:  # noqa: ANN001
    # An interpreter where starlette cannot be imported, as after `pip install llmpipe`.
    code = (
        "import sys\n"
        "class NoStarlette:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'starlette':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoStarlette())\n"
        "from llmpipe.cli.main import main\n"
        "sys.exit(main(['ui', '--port', '0']))\n"
    )
    result = run_python(experiments_project, code)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "ERROR: llmpipe ui needs the web extra (starlette is missing): pip install 'llmpipe[ui]'"
    )
