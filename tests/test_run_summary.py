"""The end-of-run summary of skipped suites (#15 item 17)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, llmpipe_env
from tests.run_summary import skipped_suites


def test_reasons_map_to_one_command_per_suite():
    suites = skipped_suites(
        [
            "SSH tests need OpenSSH: apt-get install -y openssh-server",
            "SSH tests need OpenSSH: apt-get install -y openssh-server",
            "needs the dvc package",
            "s3 remotes have no credentials",
            "something new",
        ]
    )
    assert suites == {
        ("SSH remotes", "apt-get install -y openssh-server openssh-client"): 2,
        ("comparisons with the real dvc", "pip install -e '.[dev]'"): 1,
        ("something new", ""): 1,
    }


def test_a_run_with_skips_ends_with_the_summary(tmp_path):
    (tmp_path / "test_one.py").write_text(
        "import pytest\n\n"
        "def test_a():\n    pytest.skip('SSH tests need OpenSSH: apt-get install -y openssh-server')\n\n"
        "def test_b():\n    pytest.importorskip('no_such_module_xyz', reason='needs the dvc package')\n"
    )
    (tmp_path / "conftest.py").write_text("from tests.run_summary import pytest_terminal_summary\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**llmpipe_env(), "PYTHONPATH": str(ROOT)},
    )
    assert "skipped suites" in run.stdout
    assert "SSH remotes (1 test): enable with `apt-get install -y openssh-server" in run.stdout
    assert (
        "comparisons with the real dvc (1 test): enable with `pip install -e '.[dev]'`"
        in run.stdout
    )
