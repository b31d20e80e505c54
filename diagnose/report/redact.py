"""Redaction: the account id and every fact a pack marks sensitive, replaced in a report by a stable keyed hash.

A value becomes ``redacted:`` and the first 16 hex digits of HMAC-SHA256(key, value): the same value
under the same key always gives the same token, so redacted reports can still be joined, but the
value cannot be read back without the key. The key comes from ``--redact-key`` or the environment
variable DIAGNOSE_REDACT_KEY; without one, ``DEFAULT_KEY`` is used and the CLI warns, because a
public key lets anyone confirm a guessed value (an account id, an income) by hashing it.

What is replaced, in the Report object before any format renders it:
- the account id, always; and every value at a fact path the pack lists under ``sensitive`` in
  pack.yaml, or below it (``credit`` covers ``credit.score``; list indexes are ignored, so
  ``repayments.id`` covers the id of every repayment);
- in evidence, the actual value of a sensitive fact, and the expected value when it is another
  sensitive fact (``ref``) or is compared for equality or membership (it would show the value);
- everywhere in the texts (titles, explanations, remedies, timeline, warnings), each sensitive
  value as the templates render it (money, percent, dates ...), where it stands as a word of its own.
True and false are not searched for in texts: the words "yes" and "no" say nothing of an account.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from diagnose.vocab import NUMBER_FILTERS, REVEALING_OPERATORS, TIME_FILTERS, segment_path

if TYPE_CHECKING:
    from diagnose.engine.compiled import CompiledRules
    from diagnose.errors import InvalidInput
    from diagnose.records import Report

ENV_KEY = "DIAGNOSE_REDACT_KEY"
DEFAULT_KEY = b"diagnose redact: public default key, v1"
"""The key when none is given. It is published here, so it hides nothing from someone who can guess a value."""
PREFIX = "redacted:"
ALWAYS = ("account.id",)
"""Fact paths redacted whatever the pack says."""

_MAX_DEPTH = 32
_KEEP = frozenset(
    {
        "schema_version", "lang", "verdict", "audience", "rank", "score", "distance", "result", "contributing",
        "rule_id", "family", "severity", "fact", "op", "param", "kind", "missing", "explains", "explained_by",
        "name", "version", "digest",
    }
)  # fmt: skip
"""Report fields that name things of the pack or the contract, never a value of the snapshot."""
_REPORT_PATHS = {
    ("SnapshotRef", "account_id"): "account.id",
    ("SnapshotRef", "as_of"): "as_of",
    ("SnapshotRef", "product"): "account.product",
    **{("LineSummary", name): f"line.{name}" for name in ("currency", "status", "total_limit", "used", "available", "restore_gap")},
}
_INDEX = re.compile(r"\[\d*\]")
_NUMBER_FILTERS = (None, *NUMBER_FILTERS)
_TIME_FILTERS = (None, *TIME_FILTERS)


def resolve_key(explicit: str | None = None) -> tuple[bytes, bool]:
    """The key to hash with: ``explicit`` (--redact-key), else $DIAGNOSE_REDACT_KEY, else DEFAULT_KEY.

    The second item is True when the public default is used: the caller should say so.
    """
    for candidate in (explicit, os.environ.get(ENV_KEY)):
        if candidate:
            return candidate.encode("utf-8", "surrogatepass"), False
    return DEFAULT_KEY, True


def _normal(path: str) -> str:
    return _INDEX.sub("", path.strip())


def _canonical(value: Any) -> bytes:
    """The bytes a value is hashed as: text as itself, anything else as its JSON text."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    from diagnose.records import dumps, jsonable

    return dumps(jsonable(value), indent=False).encode("utf-8", "surrogatepass")


class Redactor:
    """Hashes values and finds them in a report; built once per key and pack, used for any number of reports."""

    def __init__(self, key: bytes, sensitive: Iterable[str] = ()) -> None:
        self.key = key
        self.paths = tuple(sorted({_normal(p) for p in (*ALWAYS, *sensitive) if isinstance(p, str) and p.strip()}))

    def covers(self, path: str) -> bool:
        """Whether the value at a fact path is sensitive: the path or one above it is listed."""
        path = _normal(path)
        return any(path == p or path.startswith(p + ".") for p in self.paths)

    def token(self, value: Any) -> str:
        digest = hmac.new(self.key, _canonical(value), hashlib.sha256).hexdigest()
        return PREFIX + digest[:16]

    # -- what to look for in texts ------------------------------------------------------

    def forms(self, facts: Mapping[str, Any], lang: str) -> dict[str, str]:
        """Every rendering of every sensitive value among ``facts``, mapped to the value's token."""
        found: dict[str, str] = {}
        for path, value in facts.items():
            if isinstance(value, dict) and not self.covers(path):
                continue  # its fields are facts of their own (below a list they are not: lists are walked)
            self._collect(value, path, False, lang, found, 0)
        return found

    def _collect(self, value: Any, path: str, covered: bool, lang: str, out: dict[str, str], depth: int) -> None:
        covered = covered or self.covers(path)
        if depth > _MAX_DEPTH:
            return
        if isinstance(value, dict):
            for key, child in value.items():
                self._collect(child, f"{path}.{key}", covered, lang, out, depth + 1)
        elif isinstance(value, (list, tuple)):
            for child in value:
                self._collect(child, path, covered, lang, out, depth + 1)
        elif covered and value is not None and not isinstance(value, bool):
            token = self.token(value)
            for text in _renderings(value, path, lang):
                if text.strip():
                    out.setdefault(text, token)

    # -- the report ---------------------------------------------------------------------

    def apply(self, report: Report, forms: Mapping[str, str]) -> Report:
        """The report with every sensitive value replaced; ``forms`` from `forms()` (the account id is added here)."""
        every = dict(forms)
        account = report.snapshot.account_id
        for text in _renderings(account, "account.id", report.lang):
            every.setdefault(text, self.token(account))
        scrub = _Scrubber(every)
        out: Report = self._walk(report, scrub, 0)
        return out

    def _walk(self, obj: Any, scrub: _Scrubber, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return obj
        if is_dataclass(obj) and not isinstance(obj, type):
            changes: dict[str, Any] = {}
            kind = type(obj).__name__
            fact = getattr(obj, "fact", None)
            for f in fields(obj):
                if f.name in _KEEP:
                    continue
                old = getattr(obj, f.name)
                path = _REPORT_PATHS.get((kind, f.name))
                new: Any
                if path is not None and self.covers(path) and old is not None:
                    new = self.token(old)
                elif kind == "Report" and f.name == "segments":
                    new = self._segments(old, scrub, depth + 1)
                elif isinstance(fact, str) and f.name == "actual":
                    new = self._value(old, fact, scrub, depth + 1)
                elif isinstance(fact, str) and f.name == "expected":
                    new = self._expected(obj, old, fact, scrub, depth + 1)
                else:
                    new = self._walk(old, scrub, depth + 1)
                if new is not old:
                    changes[f.name] = new
            return replace(obj, **changes) if changes else obj
        if isinstance(obj, list):
            items = [self._walk(x, scrub, depth + 1) for x in obj]
            return items if any(a is not b for a, b in zip(items, obj, strict=True)) else obj
        if isinstance(obj, dict):
            pairs = {k: self._walk(v, scrub, depth + 1) for k, v in obj.items()}
            return pairs if any(pairs[k] is not obj[k] for k in obj) else obj
        if isinstance(obj, str):
            return scrub(obj)
        return obj

    def _segments(self, segments: dict[str, Any], scrub: _Scrubber, depth: int) -> dict[str, Any]:
        """The report's segments: each one of a sensitive fact (a pack may echo one) as its token."""
        out = {name: self._value(value, segment_path(name), scrub, depth) for name, value in segments.items()}
        return out if any(out[k] is not segments[k] for k in segments) else segments

    def _value(self, value: Any, path: str, scrub: _Scrubber, depth: int) -> Any:
        """A fact value in evidence: a token when sensitive; inside objects and lists, each sensitive field."""
        if value is None or depth > _MAX_DEPTH:
            return value
        if self.covers(path):
            return self.token(value)
        if isinstance(value, dict):
            return {k: self._value(v, f"{path}.{k}", scrub, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(v, path, scrub, depth + 1) for v in value]
        if isinstance(value, str):
            return scrub(value)
        return value

    def _expected(self, evidence: Any, expected: Any, fact: str, scrub: _Scrubber, depth: int) -> Any:
        ref = getattr(evidence, "param", None)
        if isinstance(ref, str) and expected is not None and self.covers(ref):
            return self.token(expected)  # compared with another fact: that fact's value
        if self.covers(fact) and getattr(evidence, "op", None) in REVEALING_OPERATORS and expected is not None:
            return [self.token(v) for v in expected] if isinstance(expected, list) else self.token(expected)
        return self._value(expected, "", scrub, depth)


def _renderings(value: Any, path: str, lang: str) -> set[str]:
    """The ways a value can appear in a text: as the templates' filters render it, and plainly."""
    from diagnose.pack import templates as textlib
    from diagnose.snapshot import facts as factlib

    spec = factlib.catalog().get(path)
    shown: set[str] = set()
    filters: tuple[str | None, ...] = ()
    if isinstance(value, str):
        shown.add(value)
        filters = (None,)
    elif isinstance(value, (int, float)):
        filters = _NUMBER_FILTERS
        shown.add(textlib.format_value(value, "text", None, lang))
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            shown.add(str(int(value)))
    elif isinstance(value, (date, datetime)):
        shown.add(value.isoformat())
        filters = _TIME_FILTERS
    for filt in filters:
        shown.add(textlib.format_value(value, filt, spec, lang))
    return shown


def _word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class _Scrubber:
    """Replaces the sensitive renderings that stand as words of their own in a text, longest first.

    "9,000.00" is replaced in "used 9,000.00 of" but "0" is not replaced inside "1,000" or "07:00".
    A scan with one set lookup per candidate length: fast for the handful of values a pack marks.
    """

    def __init__(self, forms: Mapping[str, str]) -> None:
        self.forms = dict(forms)
        self.lengths = sorted({len(f) for f in self.forms}, reverse=True)
        self.starts = {f[0] for f in self.forms}

    def __call__(self, text: str) -> str:
        if not self.forms:
            return text
        n = len(text)
        out: list[str] = []
        last = i = 0
        while i < n:
            if text[i] in self.starts and not self._joined_before(text, i):
                for length in self.lengths:
                    end = i + length
                    if end <= n and text[i:end] in self.forms and not self._joined_after(text, end):
                        out += [text[last:i], self.forms[text[i:end]]]
                        last = i = end
                        break
                else:
                    i += 1
            else:
                i += 1
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    @staticmethod
    def _joined_before(text: str, i: int) -> bool:
        if i == 0:
            return False
        before = text[i - 1]
        return _word(before) or (before in ".," and i >= 2 and text[i - 2].isdigit())

    @staticmethod
    def _joined_after(text: str, end: int) -> bool:
        if end >= len(text):
            return False
        after = text[end]
        return _word(after) or (after in ".," and end + 1 < len(text) and text[end + 1].isdigit())


def redact(report: Report, *, key: bytes, sensitive: Iterable[str] = (), facts: Mapping[str, Any] | None = None) -> Report:
    """The report with the account id and the sensitive facts hashed. ``facts`` (from `facts.derive`) lets the
    values that templates wrote into texts be found too; without them only the account id and evidence are."""
    redactor = Redactor(key, sensitive)
    return redactor.apply(report, redactor.forms(facts or {}, report.lang))


def redact_for_pack(report: Report, pack: CompiledRules, snapshot: Mapping[str, Any], *, key: bytes) -> Report:
    """`redact` with the sensitive paths of ``pack`` and the facts of the snapshot the report was made from."""
    from diagnose.snapshot.contract import validate
    from diagnose.snapshot.facts import derive

    facts = derive(validate(snapshot))
    return redact(report, key=key, sensitive=pack.data.get("sensitive") or (), facts=facts)


def for_pack(pack: CompiledRules, key: bytes) -> Redactor:
    """The redactor of a pack: the account id and the paths its manifest marks sensitive."""
    return Redactor(key, pack.data.get("sensitive") or ())


_PATH_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")
_GOT = re.compile(r"\(got .*?\)(?=;|$)")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _lookup(data: Any, path: str) -> tuple[bool, Any]:
    """The value at an error's path (`repayments[0].id`) in parsed JSON, and whether there is one."""
    node = data
    for index, key in _PATH_PART.findall(path):
        if index and isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
        elif key and isinstance(node, dict) and key in node:
            node = node[key]
        else:
            return False, None
    return True, node


def redact_problems(exc: InvalidInput, redactor: Redactor, data: Any = None) -> InvalidInput:
    """The error with every quoted value at a sensitive path replaced by its token (or, when the value
    cannot be found in ``data``, by words that say one was there)."""
    from diagnose.errors import InvalidInput
    from diagnose.snapshot.scalars import show

    problems = []
    for p in exc.problems:
        if p.path and redactor.covers(p.path):
            found, value = _lookup(data, p.path)
            message, zh = p.message, p.zh
            if found:
                token = redactor.token(value)
                for form in sorted({show(value), repr(value), str(value)}, key=len, reverse=True):
                    if form:
                        message = message.replace(form, token)
                        zh = zh and zh.replace(form, token)
            else:  # the Chinese words are not searched for a value that cannot be found: the English, redacted, stands for both
                message, zh = _QUOTED.sub("(a redacted value)", _GOT.sub("(got a redacted value)", message)), None
            p = p._replace(message=message, zh=zh)
        problems.append(p)
    return InvalidInput(problems, source=exc.source, hint=exc.said_hint())


def redact_data(data: Any, redactor: Redactor, path: str = "", depth: int = 0) -> Any:
    """Parsed snapshot JSON with each value at a sensitive path replaced by its token (list indexes ignored)."""
    if path and redactor.covers(path):
        return redactor.token(data)
    if depth > _MAX_DEPTH:
        return data
    if isinstance(data, dict):
        return {k: redact_data(v, redactor, f"{path}.{k}" if path else str(k), depth + 1) for k, v in data.items()}
    if isinstance(data, list):
        return [redact_data(v, redactor, path, depth + 1) for v in data]
    return data


def redact_raw(raw: bytes, redactor: Redactor) -> str:
    """A rejected record's text for the error report under --redact: the JSON with its sensitive values
    replaced, or nothing when it is not JSON (its values could not be told apart from the rest)."""
    import orjson

    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return ""
    return orjson.dumps(redact_data(data, redactor)).decode() if isinstance(data, dict) else ""


def redact_why(data: dict[str, Any], root: Any, redactor: Redactor, facts: Mapping[str, Any], lang: str) -> tuple[dict[str, Any], Any]:
    """`diagnose why`'s data and condition tree with sensitive values replaced: structurally in the tree's
    leaves, and as rendered in its texts (the nearest miss, what would decide the rule)."""
    scrub = _Scrubber({**redactor.forms(facts, lang), **_account_form(redactor, facts)})

    def node(n: Any) -> Any:
        if n.kind != "leaf":
            return n._replace(children=tuple(node(c) for c in n.children))
        covered = n.fact is not None and redactor.covers(n.fact)
        actual = redactor.token(n.actual) if covered and n.actual is not None else n.actual
        revealing = (n.ref is not None and redactor.covers(n.ref)) or (covered and n.op in REVEALING_OPERATORS)
        expected = redactor.token(n.expected) if revealing and n.expected is not None else n.expected
        return n._replace(actual=actual, expected=expected)

    def walk(obj: Any) -> Any:
        if isinstance(obj, str):
            return scrub(obj)
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    tree = node(root)
    out = walk({k: v for k, v in data.items() if k != "tree"})
    out["tree"] = tree.to_dict(lang)
    return dict(sorted(out.items(), key=lambda kv: list(data).index(kv[0]))), tree


def _account_form(redactor: Redactor, facts: Mapping[str, Any]) -> dict[str, str]:
    account = facts.get("account.id")
    return {account: redactor.token(account)} if isinstance(account, str) and account else {}
