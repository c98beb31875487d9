from llmpipe.spec import discover_dvcfiles, load_stages


def test_finds_dvcyaml_and_dvc_files_sorted(project):
    root = project(
        {
            "dvc.yaml": "stages:\n  b:\n    cmd: x\n  a:\n    cmd: y\n",
            "data.txt.dvc": "outs:\n- md5: abc\n  size: 1\n  hash: md5\n  path: data.txt\n",
            "sub/dvc.yaml": "stages:\n  c:\n    cmd: z\n",
            "sub/deep/m.dvc": "outs:\n- path: m\n",
            "sub/dvc.lock": "schema: '2.0'\n",
            "notes.txt": "",
        }
    )
    assert discover_dvcfiles(str(root)) == [
        "data.txt.dvc", "dvc.yaml", "sub/deep/m.dvc", "sub/dvc.yaml",
    ]  # fmt: skip
    assert [s.address for s in load_stages(str(root))] == [
        "data.txt.dvc", "b", "a", "sub/deep/m.dvc", "sub/dvc.yaml:c",
    ]  # fmt: skip


def test_skips_tool_dirs_gitignored_outputs_and_subrepos(project):
    root = project(
        {
            "dvc.yaml": "stages: {}\n",
            ".git/x.dvc": "",
            ".dvc/config": "",
            ".llmpipe/y.dvc": "",
            ".gitignore": "/outputs\n*.log\n",
            "outputs/dvc.yaml": "not: [valid\n",
            "logs/dvc.yaml": "stages: {}\n",
            "sub/.gitignore": "/model/\n",
            "sub/model/z.dvc": "",
            "nested/.dvc/config": "",
            "nested/dvc.yaml": "stages: {}\n",
        }
    )
    assert discover_dvcfiles(str(root)) == ["dvc.yaml", "logs/dvc.yaml"]


def test_dvcignore_patterns(project):
    root = project(
        {
            ".dvcignore": "# comment\nscratch/\n/top.dvc\n*.tmp.dvc\n",
            "scratch/dvc.yaml": "",
            "top.dvc": "",
            "keep/top.dvc": "",
            "a.tmp.dvc": "",
            "dvc.yaml": "",
        }
    )
    assert discover_dvcfiles(str(root)) == ["dvc.yaml", "keep/top.dvc"]


def test_big_gitignored_output_dir_is_not_walked(project, tmp_path):
    root = project({"dvc.yaml": "stages: {}\n", ".gitignore": "/big\n"})
    big = tmp_path / "big"
    big.mkdir()
    for i in range(50):
        (big / f"{i}.dvc").write_text("garbage: [")
    assert discover_dvcfiles(str(root)) == ["dvc.yaml"]
    assert load_stages(str(root)) == []


def _commit_all(root) -> str:  # noqa: ANN001
    import subprocess

    def git(*args: str) -> str:
        command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
        return subprocess.run(command, cwd=root, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "all")
    return git("rev-parse", "HEAD").strip()


def test_a_commit_is_read_by_the_same_rules_as_the_folder(project):
    from llmpipe.revfs import GitObjects, RevTree
    from llmpipe.spec import dvcfiles_at

    root = project(
        {
            ".dvcignore": "scratch/\n/top.dvc\n",
            ".dvc/config": "",
            ".llmpipe/y.dvc": "",
            "scratch/dvc.yaml": "",
            "top.dvc": "",
            "keep/top.dvc": "outs:\n- md5: abc\n  path: top\n",
            "nested/.dvc/config": "",
            "nested/dvc.yaml": "stages: {}\n",
            "params.yaml": "model: {dir: models}\n",
            "shared.yaml": "n: 3\n",
            "dvc.yaml": """\
                vars: [shared.yaml]
                stages:
                  train:
                    cmd: python train.py ${n}
                    outs: ["${model.dir}/m.pt"]
            """,
        }
    )
    sha = _commit_all(root)
    with GitObjects(str(root)) as objects:
        tree = RevTree(objects, sha)
        assert dvcfiles_at(tree) == discover_dvcfiles(str(root)) == ["dvc.yaml", "keep/top.dvc"]
        assert load_stages(tree) == load_stages(str(root))
    assert [s.outs[0].path for s in load_stages(str(root))] == ["models/m.pt", "top"]
