#!/usr/bin/env bash
# Manual check (needs the package index, ~1 minute): the core install, without extras,
# runs `llmpipe sweep` and `llmpipe keys generate`. See tests/README.md.
#   python -m venv /tmp/venv-core && /tmp/venv-core/bin/pip install .
#   VENV=/tmp/venv-core bash tests/core_install_check.sh
set -euo pipefail
VENV=${VENV:?set VENV to a virtualenv with llmpipe installed without extras}
work=$(mktemp -d)
export PATH="$VENV/bin:$PATH" XDG_CONFIG_HOME="$work/config"
cd "$work" && mkdir proj && cd proj
git init -q -b main
git config user.email check@llmpipe.invalid && git config user.name check
llmpipe init --hydra >/dev/null
mkdir -p conf/model
printf 'defaults:\n  - model: tiny\n  - _self_\ntrain:\n  lr: 0.1\n' > conf/config.yaml
printf 'layers: 1\n' > conf/model/tiny.yaml
printf 'layers: 4\n' > conf/model/small.yaml
cat > train.py <<'PY'
import json
import yaml
p = yaml.safe_load(open("params.yaml"))
json.dump({"loss": 1 / (p["train"]["lr"] * p["model"]["layers"])}, open("metrics.json", "w"))
PY
cat > dvc.yaml <<'YAML'
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train, model]
    metrics:
      - metrics.json:
          cache: false
YAML
git add -A && git commit -q -m pipeline
llmpipe sweep train.lr=0.1,0.2 model=tiny,small -j 2 --sort-by loss
llmpipe keys generate --name check
echo "core install OK"
