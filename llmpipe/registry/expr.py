"""A tiny, safe expression language for promotion gates and monitoring checks (no eval).

    check   := sum OP sum            OP: <= < >= > == !=
    sum     := term (('+' | '-') term)*
    term    := factor (('*' | '/') factor)*
    factor  := NUMBER | NAME | '(' sum ')' | '-' factor
    NAME    := metrics.<path> | current.<path> | registered.<path> | current | registered

`metrics.X` is the candidate's metric X (a flattened key such as
`test_perplexity` or `eval.loss`); `current.X` is X of the version now
holding the alias, `registered.X` X as recorded at registration. A bare
`current`/`registered` means the same metric as the first `metrics.X` of the
check. A check that needs `current` when the alias holds no version yet
passes, and says so.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_./]*)"
    r"|(?P<op><=|>=|==|!=|<|>|[-+*/()]))"
)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge,
    ">": operator.gt, "==": operator.eq, "!=": operator.ne,
}  # fmt: skip
_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
}  # fmt: skip
SCOPES = ("metrics", "current", "registered")


class Skip(Exception):  # noqa: N818 - a signal, not an error: the check does not apply
    """A check needs a value that does not exist yet (no current holder of the alias)."""


@dataclass(frozen=True)
class CheckResult:
    expression: str
    passed: bool
    left: float | None
    right: float | None
    note: str = ""

    def describe(self) -> str:
        if self.note:
            return f"{self.expression}: {self.note}"
        return f"{self.expression}: {_num(self.left)} {self._op()} {_num(self.right)}"

    def _op(self) -> str:
        for op in ("<=", ">=", "==", "!=", "<", ">"):
            if op in self.expression:
                return op
        return "?"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ConfigError(f"check '{text}': cannot read '{text[pos:].strip()}'")
        tokens.append(match.group(match.lastgroup or "op"))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, scopes: Mapping[str, Mapping[str, Any] | None]) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.scopes = scopes
        names = [t for t in self.tokens if t.startswith("metrics.")]
        self.default_metric = names[0][len("metrics.") :] if names else None

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ConfigError(f"check '{self.text}': ends too early")
        self.pos += 1
        return token

    def check(self) -> tuple[float, str, float]:
        left = self.sum()
        op = self.take()
        if op not in _COMPARE:
            raise ConfigError(f"check '{self.text}': expected a comparison, found '{op}'")
        right = self.sum()
        if self.peek() is not None:
            raise ConfigError(f"check '{self.text}': unexpected '{self.peek()}'")
        return left, op, right

    def sum(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = _ARITH[self.take()](value, self.term())
        return value

    def term(self) -> float:
        value = self.factor()
        while self.peek() in ("*", "/"):
            op = self.take()
            operand = self.factor()
            if op == "/" and operand == 0:
                raise ConfigError(f"check '{self.text}': division by zero")
            value = _ARITH[op](value, operand)
        return value

    def factor(self) -> float:
        token = self.take()
        if token == "-":
            return -self.factor()
        if token == "(":
            value = self.sum()
            if self.take() != ")":
                raise ConfigError(f"check '{self.text}': missing ')'")
            return value
        if token[0].isdigit() or token[0] == ".":
            return float(token)
        if token in _COMPARE or token in _ARITH or token == ")":
            raise ConfigError(f"check '{self.text}': unexpected '{token}'")
        return self.name(token)

    def name(self, token: str) -> float:
        scope, _, metric = token.partition(".")
        if scope not in SCOPES:
            raise ConfigError(
                f"check '{self.text}': unknown name '{token}' "
                "(use metrics.X, current.X, registered.X)"
            )
        metric = metric or (self.default_metric or "")
        if not metric:
            raise ConfigError(f"check '{self.text}': '{scope}' needs a metric (e.g. {scope}.loss)")
        values = self.scopes.get(scope)
        if values is None:
            raise Skip(f"no {scope} version to compare with")
        if metric not in values:
            known = ", ".join(sorted(values)) or "none"
            raise KeyError(f"{scope} has no metric '{metric}' (metrics: {known})")
        return _as_number(values[metric], f"{scope}.{metric}")


def _as_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise KeyError(f"{name} is {value!r}, not a number")
    return float(value)


def validate(text: str) -> None:
    """Raise ConfigError if `text` is not a well-formed check."""
    names = {t.partition(".")[0] for t in tokenize(text) if t[0].isalpha()}
    dummy = {scope: _Anything() for scope in SCOPES}
    bad = names - set(SCOPES)
    if bad:
        raise ConfigError(f"check '{text}': unknown name(s) {sorted(bad)}")
    _Parser(text, dummy).check()


class _Anything(dict):
    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: Any) -> Any:
        return 1.0


def evaluate(text: str, scopes: Mapping[str, Mapping[str, Any] | None]) -> CheckResult:
    """Evaluate one check; a missing metric fails it, a missing `current` version skips it."""
    try:
        left, op, right = _Parser(text, scopes).check()
    except Skip as skip:
        return CheckResult(text, True, None, None, f"passed ({skip})")
    except KeyError as exc:
        return CheckResult(text, False, None, None, f"FAILED: {exc.args[0]}")
    return CheckResult(text, _COMPARE[op](left, right), left, right)
