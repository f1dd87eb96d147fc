"""The phrase coach: weak phrasing in what an agent writes, with the reason and a better way.

The rules are data (``scripts_library/coach/<lang>.yaml``), one list per language. A rule
names what to avoid as regular expressions, the words that make a match harmless (so "Thank
you for holding" is never taken for "hold on"), why it is weak, what to say instead, and
optionally the replacement a one-click fix puts in. Findings are character offsets into the
text, so an editor can underline them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from agentdesk.domain.yamlfile import load_with_lines

LANGUAGES: Final = ("en", "zh", "nb")
LANGUAGE_ALIASES: Final = {"zh_CN": "zh", "zh-CN": "zh", "zh-Hans": "zh", "no": "nb", "nb_NO": "nb"}
SEVERITIES: Final = ("warning", "info")
RULES_DIR: Final = Path(__file__).resolve().parents[2] / "scripts_library" / "coach"


class CoachRulesError(ValueError):
    """A rule file that cannot be used, with the file and line at fault."""


def language_of(code: str) -> str:
    """The coach's language for a code such as ``zh_CN`` or ``nb``; raises ValueError."""
    lang = LANGUAGE_ALIASES.get(code, code)
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of en, zh (zh_CN), nb; got {code!r}")
    return lang


@dataclass(frozen=True)
class Finding:
    """One weak phrase in the text: ``text[start:end]``."""

    rule: str
    start: int
    end: int
    text: str
    severity: str
    suggestion: str
    reason: str = ""
    replacement: str | None = None  # what the one-click fix puts in, if there is one
    action: str | None = None  # e.g. "set-time": offer to pick a concrete date and time

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "severity": self.severity,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class Rule:
    id: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    reason: str
    suggestion: str
    severity: str = "warning"
    replacement: str | None = None
    action: str | None = None
    line: int = 0

    def find(self, text: str) -> Iterable[tuple[int, int]]:
        spared = [m.span() for u in self.unless for m in u.finditer(text)]
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                # A pattern may mark the weak words with a group named "hit" and use the rest
                # as context.
                start, end = match.span("hit") if "hit" in pattern.groupindex else match.span()
                if start == end:
                    continue
                if any(s <= start and end <= e for s, e in spared):
                    continue
                yield start, end


@dataclass
class Coach:
    """The rules of one language."""

    lang: str
    rules: list[Rule] = field(default_factory=list)

    def findings(self, text: str) -> list[Finding]:
        """Every weak phrase, in text order; overlapping matches keep the longest."""
        found: list[Finding] = []
        for rule in self.rules:
            for start, end in rule.find(text):
                found.append(
                    Finding(
                        rule=rule.id,
                        start=start,
                        end=end,
                        text=text[start:end],
                        severity=rule.severity,
                        suggestion=rule.suggestion,
                        reason=rule.reason,
                        replacement=rule.replacement,
                        action=rule.action,
                    )
                )
        found.sort(key=lambda f: (f.start, -(f.end - f.start), f.rule))
        kept: list[Finding] = []
        for finding in found:
            if kept and finding.start < kept[-1].end:
                continue
            kept.append(finding)
        return kept


def apply_fix(text: str, finding: Finding) -> str:
    """The text with the finding's one-click fix applied (unchanged if it has none)."""
    if finding.replacement is None or text[finding.start : finding.end] != finding.text:
        return text
    replacement = finding.replacement
    if finding.text[:1].isupper() and replacement[:1].islower():
        replacement = replacement[:1].upper() + replacement[1:]
    return text[: finding.start] + replacement + text[finding.end :]


# --- loading ---------------------------------------------------------------------------------


def _compile(
    path: Path, line: int, rule_id: str, key: str, values: Any
) -> tuple[re.Pattern[str], ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise CoachRulesError(f"{path}:{line}: rule {rule_id}: {key} must be a list of patterns")
    compiled = []
    for value in values:
        try:
            compiled.append(re.compile(value, re.IGNORECASE))
        except re.error as exc:
            raise CoachRulesError(
                f"{path}:{line}: rule {rule_id}: {key} pattern {value!r} is not valid: {exc}"
            ) from None
    return tuple(compiled)


def parse_rules(path: Path, document: Any) -> list[Rule]:
    if not isinstance(document, Mapping) or not isinstance(document.get("rules"), list):
        raise CoachRulesError(f"{path}:1: expected a mapping with a list of rules under 'rules'")
    rules: list[Rule] = []
    seen: set[str] = set()
    for raw in document["rules"]:
        line = int(raw.get("__line__", 0)) if isinstance(raw, Mapping) else 0
        if not isinstance(raw, Mapping):
            raise CoachRulesError(f"{path}:{line}: each rule must be a mapping")
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not rule_id:
            raise CoachRulesError(f"{path}:{line}: a rule needs an id")
        if rule_id in seen:
            raise CoachRulesError(f"{path}:{line}: rule {rule_id} appears twice")
        seen.add(rule_id)
        unknown = set(raw) - {
            "id",
            "avoid",
            "unless",
            "reason",
            "suggestion",
            "severity",
            "replace",
            "action",
            "__line__",
        }
        if unknown:
            raise CoachRulesError(
                f"{path}:{line}: rule {rule_id}: unknown keys {', '.join(sorted(unknown))}"
            )
        patterns = _compile(path, line, rule_id, "avoid", raw.get("avoid"))
        if not patterns:
            raise CoachRulesError(f"{path}:{line}: rule {rule_id}: 'avoid' needs a pattern")
        for key in ("reason", "suggestion"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise CoachRulesError(f"{path}:{line}: rule {rule_id}: '{key}' is required")
        severity = raw.get("severity", "warning")
        if severity not in SEVERITIES:
            raise CoachRulesError(
                f"{path}:{line}: rule {rule_id}: severity must be one of {', '.join(SEVERITIES)}"
            )
        replacement = raw.get("replace")
        if replacement is not None and not isinstance(replacement, str):
            raise CoachRulesError(f"{path}:{line}: rule {rule_id}: 'replace' must be text")
        rules.append(
            Rule(
                id=rule_id,
                patterns=patterns,
                unless=_compile(path, line, rule_id, "unless", raw.get("unless")),
                reason=raw["reason"].strip(),
                suggestion=raw["suggestion"].strip(),
                severity=severity,
                replacement=replacement,
                action=raw.get("action"),
                line=line,
            )
        )
    return rules


def load_coach(lang: str, directory: Path = RULES_DIR) -> Coach:
    """The coach for ``lang`` (``en``, ``zh``/``zh_CN``, ``nb``) from its rule file."""
    code = language_of(lang)
    path = directory / f"{code}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CoachRulesError(f"{path}: cannot be read: {exc.strerror}") from None
    document = load_with_lines(path, text, CoachRulesError)
    return Coach(code, parse_rules(path, document))


def check_rules(paths: Sequence[Path]) -> list[str]:
    """Problems found in rule files (empty when they are all usable)."""
    problems = []
    for path in paths:
        try:
            load_coach(path.stem, path.parent)
        except (CoachRulesError, ValueError) as exc:
            problems.append(str(exc))
    return problems
