"""Load a `dvc.yaml` (DVC 3 schema) into `Stage` objects and a `DvcYaml` summary.

Order of work for one file: parse (C loader, YAML 1.2 rules), check the
top-level keys, build the base variables (the `params.yaml` beside the file,
then top-level `vars`), then expand every stage definition: a plain stage gives
one Stage, `foreach`/`do` and `matrix` give one per item, named `name@key`.
Each definition is checked for unknown keys and bad `${}` syntax once, then
resolved and turned into a frozen Stage with repository-relative `wdir`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from itertools import product
from typing import Any, NamedTuple

from llmpipe.errors import InterpolationError, SpecError
from llmpipe.revfs import FileTree, as_tree, parse_once, read_text
from llmpipe.spec.interpolate import Context, check_syntax, resolve, to_str
from llmpipe.spec.params import parse_params, shared_params
from llmpipe.spec.paths import checked_path
from llmpipe.spec.resources import read_placement
from llmpipe.stage import Dep, Out, ParamRef, Stage
from llmpipe.yamlio import KeyLines, load_with_lines

DEFAULT_PARAMS_FILE = "params.yaml"
TOP_KEYS = ("stages", "vars", "params", "metrics", "plots", "artifacts", "datasets")
STAGE_KEYS = (
    "cmd",
    "wdir",
    "deps",
    "params",
    "outs",
    "metrics",
    "plots",
    "frozen",
    "always_changed",
    "desc",
    "meta",
    "vars",
)
OUT_OPTIONS = frozenset(
    {"cache", "persist", "remote", "push", "desc", "type", "labels", "meta", "checkpoint"}
)
PLOT_OPTIONS = OUT_OPTIONS | {"template", "x", "y", "x_label", "y_label", "title", "header"}
_OUT_TYPES: dict[str, type | tuple[type, ...]] = {
    "cache": bool,
    "persist": bool,
    "push": bool,
    "checkpoint": bool,
    "remote": str,
    "desc": str,
    "type": str,
    "labels": list,
}
_KINDS = {"outs": "out", "metrics": "metric", "plots": "plot"}


class DvcYaml(NamedTuple):
    """Everything one dvc.yaml declares.

    `tracked_params` maps a stage name to `{params file: {dotted key: value}}`
    for values the stage interpolated from files (DVC reports these in
    `params diff` but does not write them to dvc.lock). `plot_props` maps a
    stage name to `{plot path: options}` for plots declared with options.
    A NamedTuple, not a dataclass (~0.5 ms at every start-up); its mappings are
    read-only (the `{}` defaults are shared).
    """

    path: str
    stages: tuple[Stage, ...] = ()
    params: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    plots: tuple[Any, ...] = ()
    artifacts: Mapping[str, Any] = {}
    tracked_params: Mapping[str, Mapping[str, Mapping[str, Any]]] = {}
    plot_props: Mapping[str, Mapping[str, Any]] = {}


def load_dvcyaml(root: str | FileTree, relpath: str) -> list[Stage]:
    """Stages of the dvc.yaml at repo-relative `relpath`, in file order."""
    return list(parse_dvcyaml(root, relpath).stages)


def parse_dvcyaml(root: str | FileTree, relpath: str) -> DvcYaml:
    """Load and validate one dvc.yaml; raises SpecError with file, line and fix.

    `root` is the project folder, or a tree (a commit's files) to read from.
    """
    tree = as_tree(root)
    # A commit's dvc.yaml is parsed once per content (experiments share it); the stages
    # are built per tree, as their values may come from that tree's params files.
    return _Loader(tree, relpath, *parse_once(tree, relpath, _parse)).load()


def _parse(tree: FileTree, relpath: str) -> tuple[Any, KeyLines]:
    text = read_text(tree, relpath)
    if text is None:
        raise SpecError(f"'{relpath}' does not exist")
    return load_with_lines(text, relpath, memo=True)


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """` (did you mean 'x'?)` for a close match among `choices`, else ''."""
    import difflib  # only for this rare path: not at start-up

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Loader:
    """Turns the parsed data of one dvc.yaml into a DvcYaml (one use per file)."""

    def __init__(self, tree: FileTree, relpath: str, data: Any, lines: dict[int, dict]) -> None:
        self.tree = tree
        self.relpath = relpath
        self.data = {} if data is None else data
        self.lines = lines
        self.base_dir = posixpath.dirname(relpath) or "."
        self.tracked: dict[str, dict[str, dict[str, Any]]] = {}
        self.plot_props: dict[str, dict[str, Any]] = {}

    # -- locations for messages ------------------------------------------------
    def line(self, mapping: Any, key: Any) -> int | None:
        return self.lines.get(id(mapping), {}).get(key)

    def where(self, mapping: Any = None, key: Any = None) -> str:
        line = self.line(mapping, key) if mapping is not None else None
        return f"{self.relpath}:{line}" if line else self.relpath

    def fail(self, message: str, mapping: Any = None, key: Any = None) -> SpecError:
        return SpecError(f"{self.where(mapping, key)}: {message}")

    # -- top level ---------------------------------------------------------------
    def load(self) -> DvcYaml:
        if not isinstance(self.data, dict):
            raise self.fail(
                f"the top level must be a mapping with a 'stages' key,"
                f" not a {type(self.data).__name__}"
            )
        self._check_top_keys()
        base = self._base_context()
        stages = tuple(self._all_stages(base))
        return DvcYaml(
            path=self.relpath,
            stages=stages,
            params=tuple(self._top_list("params", base, str)),
            metrics=tuple(self._top_list("metrics", base, str)),
            plots=tuple(self._top_list("plots", base, (str, dict))),
            artifacts=self._artifacts(base),
            tracked_params=self.tracked,
            plot_props=self.plot_props,
        )

    def _check_top_keys(self) -> None:
        for key in self.data:
            if key not in TOP_KEYS:
                raise self.fail(
                    f"unknown top-level key '{key}'{suggest(str(key), TOP_KEYS)};"
                    f" valid keys: {', '.join(TOP_KEYS)}",
                    self.data,
                    key,
                )

    def _base_context(self) -> Context:
        ctx = Context()
        default = posixpath.normpath(posixpath.join(self.base_dir, DEFAULT_PARAMS_FILE))
        if self.tree.exists(default):
            self._merge_file(ctx, DEFAULT_PARAMS_FILE, self.base_dir, self.data, "vars")
        self._load_vars(ctx, self.data.get("vars"), self.base_dir, "", self.data)
        return ctx

    def _load_vars(self, ctx: Context, entries: Any, wdir: str, stage: str, owner: Any) -> None:
        """Merge `vars` entries (file names, `file:k1,k2`, or inline dicts) into ctx."""
        if entries is None:
            return
        label = f"stage '{stage}': " if stage else ""
        if not isinstance(entries, list):
            raise self.fail(
                f"{label}'vars' must be a list of file names or mappings", owner, "vars"
            )
        for index, entry in enumerate(entries):
            if _has_template(entry):
                raise self.fail(
                    f"{label}'vars' may not use ${{...}}; write the values literally",
                    owner,
                    "vars",
                )
            if isinstance(entry, str):
                self._merge_file(ctx, entry, wdir, owner, label)
            elif isinstance(entry, dict):
                origin = f"'{stage + '.' if stage else ''}vars[{index}]'"
                self._merge(ctx, entry, None, origin, owner, label)
            else:
                raise self.fail(
                    f"{label}'vars' entries must be file names or mappings,"
                    f" not {type(entry).__name__}",
                    owner,
                    "vars",
                )

    def _merge(
        self, ctx: Context, data: dict, source: str | None, origin: str, owner: Any, label: str
    ) -> None:
        try:
            ctx.merge(data, source, origin)
        except InterpolationError as exc:
            raise self.fail(f"{label}{exc}", owner, "vars") from None

    def _merge_file(self, ctx: Context, item: str, wdir: str, owner: Any, label: str) -> None:
        name, _, keys_text = item.partition(":")
        path = posixpath.normpath(posixpath.join(wdir, name))
        keys = [k for k in keys_text.split(",") if k] or None
        if path in ctx.imports:
            if keys is None and ctx.imports[path] is None:
                return  # naming a whole file twice is allowed
            self._check_reimport(path, item, keys, ctx.imports[path], owner, label)
        data = self._read_vars_file(path, owner, label)
        if keys is not None:
            missing = [k for k in keys if k not in data]
            if missing:
                raise self.fail(
                    f"{label}could not find '{missing[0]}' in '{path}'"
                    f"{suggest(missing[0], [str(k) for k in data])}",
                    owner,
                    "vars",
                )
            data = {k: data[k] for k in keys}
        self._merge(ctx, data, path, f"'{path}'", owner, label)
        previous = ctx.imports.get(path)
        ctx.imports[path] = None if keys is None else [*(previous or []), *keys]

    def _check_reimport(
        self, path: str, item: str, keys: list[str] | None, loaded: Any, owner: Any, label: str
    ) -> None:
        if keys is None or loaded is None or set(keys) & set(loaded):
            state = "partially loaded" if loaded is not None else "loaded"
            raise self.fail(
                f"{label}cannot load '{item}' in 'vars': '{path}' is already {state};"
                " name each file (or each key of it) only once",
                owner,
                "vars",
            )

    def _read_vars_file(self, path: str, owner: Any, label: str) -> dict[str, Any]:
        shared = shared_params(self.tree, path)  # the merge below copies it
        if shared is not None:
            return shared
        text = read_text(self.tree, path)
        if text is None:
            raise self.fail(
                f"{label}vars file '{path}' does not exist; create it or fix the name",
                owner,
                "vars",
            )
        return parse_params(text, path)

    # -- stages ------------------------------------------------------------------
    def _all_stages(self, base: Context) -> Iterator[Stage]:
        stages = self.data.get("stages")
        if stages is None:
            return
        if not isinstance(stages, dict):
            raise self.fail(
                "'stages' must be a mapping of stage names to definitions", self.data, "stages"
            )
        seen: set[str] = set()
        for name, definition in stages.items():
            lineno = self.line(stages, name)
            for stage in self._expand(str(name), definition, base, lineno):
                if stage.name in seen:
                    raise self.fail(
                        f"stage '{stage.name}' is defined twice; rename one", stages, name
                    )
                seen.add(stage.name)
                yield stage

    def _expand(self, name: str, definition: Any, base: Context, lineno: int | None) -> list:
        if not isinstance(definition, dict):
            raise SpecError(
                f"{self.relpath}:{lineno}: stage '{name}' must be a mapping with at least 'cmd',"
                f" not {type(definition).__name__}"
            )
        if "foreach" in definition:
            return self._expand_foreach(name, definition, base, lineno)
        if "matrix" in definition:
            return self._expand_matrix(name, definition, base, lineno)
        if "do" in definition:
            raise self.fail(
                f"stage '{name}': 'do' needs a 'foreach' list or mapping", definition, "do"
            )
        self._check_template(name, definition)
        return [self._build(name, definition, base, lineno, generated=False)]

    def _check_template(self, name: str, definition: dict) -> None:
        for key in definition:
            if key not in STAGE_KEYS:
                raise self.fail(
                    f"stage '{name}': unknown key '{key}'{suggest(str(key), STAGE_KEYS)};"
                    f" valid keys: {', '.join(STAGE_KEYS)}",
                    definition,
                    key,
                )
        if definition.get("cmd") is None:
            raise self.fail(
                f"stage '{name}' has no 'cmd'; add the command it runs (cmd: python train.py)",
                self.data.get("stages"),
                name,
            )
        try:
            check_syntax(definition)
        except InterpolationError as exc:
            raise self.fail(f"stage '{name}': {exc}", definition) from None
        self._check_literal_flags(name, definition)

    def _check_literal_flags(self, name: str, definition: dict) -> None:
        """DVC checks these types before interpolating, so `${}` is refused there too."""
        for key in ("frozen", "always_changed"):
            if key in definition and not isinstance(definition[key], bool):
                raise self.fail(
                    f"stage '{name}': '{key}' must be a literal true or false"
                    f" (got {definition[key]!r}; dvc does not interpolate it)",
                    definition,
                    key,
                )

    def _expand_foreach(self, name: str, definition: dict, base: Context, lineno: int | None):
        extra = [k for k in definition if k not in ("foreach", "do")]
        if extra:
            raise self.fail(
                f"stage '{name}': a foreach stage takes only 'foreach' and 'do', not '{extra[0]}';"
                f" move '{extra[0]}' under 'do'",
                definition,
                extra[0],
            )
        template = definition.get("do")
        if not isinstance(template, dict):
            raise self.fail(
                f"stage '{name}': 'foreach' needs a 'do' mapping with the stage definition",
                definition,
                "foreach",
            )
        self._check_template(name, template)
        items = self._foreach_items(name, definition, base)
        has_key = isinstance(items, dict)
        pairs = _foreach_pairs(items)
        self._check_unique(name, [k for k, _ in pairs], definition, "foreach")
        stages = []
        for key, item in pairs:
            extra_vars = {"item": item, "key": key} if has_key else {"item": item}
            ctx = _with_vars(base, extra_vars)
            stages.append(self._build(f"{name}@{key}", template, ctx, lineno, generated=True))
        return stages

    def _foreach_items(self, name: str, definition: dict, base: Context) -> Any:
        try:
            check_syntax(definition["foreach"])
            items = resolve(definition["foreach"], base, "foreach")
        except InterpolationError as exc:
            raise self.fail(f"stage '{name}': 'foreach': {exc}", definition, "foreach") from None
        if not isinstance(items, list | dict):
            raise self.fail(
                f"stage '{name}': 'foreach' must be a list or a mapping"
                f" (or ${{var}} naming one), got {type(items).__name__}",
                definition,
                "foreach",
            )
        return items

    def _expand_matrix(self, name: str, definition: dict, base: Context, lineno: int | None):
        template = {k: v for k, v in definition.items() if k != "matrix"}
        self._check_template(name, template)
        matrix = self._matrix_axes(name, definition, base)
        stages = []
        axes = [[(i, v) for i, v in enumerate(values)] for values in matrix.values()]
        names = list(matrix)
        for combination in product(*axes):
            key = "-".join(
                f"{axis}{i}" if isinstance(v, list | dict) else to_str(v)
                for axis, (i, v) in zip(names, combination, strict=True)
            )
            item = {axis: v for axis, (_, v) in zip(names, combination, strict=True)}
            ctx = _with_vars(base, {"item": item, "key": key})
            stages.append(self._build(f"{name}@{key}", template, ctx, lineno, generated=True))
        return stages

    def _matrix_axes(self, name: str, definition: dict, base: Context) -> dict[str, list]:
        raw = definition["matrix"]
        if not isinstance(raw, dict) or not raw:
            raise self.fail(
                f"stage '{name}': 'matrix' must be a mapping of names to lists"
                " (matrix: {lr: [0.1, 0.01]})",
                definition,
                "matrix",
            )
        try:
            check_syntax(raw)
            matrix = resolve(raw, base, None)
        except InterpolationError as exc:
            raise self.fail(f"stage '{name}': 'matrix': {exc}", definition, "matrix") from None
        for axis, values in matrix.items():
            if not isinstance(values, list):
                raise self.fail(
                    f"stage '{name}': matrix entry '{axis}' must be a list"
                    f" (or ${{var}} naming one), got {type(values).__name__}",
                    definition,
                    "matrix",
                )
        return matrix

    def _check_unique(self, name: str, keys: list[str], owner: dict, field_name: str) -> None:
        if len(set(keys)) != len(keys):
            dup = next(k for k in keys if keys.count(k) > 1)
            raise self.fail(
                f"stage '{name}': '{field_name}' yields the name '{name}@{dup}' twice;"
                " make its items unique",
                owner,
                field_name,
            )

    # -- one stage ------------------------------------------------------------------
    def _build(
        self, name: str, definition: dict, ctx: Context, lineno: int | None, generated: bool
    ) -> Stage:
        wdir = self._stage_wdir(name, definition, ctx)
        if definition.get("vars") is not None:
            ctx = ctx.clone()
            if generated:
                ctx.reserved = frozenset({"item", "key"})
            self._load_vars(ctx, definition["vars"], wdir, name, definition)
        ctx.used = {}
        resolved: dict[str, Any] = {}
        for key, value in definition.items():
            if key == "vars":
                continue
            try:
                resolved[key] = resolve(value, ctx, key)
            except InterpolationError as exc:
                raise self.fail(f"stage '{name}': in '{key}': {exc}", definition, key) from None
        if ctx.used:
            self.tracked[name] = ctx.used
        ctx.used = None
        return _StageBuilder(self, name, definition, wdir, lineno).build(resolved)

    def _stage_wdir(self, name: str, definition: dict, ctx: Context) -> str:
        raw = definition.get("wdir")
        if raw is None or raw == "":
            return self.base_dir
        try:
            value = resolve(raw, ctx, "wdir")
        except InterpolationError as exc:
            raise self.fail(f"stage '{name}': in 'wdir': {exc}", definition, "wdir") from None
        if not isinstance(value, str):
            raise self.fail(f"stage '{name}': 'wdir' must be a string", definition, "wdir")
        return self._checked(name, self.base_dir, value, "wdir", definition)

    def _checked(
        self, name: str, wdir: str, path: str, what: str, owner: Any, **external: bool
    ) -> str:
        try:
            return checked_path(wdir, path, what, **external)
        except ValueError as exc:
            raise self.fail(f"stage '{name}': {exc}", owner, what) from None

    # -- top-level sections ------------------------------------------------------
    def _top_list(self, key: str, base: Context, types: type | tuple[type, ...]) -> list:
        raw = self.data.get(key)
        if raw is None:
            return []
        value = self._resolve_top(key, raw, base)
        if not isinstance(value, list) or not all(isinstance(v, types) for v in value):
            raise self.fail(f"top-level '{key}' must be a list of file names", self.data, key)
        return value

    def _artifacts(self, base: Context) -> dict[str, Any]:
        raw = self.data.get("artifacts")
        if raw is None:
            return {}
        value = self._resolve_top("artifacts", raw, base)
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise self.fail(
                "'artifacts' must map names to mappings with a 'path'", self.data, "artifacts"
            )
        return value

    def _resolve_top(self, key: str, raw: Any, base: Context) -> Any:
        try:
            check_syntax(raw)
            return resolve(raw, base, None)
        except InterpolationError as exc:
            raise self.fail(f"in top-level '{key}': {exc}", self.data, key) from None


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(_has_template(k) or _has_template(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return False


def _foreach_pairs(items: list | dict) -> list[tuple[str, Any]]:
    """(generated key, item) pairs: dict keys; list values; indexes for lists of composites."""
    if isinstance(items, dict):
        return [(to_str(k), v) for k, v in items.items()]
    if any(isinstance(v, list | dict) for v in items):
        return [(str(i), v) for i, v in enumerate(items)]
    return [(to_str(v), v) for v in items]


def _with_vars(base: Context, extra: dict[str, Any]) -> Context:
    """A shallow view of `base` with `item`/`key` set (cheap: no deep copy per item)."""
    return Context({**base.data, **extra}, base.sources, base.imports, base.reserved)


class _StageBuilder:
    """Checks the types of one resolved stage definition and builds the Stage."""

    def __init__(self, loader: _Loader, name: str, raw: dict, wdir: str, lineno: int | None):
        self.loader = loader
        self.name = name
        self.raw = raw
        self.wdir = wdir
        self.lineno = lineno

    def fail(self, message: str, key: str) -> SpecError:
        return self.loader.fail(f"stage '{self.name}': {message}", self.raw, key)

    def build(self, d: dict[str, Any]) -> Stage:
        outs = [out for key in ("outs", "metrics", "plots") for out in self._outs(d, key)]
        return Stage(
            name=self.name,
            dvcfile=self.loader.relpath,
            wdir=self.wdir,
            cmd=self._cmd(d.get("cmd")),
            deps=tuple(Dep(self._path(p, "deps")) for p in self._list(d, "deps", str)),
            params=self._params(d),
            outs=tuple(outs),
            frozen=self._flag(d, "frozen"),
            always_changed=self._flag(d, "always_changed"),
            desc=self._optional_str(d, "desc"),
            meta=d.get("meta"),
            **self._placement(d),
            lineno=self.lineno,
        )

    def _placement(self, d: dict) -> dict[str, Any]:
        """`resources` and `executor` from `meta.llmpipe`, checked here (load time)."""
        try:
            resources, executor = read_placement(d.get("meta"))
        except SpecError as exc:
            raise self.fail(str(exc), "meta") from None
        return {"resources": resources, "executor": executor}

    def _cmd(self, cmd: Any) -> str | tuple[str, ...]:
        if isinstance(cmd, str):
            return cmd
        if isinstance(cmd, list) and cmd and all(isinstance(c, str) for c in cmd):
            return tuple(cmd)
        raise self.fail("'cmd' must be a string or a non-empty list of strings", "cmd")

    def _list(self, d: dict, key: str, types: type | tuple[type, ...]) -> list:
        value = d.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(
                f"'{key}' must be a list, got {type(value).__name__}"
                f" (write it as '{key}: [..]' or one '- item' per line)",
                key,
            )
        for item in value:
            if not isinstance(item, types):
                raise self.fail(
                    f"'{key}' entries must be paths (strings), got {type(item).__name__} {item!r}",
                    key,
                )
        return value

    def _path(self, path: str, key: str) -> str:
        # As dvc: deps may be URLs or lie outside the repository (hashed, never cached);
        # outputs outside it are refused only when a run would save them to the cache.
        external = {"outside": key in _KINDS or key == "deps", "url": key == "deps"}
        self.loader._checked(self.name, self.wdir, path, key, self.raw, **external)
        return path

    def _flag(self, d: dict, key: str) -> bool:
        value = d.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"'{key}' must be true or false, got {value!r}", key)
        return value

    def _optional_str(self, d: dict, key: str) -> str | None:
        value = d.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(f"'{key}' must be a string", key)
        return value

    def _params(self, d: dict) -> tuple[ParamRef, ...]:
        merged: dict[str, list[str]] = {}
        whole: set[str] = set()
        entries = self._list(d, "params", (str, dict))
        for entry in entries:
            if isinstance(entry, dict):
                whole.update(str(f) for f, keys in entry.items() if not keys)
        for entry in entries:
            for file, keys in self._param_entry(entry):
                self._path(file, "params")
                target = merged.setdefault(file, [])
                if file not in whole:
                    target.extend(k for k in keys if k not in target)
        return tuple(ParamRef(f, () if f in whole else tuple(k)) for f, k in merged.items())

    def _param_entry(self, entry: str | dict) -> list[tuple[str, list[str]]]:
        if isinstance(entry, str):
            return [(DEFAULT_PARAMS_FILE, [entry])]
        pairs = []
        for file, keys in entry.items():
            if keys is None:
                keys = []
            if not isinstance(file, str) or not isinstance(keys, list):
                raise self.fail(
                    f"params entry for '{file}' must list keys ({file}: [key1, key2])"
                    f" or be empty for the whole file, got {type(keys).__name__}",
                    "params",
                )
            if not all(isinstance(k, str) for k in keys):
                raise self.fail(f"params keys of '{file}' must be strings", "params")
            pairs.append((file, keys))
        return pairs

    def _outs(self, d: dict, key: str) -> Iterator[Out]:
        kind = _KINDS[key]
        for entry in self._list(d, key, (str, dict)):
            if isinstance(entry, str):
                yield Out(self._path(entry, key), kind=kind)  # type: ignore[arg-type]
                continue
            for path, options in entry.items():
                if not isinstance(path, str):
                    raise self.fail(f"'{key}' paths must be strings, got {path!r}", key)
                yield self._out_with_options(path, options, key, kind)

    def _out_with_options(self, path: str, options: Any, key: str, kind: str) -> Out:
        self._path(path, key)
        if kind == "plot" and isinstance(options, list):
            self.loader.plot_props.setdefault(self.name, {})[path] = options
            return Out(path, kind="plot")
        options = {} if options is None else options
        if not isinstance(options, dict):
            raise self.fail(f"options of '{path}' must be a mapping, e.g. {{cache: false}}", key)
        allowed = PLOT_OPTIONS if kind == "plot" else OUT_OPTIONS
        self._check_options(path, options, allowed, key)
        if kind == "plot":
            props = {k: v for k, v in options.items() if k in PLOT_OPTIONS - OUT_OPTIONS}
            if props:
                self.loader.plot_props.setdefault(self.name, {})[path] = props
        return Out(
            path=path,
            cache=options.get("cache", True),
            persist=options.get("persist", False),
            kind=kind,  # type: ignore[arg-type]
            remote=options.get("remote"),
            push=options.get("push", True),
            desc=options.get("desc"),
        )

    def _check_options(self, path: str, options: dict, allowed: frozenset, key: str) -> None:
        for option, value in options.items():
            if option not in allowed:
                valid = sorted(allowed)
                raise self.fail(
                    f"unknown option '{option}' for '{path}'{suggest(str(option), valid)};"
                    f" valid options: {', '.join(valid)}",
                    key,
                )
            expected = _OUT_TYPES.get(option)
            if expected is not None and not isinstance(value, expected):
                raise self.fail(
                    f"option '{option}' of '{path}' must be {_type_name(expected)}, got {value!r}",
                    key,
                )


def _type_name(expected: type | tuple[type, ...]) -> str:
    return {bool: "true or false", str: "a string", list: "a list"}.get(expected, "valid")  # type: ignore[call-overload]
