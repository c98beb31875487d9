"""Every user mistake in a dvc.yaml gets one SpecError naming file, line, stage and fix."""

import pytest

from llmpipe.errors import SpecError
from llmpipe.spec import load_dvcyaml


def load_error(project, dvcyaml: str, **files: str) -> str:
    root = project({"dvc.yaml": dvcyaml, **files})
    with pytest.raises(SpecError) as info:
        load_dvcyaml(str(root), "dvc.yaml")
    return str(info.value)


def test_malformed_yaml(project):
    message = load_error(project, "stages:\n  a:\n    cmd: 'x\n")
    assert message.startswith("dvc.yaml:4:1: invalid YAML")


def test_top_level_not_a_mapping(project):
    assert "top level must be a mapping" in load_error(project, "- a\n- b\n")


def test_unknown_top_level_key(project):
    message = load_error(project, "stages: {}\nstagse: {}\n")
    assert message.startswith("dvc.yaml:2: unknown top-level key 'stagse'")
    assert "did you mean 'stages'?" in message


def test_unknown_stage_key_suggests_and_lists(project):
    message = load_error(project, "stages:\n  train:\n    cmd: x\n    outz: [a]\n")
    assert message.startswith(
        "dvc.yaml:4: stage 'train': unknown key 'outz' (did you mean 'outs'?)"
    )
    assert "valid keys: cmd, wdir, deps" in message


def test_stage_without_cmd(project):
    message = load_error(project, "stages:\n  a:\n    cmd: x\n  train:\n    deps: [a]\n")
    assert message.startswith("dvc.yaml:4: stage 'train' has no 'cmd'")


def test_foreach_do_without_cmd(project):
    message = load_error(project, "stages:\n  t:\n    foreach: [a]\n    do:\n      deps: [x]\n")
    assert "stage 't' has no 'cmd'" in message


def test_missing_interpolation_key_names_key_stage_and_close_keys(project):
    message = load_error(
        project,
        "stages:\n  train:\n    cmd: echo ${train.lrr}\n",
        **{"params.yaml": "train: {lr: 0.1, epochs: 3}\n"},
    )
    assert message.startswith("dvc.yaml:3: stage 'train': in 'cmd': could not find 'train.lrr'")
    assert "did you mean 'lr'?" in message


def test_missing_top_level_variable(project):
    message = load_error(project, "vars: [{model: a}]\nstages:\n  s:\n    cmd: echo ${modle}\n")
    assert "could not find 'modle'" in message and "did you mean 'model'?" in message


def test_missing_key_inside_foreach_names_generated_stage(project):
    message = load_error(
        project, "stages:\n  t:\n    foreach: [a]\n    do:\n      cmd: echo ${key}\n"
    )
    assert "stage 't@a'" in message and "could not find 'key'" in message


@pytest.mark.parametrize(
    ("entry", "reason"),
    [("params: [{/etc/p.yaml: [a]}]", "is absolute"),
     ("params: [{../p.yaml: [a]}]", "points outside the repository"),
     ("outs: ['s3://b/k']", "only dependencies may be URLs"),
     ("deps: ['ftp://b/k']", "unsupported scheme 'ftp://'"),
     ("deps: ['.git/config']", "inside the '.git' folder")],
)  # fmt: skip
def test_paths_dvc_refuses_are_refused(project, entry, reason):
    """Deps outside the repository and URL deps are dvc's external dependencies (accepted)."""
    message = load_error(project, f"stages:\n  s:\n    cmd: x\n    {entry}\n")
    assert message.startswith("dvc.yaml:4: stage 's':") and reason in message


def test_out_escaping_through_wdir(project):
    message = load_error(project, "stages:\n  s:\n    cmd: x\n    wdir: ..\n    outs: [a]\n")
    assert "'wdir' path '..' points outside the repository" in message


def test_deps_must_be_a_list(project):
    message = load_error(project, "stages:\n  s:\n    cmd: x\n    deps: data.csv\n")
    assert message.startswith("dvc.yaml:4: stage 's': 'deps' must be a list, got str")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("cmd: 3", "'cmd' must be a string or a non-empty list of strings"),
        ("cmd: x\n    frozen: maybe", "'frozen' must be a literal true or false"),
        ("cmd: x\n    always_changed: ${f}", "'always_changed' must be a literal true or false"),
        ("cmd: x\n    deps: [[a]]", "'deps' entries must be paths"),
        ("cmd: x\n    outs: [{a: {cache: nope}}]", "option 'cache' of 'a' must be true or false"),
        ("cmd: x\n    outs: [{a: {cach: false}}]", "option 'cach' for 'a' (did you mean 'cache'?)"),
        ("cmd: x\n    params: [{p.yaml: 3}]", "params entry for 'p.yaml' must list keys"),
        ("cmd: x\n    desc: [a]", "'desc' must be a string"),
    ],
)  # fmt: skip
def test_bad_types(project, body, expected):
    assert expected in load_error(project, f"stages:\n  s:\n    {body}\n")


def test_stage_not_a_mapping(project):
    assert "stage 's' must be a mapping" in load_error(project, "stages:\n  s: echo hi\n")


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ("foreach: 3\n    do: {cmd: x}", "'foreach' must be a list or a mapping"),
        ("foreach: [a]", "'foreach' needs a 'do' mapping"),
        ("foreach: [a]\n    do: {cmd: x}\n    deps: [a]", "only 'foreach' and 'do', not 'deps'"),
        ("foreach: [a, a]\n    do: {cmd: x}", "yields the name 's@a' twice"),
        ("do: {cmd: x}", "'do' needs a 'foreach'"),
        ("matrix: [a]\n    cmd: x", "'matrix' must be a mapping"),
        ("matrix: {a: 3}\n    cmd: x", "matrix entry 'a' must be a list"),
    ],
)  # fmt: skip
def test_foreach_and_matrix_malformed(project, definition, expected):
    assert expected in load_error(project, f"stages:\n  s:\n    {definition}\n")


def test_duplicate_stage_names(project):
    message = load_error(project, "stages:\n  a:\n    cmd: x\n  a:\n    cmd: y\n")
    assert message.startswith("dvc.yaml:4:3: duplicate key 'a'")


def test_generated_name_colliding_with_plain_stage(project):
    message = load_error(
        project, "stages:\n  t@a:\n    cmd: x\n  t:\n    foreach: [a]\n    do: {cmd: y}\n"
    )
    assert "stage 't@a' is defined twice" in message


def test_list_cannot_be_embedded_in_a_string(project):
    message = load_error(project, "vars: [{l: [1, 2]}]\nstages:\n  s:\n    cmd: echo ${l}\n")
    assert "cannot interpolate data of type 'list' into 'cmd'" in message


def test_malformed_expression(project):
    assert "malformed expression" in load_error(project, "stages:\n  s:\n    cmd: echo ${a[}\n")


def test_missing_vars_file_and_key(project):
    assert "vars file 'nope.yaml' does not exist" in load_error(
        project, "vars: [nope.yaml]\nstages: {}\n"
    )
    message = load_error(project, "vars: [v.yaml:trian]\nstages: {}\n", **{"v.yaml": "train: 1\n"})
    assert "could not find 'trian' in 'v.yaml' (did you mean 'train'?)" in message


def test_redefining_a_variable_is_an_error(project):
    message = load_error(project, "vars: [{a: 2}]\nstages: {}\n", **{"params.yaml": "a: 1\n"})
    assert "cannot redefine 'a'" in message and "'params.yaml'" in message


def test_partial_then_whole_vars_file(project):
    message = load_error(
        project, "vars: [v.yaml:a, v.yaml]\nstages: {}\n", **{"v.yaml": "a: 1\nb: 2\n"}
    )
    assert "'v.yaml' is already partially loaded" in message


def test_generated_stage_vars_may_not_define_item(project):
    message = load_error(
        project, "stages:\n  s:\n    foreach: [a]\n    do:\n      vars: [{item: 1}]\n      cmd: x\n"
    )
    assert "reserved key(s) item" in message


def test_malformed_params_file_used_as_vars(project):
    message = load_error(project, "stages:\n  s:\n    cmd: x\n", **{"params.yaml": "a: [\n"})
    assert message.startswith("params.yaml:2:1: invalid YAML")


def test_vars_may_not_interpolate(project):
    message = load_error(project, "vars:\n  - x: ${y}\nstages: {}\n")
    assert message.startswith("dvc.yaml:1: 'vars' may not use ${...}")
