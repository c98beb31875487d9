import pytest

from llmpipe.errors import SpecError
from llmpipe.spec import lookup_param, read_params_file


def test_reads_yaml_json_and_toml(tmp_path):
    (tmp_path / "p.yaml").write_text("train: {lr: 0.1}\n")
    (tmp_path / "p.json").write_text('{"train": {"lr": 0.2}}')
    (tmp_path / "p.toml").write_text("[train]\nlr = 0.3\n")
    assert read_params_file(str(tmp_path / "p.yaml")) == {"train": {"lr": 0.1}}
    assert read_params_file(str(tmp_path / "p.json")) == {"train": {"lr": 0.2}}
    assert read_params_file(str(tmp_path / "p.toml")) == {"train": {"lr": 0.3}}


def test_empty_yaml_is_an_empty_mapping(tmp_path):
    (tmp_path / "p.yaml").write_text("")
    assert read_params_file(str(tmp_path / "p.yaml")) == {}


@pytest.mark.parametrize(
    ("name", "text", "pattern"),
    [
        ("p.yaml", "a: [1\n", r"p.yaml:2:1: invalid YAML"),
        ("p.json", '{"a": }', r"p.json:1:7: invalid JSON"),
        ("p.toml", "a = \n", r"p.toml: invalid TOML"),
        ("p.yaml", "- 1\n- 2\n", r"must hold a mapping"),
    ],
)
def test_malformed_files_raise_spec_error(tmp_path, name, text, pattern):
    (tmp_path / name).write_text(text)
    with pytest.raises(SpecError, match=pattern):
        read_params_file(str(tmp_path / name), name)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SpecError, match="params file 'nope.yaml' does not exist"):
        read_params_file(str(tmp_path / "nope.yaml"), "nope.yaml")


def test_lookup_param_walks_dots_and_list_indexes():
    data = {"train": {"lr": 0.1, "layers": [4, 8]}, "a.b": 1}
    assert lookup_param(data, "train.lr") == 0.1
    assert lookup_param(data, "train.layers.1") == 8
    assert lookup_param(data, "a.b") == 1
    assert lookup_param(data, "train") == {"lr": 0.1, "layers": [4, 8]}
    with pytest.raises(KeyError):
        lookup_param(data, "train.momentum")
    with pytest.raises(KeyError):
        lookup_param(data, "train.lr.x")
