import time

from llmpipe.spec import load_dvcyaml, parse_dvcyaml
from llmpipe.stage import Dep, Out, ParamRef


def stages_by_name(root, relpath="dvc.yaml"):
    return {s.name: s for s in load_dvcyaml(str(root), relpath)}


def test_all_stage_fields(project):
    root = project(
        {
            "dvc.yaml": """\
        stages:
          train:
            cmd: python train.py
            deps: [data.csv, train.py]
            outs:
              - model.pkl
              - logs: {cache: false, persist: true, remote: r1, push: false, desc: the logs}
            metrics: [{scores.json: {cache: false}}]
            plots: [loss.csv]
            frozen: true
            always_changed: true
            desc: trains
            meta: {owner: me}
        """
        }
    )
    stage = stages_by_name(root)["train"]
    assert stage.cmd == "python train.py"
    assert stage.deps == (Dep("data.csv"), Dep("train.py"))
    assert stage.outs == (
        Out("model.pkl"),
        Out("logs", cache=False, persist=True, remote="r1", push=False, desc="the logs"),
        Out("scores.json", cache=False, kind="metric"),
        Out("loss.csv", kind="plot"),
    )
    assert (stage.frozen, stage.always_changed, stage.desc) == (True, True, "trains")
    assert stage.meta == {"owner": "me"}
    assert (stage.dvcfile, stage.wdir, stage.lineno) == ("dvc.yaml", ".", 2)


def test_cmd_list_becomes_tuple(project):
    root = project({"dvc.yaml": "stages:\n  s:\n    cmd: [echo a, echo b]\n"})
    assert stages_by_name(root)["s"].cmd == ("echo a", "echo b")


def test_wdir_is_repo_relative(project):
    root = project(
        {
            "sub/dvc.yaml": "stages:\n  a:\n    wdir: ../other\n    cmd: x\n  b:\n    cmd: y\n",
        }
    )
    stages = stages_by_name(root, "sub/dvc.yaml")
    assert stages["a"].wdir == "other"
    assert stages["b"].wdir == "sub"
    assert stages["a"].address == "sub/dvc.yaml:a"


def test_params_forms_are_merged_per_file(project):
    root = project(
        {
            "dvc.yaml": """\
        stages:
          s:
            cmd: x
            params:
              - lr
              - custom.yaml: [a, b.c]
              - epochs
              - custom.yaml: [a, d]
              - whole.yaml:
              - other.json: []
        """
        }
    )
    assert stages_by_name(root)["s"].params == (
        ParamRef("params.yaml", ("lr", "epochs")),
        ParamRef("custom.yaml", ("a", "b.c", "d")),
        ParamRef("whole.yaml"),
        ParamRef("other.json"),
    )


def test_whole_default_file_swallows_its_keys(project):
    root = project({"dvc.yaml": "stages:\n  s:\n    cmd: x\n    params: [lr, {params.yaml: }]\n"})
    assert stages_by_name(root)["s"].params == (ParamRef("params.yaml"),)


def test_plot_options_are_kept_on_dvcyaml(project):
    root = project(
        {
            "dvc.yaml": """\
        stages:
          s:
            cmd: x
            plots:
              - loss.csv: {x: step, y: loss, cache: false}
        plots:
          - loss.csv
        metrics: [m.json]
        params: [p.yaml]
        artifacts:
          model: {path: model.pkl, type: model}
        """
        }
    )
    dvcyaml = parse_dvcyaml(str(root), "dvc.yaml")
    assert dvcyaml.stages[0].outs == (Out("loss.csv", cache=False, kind="plot"),)
    assert dvcyaml.plot_props == {"s": {"loss.csv": {"x": "step", "y": "loss"}}}
    assert dvcyaml.plots == ("loss.csv",)
    assert dvcyaml.metrics == ("m.json",)
    assert dvcyaml.params == ("p.yaml",)
    assert dvcyaml.artifacts == {"model": {"path": "model.pkl", "type": "model"}}


def test_interpolation_from_default_params_and_vars(project):
    root = project(
        {
            "params.yaml": "train: {lr: 0.01, flag: true, layers: [4, 8], name: run}\n",
            "extra.yaml": "e: {x: 1, y: 2}\nskip: 3\n",
            "dvc.yaml": """\
            vars:
              - inline: {v: 7}
              - extra.yaml:e
            stages:
              s:
                cmd: >-
                  echo ${train.lr} ${train.flag} ${train.layers[1]}
                  ${train.layers.0} ${e.x} ${inline.v}
                outs: ["${train.name}.txt"]
                meta: ${train.flag}
                desc: \\${literal}
            """,
        }
    )
    stage = stages_by_name(root)["s"]
    assert stage.cmd == "echo 0.01 true 8 4 1 7"
    assert stage.outs == (Out("run.txt"),)
    assert stage.meta is True  # a whole-string ${x} keeps its type
    assert stage.desc == "${literal}"


def test_dict_in_cmd_renders_as_flags(project):
    root = project(
        {
            "params.yaml": "tr: {lr: 0.1, fl: true, off: false, names: [a, b],"
            " nest: {d: 1}, s: x y}\n",
            "dvc.yaml": "stages:\n  s:\n    cmd: python t.py ${tr}\n",
        }
    )
    # Same text dvc 3 writes to dvc.lock for this definition.
    assert stages_by_name(root)["s"].cmd == (
        "python t.py --lr 0.1 --fl --names a b --nest.d 1 --s 'x y'"
    )


def test_stage_vars_are_relative_to_wdir(project):
    root = project(
        {
            "sub/conf.yaml": "c: {k: 5}\n",
            "dvc.yaml": "stages:\n  s:\n    wdir: sub\n    vars: [conf.yaml]\n"
            "    cmd: echo ${c.k}\n",
        }
    )
    assert stages_by_name(root)["s"].cmd == "echo 5"


def test_stage_vars_do_not_leak_to_other_stages(project):
    root = project(
        {
            "dvc.yaml": """\
        stages:
          a:
            vars: [{only: 1}]
            cmd: echo ${only}
          b:
            vars: [{only: 2}]
            cmd: echo ${only}
        """
        }
    )
    stages = stages_by_name(root)
    assert (stages["a"].cmd, stages["b"].cmd) == ("echo 1", "echo 2")


def test_foreach_over_scalars_dicts_and_mappings(project):
    root = project(
        {
            "params.yaml": "models: [small, large]\n",
            "dvc.yaml": """\
            stages:
              fe:
                foreach: ${models}
                do:
                  cmd: echo ${item}
                  outs: ["${item}.bin"]
              fl:
                foreach: [{n: 1}, {n: 2}]
                do:
                  cmd: echo ${item.n}
              fd:
                foreach:
                  us: {v: 1}
                  eu: {v: 2}
                do:
                  cmd: echo ${key} ${item.v}
            """,
        }
    )
    stages = stages_by_name(root)
    assert list(stages) == ["fe@small", "fe@large", "fl@0", "fl@1", "fd@us", "fd@eu"]
    assert stages["fe@large"].outs == (Out("large.bin"),)
    assert stages["fl@1"].cmd == "echo 2"
    assert stages["fd@eu"].cmd == "echo eu 2"
    assert stages["fd@eu"].lineno == 11


def test_matrix_names_and_items(project):
    root = project(
        {
            "dvc.yaml": """\
        vars:
          - lrs: [0.1, 1]
        stages:
          mx:
            matrix:
              m: [a, b]
              lr: ${lrs}
              f: [true]
              cfg: [{x: 1}]
            cmd: echo ${item.m} ${item.lr} ${item.f} ${item.cfg.x} ${key}
        """
        }
    )
    stages = stages_by_name(root)
    assert list(stages) == ["mx@a-0.1-true-cfg0", "mx@a-1-true-cfg0", "mx@b-0.1-true-cfg0",
                            "mx@b-1-true-cfg0"]  # fmt: skip
    assert stages["mx@b-1-true-cfg0"].cmd == "echo b 1 true 1 b-1-true-cfg0"


def test_interpolated_params_are_reported_but_not_added_to_stage_params(project):
    # dvc 3.67 records no `params:` in dvc.lock for values only interpolated.
    root = project(
        {
            "params.yaml": "train: {lr: 0.01, epochs: 3}\n",
            "c.yaml": "c: {k: 7}\n",
            "dvc.yaml": "vars: [c.yaml, {loc: 1}]\n"
            "stages:\n  s:\n    cmd: echo ${train.lr} ${c.k} ${loc}\n",
        }
    )
    dvcyaml = parse_dvcyaml(str(root), "dvc.yaml")
    assert dvcyaml.stages[0].params == ()
    assert dvcyaml.tracked_params == {
        "s": {"params.yaml": {"train.lr": 0.01}, "c.yaml": {"c.k": 7}}
    }


def test_vars_file_named_twice_and_default_params_named_again_are_fine(project):
    root = project(
        {
            "params.yaml": "a: 1\n",
            "dvc.yaml": "vars: [params.yaml, params.yaml]\nstages:\n  s:\n    cmd: echo ${a}\n",
        }
    )
    assert stages_by_name(root)["s"].cmd == "echo 1"


def test_file_without_stages_and_empty_file(project):
    root = project({"dvc.yaml": "", "sub/dvc.yaml": "plots: [a.csv]\n"})
    assert load_dvcyaml(str(root), "dvc.yaml") == []
    assert load_dvcyaml(str(root), "sub/dvc.yaml") == []


def test_hundred_item_foreach_loads_in_milliseconds(project):
    items = "\n".join(f"      - m{i}" for i in range(100))
    root = project(
        {
            "params.yaml": "lr: 0.1\n",
            "dvc.yaml": f"""\
stages:
  train:
    foreach:
{items}
    do:
      cmd: python train.py --model ${{item}} --lr ${{lr}}
      deps: [train.py, "data/${{item}}"]
      params: [lr]
      outs: ["models/${{item}}.pkl"]
      metrics: [{{"metrics/${{item}}.json": {{cache: false}}}}]
""",
        }
    )
    load_dvcyaml(str(root), "dvc.yaml")
    start = time.perf_counter()
    stages = load_dvcyaml(str(root), "dvc.yaml")
    elapsed = time.perf_counter() - start
    assert len(stages) == 100
    assert elapsed < 0.05, f"took {elapsed * 1000:.1f} ms"
