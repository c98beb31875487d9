#!/usr/bin/env bash
# Run the demo pipeline in a fresh project of its own.
#
# Usage: examples/demo/run.sh [DIR]
#   DIR  where to build the project (must not exist yet); default: a new temp dir.
# The repository root is its own project (the reference LLM pipeline), so the
# demo is copied out, made a git repository and an llmpipe project, and run there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if command -v llmpipe >/dev/null 2>&1; then
    llmpipe=(llmpipe)
else
    llmpipe=(python -m llmpipe)  # works from a checkout without the console script
fi
if [[ $# -ge 1 ]]; then
    project="$1"
    mkdir -p "$project"
    [[ -z "$(ls -A "$project")" ]] || { echo "run.sh: '$project' is not empty" >&2; exit 2; }
else
    project="$(mktemp -d "${TMPDIR:-/tmp}/llmpipe-demo.XXXXXX")"
fi
project="$(cd "$project" && pwd)"

# Echo each command (bold on a terminal) before running it.
if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

mkdir -p "$project/data"
cp -R "$here/dvc.yaml" "$here/params.yaml" "$here/src" "$project/"
cp -R "$here/data/raw" "$project/data/raw"
cd "$project"
git init -q
# Commits need an identity; use a local one only when none is configured.
git config user.email >/dev/null || git config user.email "demo@llmpipe.invalid"
git config user.name >/dev/null || git config user.name "llmpipe demo"
echo "demo project: $project"

step "${llmpipe[@]}" init
git add -A && git commit -qm "demo pipeline"
step "${llmpipe[@]}" repro
step "${llmpipe[@]}" status
step "${llmpipe[@]}" repro          # nothing changed: every stage is skipped
step cat metrics.json

# Change one tracked parameter: only the stage that reads it is out of date.
sed -i.bak 's/top_n: 10/top_n: 5/' params.yaml && rm -f params.yaml.bak
step "${llmpipe[@]}" status
step "${llmpipe[@]}" repro
step "${llmpipe[@]}" dag
step "${llmpipe[@]}" lineage metrics.json
step "${llmpipe[@]}" log
echo
echo "demo project kept at: $project"
