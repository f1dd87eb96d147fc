"""Rehearsal: scenarios of simulated callers, and an explainable scorer for the trainee's replies.

A scenario (``scripts_library/scenarios/<lang>/<id>.yaml``) is a list of turns: the caller's
line, the section of the call it trains, the model answer, and a rubric. A rubric names the
**elements** a right reply has (each with patterns that accept natural variations, not only the
model answer's words), the **order** some of them must come in (a greeting; TEXAS), and phrases
to avoid beyond the phrase coach's own rules. Whole-call rules look at every reply together:
the caller's name used three times, no vague times, promises summarised at the close.

Every point won or lost comes with a reason; the scorer takes the language's coach for the
words to avoid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from agentdesk.domain.coach import Coach, language_of, load_coach
from agentdesk.domain.scripts import name_uses
from agentdesk.domain.yamlfile import load_with_lines

SCENARIOS_DIR: Final = Path(__file__).resolve().parents[2] / "scripts_library" / "scenarios"
SECTIONS: Final[dict[str, str]] = {
    "greeting": "Greeting",
    "listening": "Listening and questions",
    "solution": "Solution",
    "empathy": "Empathy and complaint handling",
    "hold": "Hold and transfer",
    "closing": "Closing",
}
PASS_MARK: Final = 70
AVOID_PENALTY: Final = 20
ORDER_PENALTY: Final = 15
FOLDER_FOR: Final = {"en": "en", "zh": "zh_CN", "nb": "nb"}


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with the file and line at fault."""


@dataclass(frozen=True)
class Element:
    """Something a right reply contains."""

    id: str
    text: str  # what it is, for the feedback ("your full name")
    patterns: tuple[re.Pattern[str], ...]
    suggestion: str = ""
    weight: float = 1.0

    def first(self, reply: str) -> int | None:
        """Where in the reply it first appears, or None."""
        spots = [m.start() for p in self.patterns for m in [p.search(reply)] if m is not None]
        return min(spots) if spots else None


@dataclass(frozen=True)
class Avoid:
    """A phrase the scenario itself rules out (beyond the coach's rules)."""

    patterns: tuple[re.Pattern[str], ...]
    reason: str
    suggestion: str


@dataclass(frozen=True)
class Turn:
    caller: str
    section: str
    model: str
    elements: tuple[Element, ...] = ()
    order: tuple[str, ...] = ()
    avoid: tuple[Avoid, ...] = ()
    check_back_s: float | None = None  # a hold turn: the reply is due within this time


@dataclass(frozen=True)
class Scenario:
    id: str
    language: str
    title: str
    turns: tuple[Turn, ...]
    caller_name: str = ""
    name_uses: int = 0  # whole call: how often the trainee should use the caller's name
    summarise: tuple[Element, ...] = ()  # whole call: promises repeated at the close
    practise: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "title": self.title,
            "caller_lines": [t.caller for t in self.turns],
        }


@dataclass(frozen=True)
class Finding:
    kind: str  # "right", "missing", "order", "avoid", "late", "call"
    reason: str
    suggestion: str = ""

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "reason": self.reason, "suggestion": self.suggestion}


@dataclass(frozen=True)
class TurnScore:
    index: int
    section: str
    score: int
    passed: bool
    findings: tuple[Finding, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "score": self.score,
            "findings": [f.as_json() for f in self.findings],
        }


@dataclass(frozen=True)
class Result:
    scenario: str
    score: int
    passed: bool
    sections: dict[str, int]
    turns: tuple[TurnScore, ...]
    call_findings: tuple[Finding, ...] = ()
    practise: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "score": self.score,
            "passed": self.passed,
            "sections": self.sections,
            "turns": [t.as_json() for t in self.turns],
            "call": [f.as_json() for f in self.call_findings],
            "practise": list(self.practise),
        }


# --- reading scenarios ----------------------------------------------------------------------


def _compile(where: str, raw: Any) -> tuple[re.Pattern[str], ...]:
    values = raw if isinstance(raw, list) else [raw]
    patterns = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(f"{where}: a pattern must be text")
        try:
            patterns.append(re.compile(value, re.IGNORECASE))
        except re.error as exc:
            raise ScenarioError(f"{where}: pattern {value!r} is not valid: {exc}") from None
    return tuple(patterns)


def _element(where: str, raw: Any) -> Element:
    if not isinstance(raw, Mapping) or "id" not in raw or "any" not in raw:
        raise ScenarioError(f"{where}: an element needs an id and patterns under any")
    line = raw.get("__line__", "?")
    return Element(
        id=str(raw["id"]),
        text=str(raw.get("text") or raw["id"]),
        patterns=_compile(f"{where.rsplit(':', 1)[0]}:{line}", raw["any"]),
        suggestion=str(raw.get("suggestion") or ""),
        weight=float(raw.get("weight", 1.0)),
    )


def parse_scenario(path: Path, document: Any) -> Scenario:
    where = str(path)
    if not isinstance(document, Mapping):
        raise ScenarioError(f"{where}: a scenario is a mapping with id, title and turns")
    for key in ("id", "language", "title", "turns"):
        if key not in document:
            raise ScenarioError(f"{where}:{document.get('__line__', 1)}: missing {key!r}")
    turns = []
    raw_turns = document["turns"]
    if not isinstance(raw_turns, list) or not raw_turns:
        raise ScenarioError(f"{where}: turns must be a non-empty list")
    for index, raw in enumerate(raw_turns):
        line = raw.get("__line__", "?") if isinstance(raw, Mapping) else "?"
        at = f"{where}:{line}"
        if not isinstance(raw, Mapping) or "caller" not in raw or "model" not in raw:
            raise ScenarioError(f"{at}: turn {index} needs caller and model")
        section = str(raw.get("section") or "")
        if section not in SECTIONS:
            raise ScenarioError(f"{at}: section must be one of {', '.join(SECTIONS)}")
        elements = tuple(_element(at, e) for e in raw.get("elements") or [])
        ids = {e.id for e in elements}
        order = tuple(str(o) for o in raw.get("order") or [])
        unknown = [o for o in order if o not in ids]
        if unknown:
            raise ScenarioError(f"{at}: order names unknown elements: {', '.join(unknown)}")
        avoid = tuple(
            Avoid(
                patterns=_compile(at, a.get("any")),
                reason=str(a.get("reason") or ""),
                suggestion=str(a.get("suggestion") or ""),
            )
            for a in raw.get("avoid") or []
        )
        check = raw.get("check_back_s")
        turns.append(
            Turn(
                caller=str(raw["caller"]),
                section=section,
                model=str(raw["model"]),
                elements=elements,
                order=order,
                avoid=avoid,
                check_back_s=float(check) if check is not None else None,
            )
        )
    summarise = tuple(
        _element(f"{where}:{document.get('__line__', 1)}", e)
        for e in document.get("summarise") or []
    )
    return Scenario(
        id=str(document["id"]),
        language=str(document["language"]),
        title=str(document["title"]),
        turns=tuple(turns),
        caller_name=str(document.get("caller_name") or ""),
        name_uses=int(document.get("name_uses") or 0),
        summarise=summarise,
        practise=str(document.get("practise") or ""),
    )


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot be read: {exc}") from None
    return parse_scenario(path, load_with_lines(path, text, ScenarioError))


def load_scenarios(lang: str, directory: Path = SCENARIOS_DIR) -> list[Scenario]:
    """Every scenario of a language, by id; raises ScenarioError for a broken file."""
    folder = directory / FOLDER_FOR[language_of(lang)]
    return sorted((load_scenario(p) for p in folder.glob("*.yaml")), key=lambda s: s.id)


def check_scenarios(directory: Path = SCENARIOS_DIR) -> list[str]:
    """Problems in the scenario library, one line each (file and line first)."""
    problems = []
    for path in sorted(directory.glob("*/*.yaml")):
        try:
            load_scenario(path)
        except ScenarioError as exc:
            problems.append(str(exc))
    return problems


# --- scoring -----------------------------------------------------------------------------


def score_turn(
    turn: Turn,
    reply: str,
    coach: Coach,
    *,
    index: int = 0,
    seconds: float | None = None,
) -> TurnScore:
    """One reply against its turn's rubric; every point won or lost has a reason."""
    findings: list[Finding] = []
    total = sum(e.weight for e in turn.elements) or 1.0
    won = 0.0
    spots: dict[str, int] = {}
    for element in turn.elements:
        spot = element.first(reply)
        if spot is None:
            findings.append(Finding("missing", f"missing: {element.text}", element.suggestion))
        else:
            spots[element.id] = spot
            won += element.weight
            findings.append(Finding("right", f"right: {element.text}"))
    score = 100.0 * won / total if turn.elements else 100.0
    placed = [spots[e] for e in turn.order if e in spots]
    order_ok = placed == sorted(placed)
    if not order_ok:
        wanted = " → ".join(turn.order)
        findings.append(Finding("order", f"out of order: the order is {wanted}", ""))
        score -= ORDER_PENALTY
    avoided = 0
    for found in coach.findings(reply):
        # Every word the coach marks is one to avoid in a rehearsed reply, "but" included.
        avoided += 1
        findings.append(
            Finding("avoid", f"avoid “{found.text}”: {found.reason}".strip(), found.suggestion)
        )
    for avoid in turn.avoid:
        for pattern in avoid.patterns:
            match = pattern.search(reply)
            if match is not None:
                avoided += 1
                findings.append(
                    Finding("avoid", f"avoid “{match.group(0)}”: {avoid.reason}", avoid.suggestion)
                )
                break
    score -= AVOID_PENALTY * avoided
    late = False
    if turn.check_back_s is not None and seconds is not None and seconds > turn.check_back_s:
        late = True
        findings.append(
            Finding(
                "late",
                f"checked back after {round(seconds)} s: the caller waited too long",
                f"check back within {round(turn.check_back_s)} s",
            )
        )
        score -= AVOID_PENALTY
    missing = any(f.kind == "missing" for f in findings)
    passed = not missing and order_ok and avoided == 0 and not late
    return TurnScore(
        index=index,
        section=turn.section,
        score=max(0, min(100, round(score))),
        passed=passed,
        findings=tuple(findings),
    )


def score(
    scenario: Scenario,
    replies: Sequence[str],
    *,
    coach: Coach | None = None,
    seconds: Sequence[float | None] = (),
) -> Result:
    """The replies given (index-aligned with the caller's lines), scored by section."""
    coach = coach or load_coach(language_of(scenario.language))
    turns = [
        score_turn(
            scenario.turns[i],
            reply,
            coach,
            index=i,
            seconds=seconds[i] if i < len(seconds) else None,
        )
        for i, reply in enumerate(replies[: len(scenario.turns)])
    ]
    by_section: dict[str, list[int]] = {}
    for turn in turns:
        by_section.setdefault(turn.section, []).append(turn.score)
    sections = {name: round(sum(s) / len(s)) for name, s in by_section.items()}
    call = list(_whole_call(scenario, replies))
    total = round(sum(sections.values()) / len(sections)) if sections else 0
    total = max(0, total - ORDER_PENALTY * len(call))
    practise = tuple(
        SECTIONS[name]
        for name, value in sorted(sections.items(), key=lambda kv: kv[1])
        if value < PASS_MARK
    )
    return Result(
        scenario=scenario.id,
        score=total,
        passed=total >= PASS_MARK and all(t.passed for t in turns) and not call,
        sections=sections,
        turns=tuple(turns),
        call_findings=tuple(call),
        practise=practise or ((scenario.practise,) if scenario.practise and total < 100 else ()),
    )


def _whole_call(scenario: Scenario, replies: Sequence[str]) -> Iterable[Finding]:
    """Rules over the whole call, judged only when every turn was answered."""
    if len(replies) < len(scenario.turns):
        return
    if scenario.name_uses and scenario.caller_name:
        used = name_uses(replies, scenario.caller_name)
        if used < scenario.name_uses:
            yield Finding(
                "call",
                f"the caller's name was used {used}× (rule of three: {scenario.name_uses}×)",
                f"use “{scenario.caller_name}” at the start, the middle and the end",
            )
    if scenario.summarise:
        closing = " ".join(
            reply
            for turn, reply in zip(scenario.turns, replies, strict=False)
            if turn.section == "closing"
        )
        for element in scenario.summarise:
            if element.first(closing) is None:
                yield Finding(
                    "call", f"not summarised at the close: {element.text}", element.suggestion
                )


def find_scenario(scenarios: Iterable[Scenario], scenario_id: str) -> Scenario | None:
    return next((s for s in scenarios if s.id == scenario_id), None)
