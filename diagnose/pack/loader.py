"""Reading a rule pack's files once, with positions, and building the Pack from whatever is valid in them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from diagnose.errors import InvalidPack, PackProblem, UsageError
from diagnose.errorwords import Said, say
from diagnose.pack.checks import check, did_you_mean
from diagnose.pack.files import MANIFEST, MAX_PACK_FILES, OutsidePack, default_pack_path, read_inside, resolve, rule_files
from diagnose.pack.model import (
    BASE_NAME,
    AllOf,
    AnyOf,
    Disable,
    Example,
    Examples,
    Leaf,
    Manifest,
    NotOf,
    Overrides,
    Pack,
    Parameter,
    Remedies,
    Rule,
    RuleFile,
    RuleSource,
    Text,
    Unparsed,
)
from diagnose.pack.problems import schema_problems, validate_keeping
from diagnose.pack.yamlpos import Located, YamlError
from diagnose.pack.yamlpos import load as load_yaml
from diagnose.snapshot import facts as factlib
from diagnose.userdocs import see

__all__ = [  # the models are re-exported: `from diagnose.pack.loader import load, Pack, Rule` keeps working
    "AllOf",
    "AnyOf",
    "Disable",
    "Example",
    "Examples",
    "Leaf",
    "Loaded",
    "Manifest",
    "NotOf",
    "Overrides",
    "Pack",
    "Parameter",
    "Remedies",
    "Rule",
    "RuleFile",
    "RuleSource",
    "Text",
    "Unparsed",
    "load",
    "read",
]

MAX_FILE_BYTES = 2_000_000
MAX_PACK_BYTES = 10_000_000
"""All the files of one pack together (a base pack's not counted)."""
_MANIFEST_ITEMS = {
    "parameters",
    "families",
    "clear_steps",
    "overrides.parameters",
    "overrides.weights",
    "overrides.disable",
    "sensitive",
    "segments",
}
"""Collections of the manifest whose items stand alone: a bad one is reported and the others kept."""
MAX_EXTENDS = 8
"""Packs in one `extends` chain at the most."""

_IS_A_PACK = f"a rule pack is a folder with a pack.yaml: {see('rules')}"


@dataclass
class Loaded:
    """What reading a pack gave: the pack built from whatever was valid, every problem, and each file as parsed once."""

    root: Path
    pack: Pack | None
    problems: list[PackProblem]
    parsed: dict[str, Located] = field(default_factory=dict)
    """Each file read, by the path problems name it with: positions for whoever reports on it."""
    texts: dict[str, str] = field(default_factory=dict)
    """The text of each file read (also of one that did not parse), for views that quote a line."""

    @property
    def errors(self) -> list[PackProblem]:
        return [p for p in self.problems if p.level == "error"]


def load(path: str | Path | None = None, *, _chain: tuple[Path, ...] = ()) -> Pack:
    """Load and validate a pack folder (or the default pack); raise InvalidPack listing every problem."""
    loaded = read(path, _chain=_chain)
    if loaded.errors or loaded.pack is None:
        raise InvalidPack(loaded.errors or [PackProblem(str(loaded.root), "invalid rule pack")], source=str(loaded.root))
    return loaded.pack


def read(path: str | Path | None = None, *, _chain: tuple[Path, ...] = ()) -> Loaded:
    """Read every file of a pack and check it; never raises for a broken pack: its problems are in the result."""
    root = resolve(path)
    if not root.exists():  # a mistyped path is the caller's mistake (usage), not a broken pack
        raise UsageError(say("pack.missing"), source=str(root), hint=say("pack.is_a_folder", page=Said(see("rules"), see("rules", "zh"))))
    if not root.is_dir():
        return Loaded(root, None, [PackProblem(str(root), "not a folder", hint=_IS_A_PACK)])
    if not (root / MANIFEST).is_file():
        problem = PackProblem(str(root / MANIFEST), "the pack has no manifest", hint="add pack.yaml with name, version and parameters")
        return Loaded(root, None, [problem])
    return _Reader(root, _chain).run()


class _Reader:
    """One reading of one pack: the steps of `read`, sharing the problems found and what was parsed."""

    def __init__(self, root: Path, chain: tuple[Path, ...] = ()) -> None:
        self.root = root
        self.chain = chain
        """The packs that extend this one, nearest last: a cycle of `extends` is refused."""
        self.problems: list[PackProblem] = []
        self.parsed: dict[str, Located] = {}
        self.texts: dict[str, str] = {}
        self.hasher = hashlib.sha256()
        self.budget = MAX_PACK_BYTES
        self.unparsed: dict[str, set[str]] = {"rules": set(), "params": set(), "families": set()}
        self.unknown: set[str] = set()

    def run(self) -> Loaded:
        manifest_path = self.root / MANIFEST
        manifest, manifest_at = self.read_manifest(manifest_path)
        base = self.read_base(manifest, manifest_at) if manifest is not None else None
        if base is None and manifest is not None and manifest.extends is not None:
            return self.result(None)
        parameters: dict[str, Parameter] = dict(base.parameters) if base else {}
        origin: dict[str, str] = {}
        for name, prm in (manifest.parameters if manifest else {}).items():
            parameters[name] = prm
            origin[name] = str(manifest_path)
        rules: dict[str, Rule] = {r.id: r for r in base.rules} if base else {}
        sources: dict[str, RuleSource] = dict(base.sources) if base else {}
        files = self.rule_file_paths()
        self.read_rule_files(files, parameters, origin, rules, sources)
        disabled = self.apply_overrides(manifest, manifest_at, parameters, rules) if manifest else {}
        if manifest is None:
            if not self.problems:
                self.problems.append(PackProblem(str(manifest_path), "invalid manifest"))
            return self.result(None)
        pack = Pack(
            files=[manifest_path, *files, *(base.files if base else [])],
            root=self.root,
            manifest=manifest,
            parameters=parameters,
            rules=sorted(rules.values(), key=lambda r: r.id),
            sources=sources,
            digest="sha256:" + self.hasher.hexdigest(),
            disabled=disabled,
            clear_steps={**(base.clear_steps if base else {}), **manifest.clear_steps},
            base=base,
            manifest_at=manifest_at,
            unparsed=Unparsed(
                rules=frozenset(self.unparsed["rules"]),
                params=frozenset(self.unparsed["params"]),
                families=frozenset(self.unparsed["families"]),
                unknown=frozenset(self.unknown),
            ),
        )
        self.problems += [_relocate(pack, p) for p in check(pack)]
        return self.result(pack)

    def result(self, pack: Pack | None) -> Loaded:
        return Loaded(self.root, pack, self.problems, self.parsed, self.texts)

    # --- the steps ---------------------------------------------------------------------

    def parse(self, path: Path, declares: tuple[str, ...]) -> tuple[str, Located] | None:
        """A file's text and data with positions, once; None (and a problem) when it cannot be read or parsed.

        ``declares`` names the kinds the file may define: when it cannot be read, names of those kinds are not called unknown.
        """
        shown = str(path)
        text = self.read_text(path, shown)
        if text is None:
            self.unknown.update(declares)
            return None
        self.texts[shown] = text
        try:
            located = load_yaml(text)
        except YamlError as exc:
            self.problems.append(PackProblem(shown, exc.message, exc.line, exc.column, hint=exc.hint, code="yaml"))
            self.unknown.update(declares)
            return None
        self.parsed[shown] = located
        return text, located

    def read_text(self, path: Path, shown: str) -> str | None:
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                self.problems.append(PackProblem(shown, f"file is {size:,} bytes; at most {MAX_FILE_BYTES:,} are read", code="too-large"))
                return None
            if size > self.budget:
                message = f"the pack's files pass {MAX_PACK_BYTES:,} bytes together; this one is not read"
                self.problems.append(PackProblem(shown, message, code="too-large"))
                return None
            self.budget -= size
            raw = read_inside(path.parent, path.name, max_bytes=MAX_FILE_BYTES)
        except OutsidePack as exc:
            self.problems.append(PackProblem(shown, str(exc), hint="a pack's files are regular files inside its folder", code="unreadable"))
            return None
        except OSError as exc:
            self.problems.append(PackProblem(shown, f"cannot read: {exc.strerror or exc}", code="unreadable"))
            return None
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.problems.append(PackProblem(shown, f"not UTF-8 text (byte {exc.start})", hint="save rule files as UTF-8", code="encoding"))
            return None

    def read_manifest(self, path: Path) -> tuple[Manifest | None, Located]:
        shown = str(path)
        parsed = self.parse(path, ("params", "families"))
        if parsed is None:
            return None, Located(None)
        text, located = parsed
        self.hasher.update(b"pack.yaml\0" + text.encode() + b"\0")
        if not isinstance(located.data, dict):
            self.problems.append(PackProblem(shown, "the manifest must be a mapping", 1, 1, code="invalid-value"))
            return None, located
        manifest, dropped = validate_keeping(Manifest, located, shown, _MANIFEST_ITEMS, self.problems)
        for cut in dropped:
            kind = {"parameters": "params", "families": "families"}.get(str(cut[0]))
            if kind is not None and len(cut) > 1:
                self.unparsed[kind].add(str(cut[1]))
            elif kind is not None:
                self.unknown.add(kind)  # the whole section is gone: any name of it may exist
        if manifest is None:
            return None, located
        self.check_sensitive(manifest, located, shown)
        return manifest, located

    def check_sensitive(self, manifest: Manifest, located: Located, shown: str) -> None:
        named = [(key, i, name) for key in ("sensitive", "segments") for i, name in enumerate(getattr(manifest, key))]
        for key, i, name in named:
            if not (factlib.is_fact_path(name) or name in _item_paths()):
                line, col, end_line, end_col = located.span((key, i))
                self.problems.append(
                    PackProblem(
                        shown,
                        f"`{key}` names unknown fact `{name[:100]}`",
                        line,
                        col,
                        hint=did_you_mean(name, list(factlib.catalog())) or "`diagnose facts` lists every fact",
                        code="unknown-fact",
                        end_line=end_line,
                        end_column=end_col,
                    )
                )

    def read_base(self, manifest: Manifest, located: Located) -> Pack | None:
        """The pack ``extends`` names, loaded whole; None when the manifest extends nothing or the base is broken."""
        if manifest.extends is None:
            return None
        line, col = located.where(("extends",))
        shown = str(self.root / MANIFEST)
        extends = manifest.extends
        target = default_pack_path() if extends == BASE_NAME else self.root / extends
        seen = (*self.chain, self.root.resolve())
        if target.resolve() in seen:
            what = "the default pack cannot extend itself" if extends == BASE_NAME else f"`extends: {extends}` forms a cycle"
            self.problems.append(PackProblem(shown, what, line, col, code="invalid-value"))
            return None
        if len(seen) >= MAX_EXTENDS:
            self.problems.append(PackProblem(shown, f"more than {MAX_EXTENDS} packs extend one another", line, col, code="too-large"))
            return None
        if not (target / MANIFEST).is_file():
            hint = "`extends` takes `default` or the folder of a pack (with a pack.yaml), relative to this pack"
            self.problems.append(
                PackProblem(shown, f"`extends: {extends}` names no pack folder", line, col, hint=hint, code="invalid-value")
            )
            return None
        try:
            base = load(target, _chain=seen)
        except InvalidPack as exc:
            for p in exc.problems:
                where = f"{p.file}:{p.line}" if p.line else p.file
                message = f"the {BASE_NAME} pack this pack extends is broken: {where}: {p.message}"
                self.problems.append(PackProblem(str(self.root / MANIFEST), message, line, col, p.rule_id, p.hint, p.code))
            return None
        self.hasher.update(b"extends\0" + base.digest.encode())
        return base

    def rule_file_paths(self) -> list[Path]:
        files = rule_files(self.root)
        if len(files) > MAX_PACK_FILES:
            self.problems.append(
                PackProblem(str(self.root), f"{len(files)} rule files; at most {MAX_PACK_FILES} are read", code="too-large")
            )
            files = files[:MAX_PACK_FILES]
        return files

    def read_rule_files(
        self,
        files: list[Path],
        parameters: dict[str, Parameter],
        origin: dict[str, str],
        rules: dict[str, Rule],
        sources: dict[str, RuleSource],
    ) -> None:
        own: dict[str, str] = {}
        for file in files:
            parsed = self.parse(file, ("rules", "params"))
            if parsed is None:
                continue
            text, located = parsed
            self.hasher.update(file.name.encode() + b"\0" + text.encode() + b"\0")
            shown = str(file)
            for name, prm in self.file_parameters(located, shown).items():
                for n, dv in enumerate(prm.dated):
                    where = located.where(("parameters", name, "dated", n, "in_force"))
                    if dv.in_force.empty():
                        self.problems.append(
                            PackProblem(shown, f"parameter `{name}`: in_force {dv.in_force.said()} is empty", *where, code="in-force-empty")
                        )
                    if any(dv.in_force.overlaps(other.in_force) for other in prm.dated[:n]):
                        message = f"parameter `{name}`: dated values overlap ({dv.in_force.said()})"
                        self.problems.append(PackProblem(shown, message, *where, code="in-force-overlap"))
                if name in origin:
                    line, col, end_line, end_col = located.span(("parameters", name, "__key__"))
                    message = f"parameter `{name}` is already declared in {origin[name]}"
                    self.problems.append(
                        PackProblem(shown, message, line, col, code="duplicate-param", end_line=end_line, end_column=end_col)
                    )
                parameters[name] = prm
                origin[name] = shown
            for index, rule in self.file_rules(located, shown):
                line, _ = located.where(("rules", index))
                if rule.in_force is not None and rule.in_force.empty():
                    where = located.where(("rules", index, "in_force"))
                    self.problems.append(
                        PackProblem(shown, f"{rule.id}: in_force {rule.in_force.said()} is empty", *where, rule.id, code="in-force-empty")
                    )
                variants = [r for r in rules.values() if r.id == rule.id]
                if rule.in_force is not None and variants and all(r.in_force is not None for r in variants):
                    clash = next((r for r in variants if r.in_force is not None and r.in_force.overlaps(rule.in_force)), None)
                    if clash is not None and clash.in_force is not None:
                        where = located.where(("rules", index, "in_force"))
                        message = f"{rule.id}: in force {rule.in_force.said()}, which overlaps its variant in force {clash.in_force.said()}"
                        self.problems.append(PackProblem(shown, message, *where, rule.id, code="in-force-overlap"))
                        continue
                    key = f"{rule.id}@{rule.in_force.from_ or ''}"  # a dated variant: the day it comes into force
                    own[key] = f"{shown}:{line}"
                    rules[key] = rule
                    sources[key] = RuleSource(shown, line, located, index)
                    continue
                if rule.id in own:
                    id_line, id_col, end_line, end_col = located.span(("rules", index, "id"))
                    message = f"duplicate rule id {rule.id} (first defined in {own[rule.id]})"
                    self.problems.append(
                        PackProblem(shown, message, id_line, id_col, rule.id, code="duplicate-id", end_line=end_line, end_column=end_col)
                    )
                    continue
                own[rule.id] = f"{shown}:{line}"
                rules[rule.id] = rule
                sources[rule.id] = RuleSource(shown, line, located, index)

    def file_shape(self, located: Located, shown: str) -> bool:
        """Whether a rule file is a mapping of `parameters` and `rules` of the right kinds (problems when not)."""
        data = located.data
        if data is None:
            return False  # an empty file: nothing to read
        if not isinstance(data, dict):
            self.problems.append(PackProblem(shown, "a rule file must be a mapping with `rules:`", 1, 1, code="invalid-value"))
            self.unknown.update(("rules", "params"))
            return False
        empty: dict[str, Any] = {"parameters": {}, "rules": []}
        shape = {k: (empty[k] if k in empty and isinstance(v, type(empty[k])) else v) for k, v in data.items()}
        try:
            RuleFile.model_validate(shape)
        except ValidationError as exc:
            self.problems += schema_problems(exc, Located(shape, located.positions, located.ends), shown, root=RuleFile)
            for key, kind in (("rules", "rules"), ("parameters", "params")):
                if key in data and not isinstance(data[key], type(empty[key])):
                    self.unknown.add(kind)
        return True

    def file_parameters(self, located: Located, shown: str) -> dict[str, Parameter]:
        if not self.file_shape(located, shown):
            return {}
        raw = located.data.get("parameters")
        out: dict[str, Parameter] = {}
        for name, value in (raw if isinstance(raw, dict) else {}).items():
            try:
                out[name] = Parameter.model_validate(value)
            except ValidationError as exc:
                self.problems += schema_problems(exc, located, shown, ("parameters", name), root=RuleFile)
                self.unparsed["params"].add(name)
        return out

    def file_rules(self, located: Located, shown: str) -> list[tuple[int, Rule]]:
        """Each valid rule of a file with its index; each invalid one reported, so one bad rule hides no other."""
        raw = located.data.get("rules") if isinstance(located.data, dict) else None
        out: list[tuple[int, Rule]] = []
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            try:
                out.append((index, Rule.model_validate(item)))
            except ValidationError as exc:
                self.problems += schema_problems(exc, located, shown, ("rules", index), root=RuleFile)
                rid = item.get("id") if isinstance(item, dict) else None
                if isinstance(rid, str):
                    self.unparsed["rules"].add(rid)
                if isinstance(item, dict):
                    self.unparsed_uses(item)
        return out

    def unparsed_uses(self, item: dict[str, Any]) -> None:
        """A rule that did not validate may still name a family: do not call it unused or unknown."""
        if isinstance(item.get("family"), str):
            self.unparsed["families"].add(item["family"])

    def apply_overrides(
        self, manifest: Manifest, located: Located, parameters: dict[str, Parameter], rules: dict[str, Rule]
    ) -> dict[str, str]:
        """Change the parameters the overrides name and drop the rules they disable; return the reason for each."""
        shown = str(self.root / MANIFEST)
        disabled: dict[str, str] = {}
        if manifest.overrides is None:
            return disabled
        for name, value in manifest.overrides.parameters.items():
            if name not in parameters:
                line, col, end_line, end_col = located.span(("overrides", "parameters", name, "__key__"))
                hint = did_you_mean(name, list(parameters)) or "`overrides.parameters` changes parameters the pack (or its base) declares"
                message = f"override of unknown parameter `{name}`"
                self.problems.append(
                    PackProblem(shown, message, line, col, code="unknown-param", hint=hint, end_line=end_line, end_column=end_col)
                )
                continue
            parameters[name] = parameters[name].model_copy(update={"value": value})
        for rid, weight in manifest.overrides.weights.items():
            if rid not in rules:
                line, col, end_line, end_col = located.span(("overrides", "weights", rid, "__key__"))
                hint = did_you_mean(rid, sorted(rules)) or "`overrides.weights` changes rules the pack (or its base) defines"
                self.problems.append(
                    PackProblem(
                        shown,
                        f"weight override of unknown rule {rid}",
                        line,
                        col,
                        rid,
                        hint,
                        code="unknown-rule",
                        end_line=end_line,
                        end_column=end_col,
                    )
                )
                continue
            rules[rid] = rules[rid].model_copy(update={"weight": weight})
        for n, item in enumerate(manifest.overrides.disable):
            if item.id not in rules:
                line, col, end_line, end_col = located.span(("overrides", "disable", n, "id"))
                message = f"cannot disable unknown rule {item.id}"
                near = did_you_mean(item.id, sorted(rules))
                self.problems.append(
                    PackProblem(shown, message, line, col, item.id, near, code="unknown-rule", end_line=end_line, end_column=end_col)
                )
                continue
            disabled[item.id] = item.reason
            del rules[item.id]
        return disabled


def _relocate(pack: Pack, p: PackProblem) -> PackProblem:
    """A problem in an inherited rule, moved to the author's manifest (the override that matters, or `extends`)."""
    if pack.base is None or p.rule_id is None or not pack.inherited(p.rule_id):
        return p
    file, line, col = pack.inherited_place(p.rule_id)
    read = pack.overrides_read(p.rule_id)
    because = f", which reads this pack's override of {', '.join(read)}" if read else ""
    message = f"{p.message}; in {p.rule_id} ({pack.base_place(p.file, p.line)}){because}"
    return p._replace(file=file, line=line, column=col, message=message)


def _item_paths() -> set[str]:
    """Fields of list items by path without indexes (`repayments.id`): what `sensitive` may also name."""
    from diagnose.snapshot.contract import artifact

    out: set[str] = set()
    for where, keys in artifact()["objects"].items():
        base = where.replace("[]", "")
        out.update(f"{base}.{key}" if base else key for key in keys)
    return out
