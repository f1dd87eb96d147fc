"""Guided call scripts: steps, branches, placeholders and checklists, read from YAML files.

A script walks a contact from the greeting to the closing. Each step has lines to say (with
placeholders filled from the live contact: the caller's name, the agent's full name, the
organisation, promise times), a checklist the agent ticks (or that ticks itself when the
matching thing happens: ``auto: answered``), and where to go next, including branches for
the situations the source documents cover (an angry caller, hold, transfer, a message for a
colleague, the hard situations of DOMAIN §7). :class:`ScriptRun` follows one contact through
a script and records what was shown, ticked and skipped (script adherence).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from agentdesk.domain.coach import LANGUAGES, language_of
from agentdesk.domain.yamlfile import load_with_lines

LIBRARY: Final = Path(__file__).resolve().parents[2] / "scripts_library"
#: What a line may name in braces, filled from the contact and the agent.
PLACEHOLDERS: Final = frozenset(
    {
        "caller_name",
        "agent_full_name",
        "agent_first_name",
        "organisation",
        "customer_organisation",
        "promises",
        "callback_time",
        "direct_number",
        "colleague",
    }
)
#: Things that happen on the desk and tick checklist items by themselves.
AUTO_EVENTS: Final = frozenset(
    {"answered", "named", "note", "promise", "hold", "resumed", "transfer", "wrap_up", "message"}
)
STEP_KEYS: Final = frozenset(
    {"id", "title", "say", "checklist", "next", "branches", "required", "end", "tip", "__line__"}
)


class ScriptError(ValueError):
    """A script file that cannot be used, with its path and line."""


@dataclass(frozen=True)
class CheckItem:
    id: str
    text: str
    auto: str | None = None


@dataclass(frozen=True)
class Branch:
    label: str
    to: str


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    say: tuple[str, ...]
    checklist: tuple[CheckItem, ...]
    next: str | None
    branches: tuple[Branch, ...]
    required: bool
    end: bool
    tip: str
    line: int

    def targets(self) -> list[str]:
        return ([self.next] if self.next else []) + [b.to for b in self.branches]


@dataclass(frozen=True)
class Script:
    id: str
    version: int
    language: str
    title: str
    start: str
    steps: dict[str, Step]
    path: Path

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]

    def reachable(self) -> set[str]:
        seen: set[str] = set()
        todo = [self.start]
        while todo:
            current = todo.pop()
            if current in seen or current not in self.steps:
                continue
            seen.add(current)
            todo.extend(self.steps[current].targets())
        return seen


# --- reading --------------------------------------------------------------------------------


def _fields_of(line: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(line) if name is not None]


def parse_script(path: Path, text: str) -> Script:
    """A script from YAML text; raises :class:`ScriptError` naming the file and line."""
    document = load_with_lines(path, text, ScriptError)
    if not isinstance(document, Mapping):
        raise ScriptError(f"{path}:1: expected a script (a mapping with id, steps, …)")

    def fail(line: int, message: str) -> ScriptError:
        return ScriptError(f"{path}:{line}: {message}")

    top = int(document.get("__line__", 1))
    for key in ("id", "title", "language", "start"):
        if not isinstance(document.get(key), str) or not document[key].strip():
            raise fail(top, f"'{key}' is required")
    try:
        language = language_of(document["language"])
    except ValueError as exc:
        raise fail(top, str(exc)) from None
    version = document.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise fail(top, "'version' must be a whole number from 1")
    raw_steps = document.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise fail(top, "'steps' must be a list of steps")
    steps: dict[str, Step] = {}
    for raw in raw_steps:
        steps_line = int(raw.get("__line__", top)) if isinstance(raw, Mapping) else top
        step = _parse_step(raw, steps_line, fail)
        if step.id in steps:
            raise fail(step.line, f"step {step.id} appears twice")
        steps[step.id] = step
    script = Script(
        id=document["id"],
        version=version,
        language=language,
        title=document["title"],
        start=document["start"],
        steps=steps,
        path=path,
    )
    if script.start not in steps:
        raise fail(top, f"start step {script.start!r} does not exist")
    for step in steps.values():
        for target in step.targets():
            if target not in steps:
                raise fail(step.line, f"step {step.id} leads to {target!r}, which does not exist")
        if not step.targets() and not step.end:
            raise fail(step.line, f"step {step.id} leads nowhere: give 'next' or 'end: true'")
    unreachable = sorted(set(steps) - script.reachable())
    if unreachable:
        first = steps[unreachable[0]]
        raise fail(first.line, f"steps not reachable from {script.start}: {', '.join(unreachable)}")
    return script


def _parse_step(raw: Any, line: int, fail: Any) -> Step:
    if not isinstance(raw, Mapping):
        raise fail(line, "each step must be a mapping")
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", step_id):
        raise fail(line, "a step needs an id of lower-case letters, digits, - or _")
    unknown = set(raw) - STEP_KEYS
    if unknown:
        raise fail(line, f"step {step_id}: unknown keys {', '.join(sorted(unknown))}")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail(line, f"step {step_id}: 'title' is required")
    say = raw.get("say", [])
    if isinstance(say, str):
        say = [say]
    if not isinstance(say, list) or not all(isinstance(s, str) for s in say):
        raise fail(line, f"step {step_id}: 'say' must be a list of lines")
    for text in say:
        try:
            names = _fields_of(text)
        except ValueError as exc:
            raise fail(line, f"step {step_id}: line {text!r}: {exc}") from None
        unknown_names = sorted(set(names) - PLACEHOLDERS)
        if unknown_names:
            raise fail(
                line,
                f"step {step_id}: unknown placeholder {{{unknown_names[0]}}}; "
                f"use one of {', '.join(sorted(PLACEHOLDERS))}",
            )
    items = []
    for entry in raw.get("checklist", []) or []:
        item_line = int(entry.get("__line__", line)) if isinstance(entry, Mapping) else line
        item = (
            {"id": re.sub(r"\W+", "-", entry.lower()).strip("-")[:40], "text": entry}
            if isinstance(entry, str)
            else entry
        )
        if not isinstance(item, Mapping) or not isinstance(item.get("text"), str):
            raise fail(item_line, f"step {step_id}: a checklist item needs 'text'")
        auto = item.get("auto")
        if auto is not None and auto not in AUTO_EVENTS:
            raise fail(
                item_line,
                f"step {step_id}: auto must be one of {', '.join(sorted(AUTO_EVENTS))}",
            )
        items.append(CheckItem(str(item.get("id") or item["text"]), item["text"], auto))
    branches = []
    for branch in raw.get("branches", []) or []:
        if not isinstance(branch, Mapping) or not {"label", "to"} <= set(branch):
            raise fail(line, f"step {step_id}: a branch needs 'label' and 'to'")
        branches.append(Branch(str(branch["label"]), str(branch["to"])))
    next_step = raw.get("next")
    if next_step is not None and not isinstance(next_step, str):
        raise fail(line, f"step {step_id}: 'next' must be a step id")
    return Step(
        id=step_id,
        title=title.strip(),
        say=tuple(say),
        checklist=tuple(items),
        next=next_step,
        branches=tuple(branches),
        required=bool(raw.get("required", False)),
        end=bool(raw.get("end", False)),
        tip=str(raw.get("tip") or ""),
        line=line,
    )


def load_script(path: Path) -> Script:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScriptError(f"{path}: cannot be read: {exc.strerror}") from None
    return parse_script(path, text)


@dataclass
class Library:
    """Every script that could be read; the ones that could not are listed, not fatal."""

    scripts: dict[tuple[str, str], Script] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def take_published(self, published: Iterable[Mapping[str, Any]]) -> list[str]:
        """Use published scripts (``{"id", "language", "version", "text"}``) that are newer
        than the ones at hand; returns ``id/lang vN`` for each taken. A broken one is
        reported in ``problems`` and skipped."""
        taken = []
        for item in published:
            path = Path(f"published/{item.get('language')}/{item.get('id')}.yaml")
            try:
                script = parse_script(path, str(item.get("text", "")))
            except ScriptError as exc:
                self.problems.append(str(exc))
                continue
            key = (script.id, script.language)
            known = self.scripts.get(key)
            if known is None or script.version > known.version:
                self.scripts[key] = script
                taken.append(f"{script.id}/{script.language} v{script.version}")
        return taken

    def get(self, script_id: str, language: str) -> Script | None:
        """The script in the customer's language, else in English (e.g. for an Italian
        customer while no Italian script exists)."""
        try:
            lang = language_of(language) if language else "en"
        except ValueError:
            lang = "en"
        return self.scripts.get((script_id, lang)) or self.scripts.get((script_id, "en"))


def load_library(root: Path = LIBRARY, languages: Iterable[str] = LANGUAGES) -> Library:
    """All scripts under ``root/<lang>/``; a broken file is reported and skipped."""
    library = Library()
    for lang in languages:
        for path in sorted((root / lang).glob("*.yaml")):
            try:
                script = load_script(path)
            except ScriptError as exc:
                library.problems.append(str(exc))
                continue
            if script.language != lang:
                library.problems.append(
                    f"{path}:1: language {script.language!r} does not match its folder {lang!r}"
                )
                continue
            library.scripts[(script.id, lang)] = script
    return library


# --- following a contact through a script ------------------------------------------------


def fill(line: str, context: Mapping[str, str]) -> str:
    """A line with its placeholders filled; a missing value shows as ``…``."""

    class Missing(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "…"

    return line.format_map(Missing({k: v for k, v in context.items() if v}))


@dataclass
class ScriptRun:
    """One contact's way through a script: where it is, what was shown, ticked and skipped."""

    script: Script
    current: str = ""
    path: list[str] = field(default_factory=list)
    ticked: dict[str, set[str]] = field(default_factory=dict)
    events: set[str] = field(default_factory=set)  # what has happened on the desk so far

    def __post_init__(self) -> None:
        if not self.current:
            self.current = self.script.start
        if not self.path:
            self.path = [self.current]

    @property
    def step(self) -> Step:
        return self.script.step(self.current)

    def lines(self, context: Mapping[str, str]) -> list[str]:
        return [fill(line, context) for line in self.step.say]

    def go(self, step_id: str) -> Step:
        """Move to ``step_id`` (the next step, a branch, or any step the agent picks)."""
        if step_id not in self.script.steps:
            raise KeyError(step_id)
        self.current = step_id
        self.path.append(step_id)
        for item in self.step.checklist:
            # What already happened ticks the new step's items too (the caller was named
            # before the name step came up).
            if item.auto in self.events:
                self.tick(item.id)
        return self.step

    def advance(self) -> Step | None:
        """Follow the step's ``next``; None at an end step."""
        following = self.step.next
        return self.go(following) if following else None

    def tick(self, item_id: str, *, step_id: str | None = None, done: bool = True) -> None:
        where = step_id or self.current
        items = self.ticked.setdefault(where, set())
        if done:
            items.add(item_id)
        else:
            items.discard(item_id)

    def happened(self, event: str) -> list[tuple[str, str]]:
        """Tick every item, on the steps shown so far, that ticks itself on ``event``."""
        self.events.add(event)
        ticked = []
        for step_id in dict.fromkeys(self.path):
            for item in self.script.step(step_id).checklist:
                if item.auto == event and item.id not in self.ticked.get(step_id, set()):
                    self.tick(item.id, step_id=step_id)
                    ticked.append((step_id, item.id))
        return ticked

    def skipped_required(self) -> list[str]:
        """Required steps never shown, for a contact that has reached its end."""
        shown = set(self.path)
        main_line = []
        current: str | None = self.script.start
        while current is not None and current not in main_line:
            main_line.append(current)
            current = self.script.step(current).next
        return [s for s in main_line if self.script.step(s).required and s not in shown]

    def adherence(self) -> dict[str, Any]:
        """What goes on the contact record: the script, the way taken, ticks and skips."""
        shown = list(dict.fromkeys(self.path))
        items_total = sum(len(self.script.step(s).checklist) for s in shown)
        items_ticked = sum(len(self.ticked.get(s, ())) for s in shown)
        return {
            "script": self.script.id,
            "version": self.script.version,
            "language": self.script.language,
            "path": list(self.path),
            "ticked": {s: sorted(items) for s, items in self.ticked.items() if items},
            "skipped_required": self.skipped_required(),
            "checklist_done": f"{items_ticked}/{items_total}",
        }


def name_uses(texts: Iterable[str], name: str) -> int:
    """How often the caller's name (or its first part) was used: the rule of three."""
    parts = [p for p in name.split() if len(p) > 1] or ([name] if name else [])
    if not parts:
        return 0
    pattern = re.compile("|".join(re.escape(p) for p in parts), re.IGNORECASE)
    return sum(len(pattern.findall(text)) for text in texts)
