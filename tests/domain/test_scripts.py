"""The call-script engine and the library: steps, branches, placeholders, adherence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentdesk.domain.scripts import (
    LIBRARY,
    ScriptError,
    ScriptRun,
    fill,
    load_library,
    name_uses,
    parse_script,
)

#: Every hard situation of DOMAIN §7 must have its own step, reached from the problem step.
SECTION_7 = (
    "response-time",
    "repeated-complaint",
    "system-down",
    "training",
    "engineer-number",
    "intercepted",
)
CONTEXT = {
    "caller_name": "Bjørn Ødegård",
    "agent_full_name": "Ingrid Solberg",
    "organisation": "Aker sykehus",
    "promises": "a new disk is installed by 15:00 today",
}


@pytest.fixture(scope="module")
def library():  # type: ignore[no-untyped-def]
    return load_library()


@pytest.mark.parametrize("lang", ["en", "zh", "nb"])
def test_the_whole_library_loads_in_every_language(library, lang: str) -> None:  # type: ignore[no-untyped-def]
    assert library.problems == []
    script = library.get("call", lang)
    assert script is not None and script.language == lang
    # Every step is reachable from the greeting (the loader refuses otherwise), and the
    # languages share one shape, so adherence means the same in each.
    assert script.reachable() == set(script.steps)
    english = library.get("call", "en")
    assert set(script.steps) == set(english.steps)
    for step_id, step in script.steps.items():
        assert step.targets() == english.step(step_id).targets()
        assert [i.id for i in step.checklist] == [i.id for i in english.step(step_id).checklist]


@pytest.mark.parametrize("lang", ["en", "zh", "nb"])
def test_every_hard_situation_and_branch_has_its_step(library, lang: str) -> None:  # type: ignore[no-untyped-def]
    script = library.get("call", lang)
    branches = {b.to for b in script.step("problem").branches}
    assert set(SECTION_7) <= branches
    assert {"vent", "hold", "transfer"} <= branches
    assert script.step("vent").next == "texas"
    assert [i.id for i in script.step("texas").checklist] == ["thank", "explain", "accept", "sorry"]
    assert "screening" in {b.to for b in script.step("greeting").branches}


def test_the_main_line_runs_from_greeting_to_closing(library) -> None:  # type: ignore[no-untyped-def]
    run = ScriptRun(library.get("call", "en"))
    seen = [run.current]
    while run.advance() is not None:
        seen.append(run.current)
    assert seen == ["greeting", "name", "problem", "solve", "closing"]
    assert run.step.end


def test_placeholders_are_filled_from_the_live_contact(library) -> None:  # type: ignore[no-untyped-def]
    run = ScriptRun(library.get("call", "en"))
    assert run.lines(CONTEXT) == [
        "Good morning, Aker sykehus help desk, Ingrid Solberg speaking. How may I help you?"
    ]
    run.go("closing")
    assert run.lines(CONTEXT)[0] == (
        "Before I go, Bjørn Ødegård: a new disk is installed by 15:00 today"
    )
    assert fill("Thank you, {caller_name}.", {}) == "Thank you, ….", "missing values show as …"
    zh = ScriptRun(library.get("call", "zh"))
    assert "Ingrid Solberg" in zh.lines(CONTEXT)[0]


def test_branches_ticks_and_skips_are_recorded_as_adherence(library) -> None:  # type: ignore[no-untyped-def]
    # Given a call that goes greeting → problem (skipping the name) → angry → TEXAS → solve
    run = ScriptRun(library.get("call", "en"))
    assert run.happened("answered") == [("greeting", "answered")]
    run.go("problem")
    run.go("vent")
    run.advance()
    for item in ("thank", "explain", "accept", "sorry"):
        run.tick(item)
    run.advance()
    run.happened("promise")
    run.advance()
    run.tick("thanked")
    run.tick("thanked", done=False)
    # Then the record says where the call went, what was ticked, and what was skipped
    adherence = run.adherence()
    assert adherence["path"] == ["greeting", "problem", "vent", "texas", "solve", "closing"]
    assert adherence["ticked"] == {
        "greeting": ["answered"],
        "texas": ["accept", "explain", "sorry", "thank"],
        "solve": ["promise"],
    }
    assert adherence["skipped_required"] == ["name"]
    assert adherence["checklist_done"] == "6/20"
    assert (adherence["script"], adherence["language"], adherence["version"]) == ("call", "en", 1)


def test_the_rule_of_three_counts_the_callers_name() -> None:
    notes = ["Thank you, Bjørn.", "Ødegård confirms the VPN works", "Thanks Bjørn, goodbye"]
    assert name_uses(notes, "Bjørn Ødegård") == 3
    assert name_uses(notes, "") == 0


GOOD = """
id: t
version: 2
language: en
title: T
start: a
steps:
  - id: a
    title: A
    say: ["Hello {caller_name}"]
    next: b
  - id: b
    title: B
    end: true
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("next: b", "next: c"), ":8: step a leads to 'c', which does not exist"),
        (("Hello {caller_name}", "Hello {shoe_size}"), "unknown placeholder {shoe_size}"),
        (("    end: true\n", "    next: b\n"), None),  # a loop is fine
        (("start: a", "start: z"), "start step 'z' does not exist"),
        (("language: en", "language: fr"), "language must be one of"),
        (("    next: b\n", ""), "step a leads nowhere"),
        (
            (
                "  - id: b\n    title: B\n    end: true\n",
                "  - id: b\n    title: B\n    end: true\n  - id: c\n    title: C\n    end: true\n",
            ),
            "steps not reachable from a: c",
        ),
        (("say: [", "say: {"), "not valid YAML"),
    ],
)
def test_a_broken_script_is_refused_with_file_line_and_reason(
    change: tuple[str, str], message: str | None
) -> None:
    text = GOOD.replace(*change)
    if message is None:
        assert parse_script(Path("t.yaml"), text).version == 2
        return
    with pytest.raises(ScriptError) as error:
        parse_script(Path("t.yaml"), text)
    assert str(error.value).startswith("t.yaml:")
    assert message in str(error.value)


def test_a_broken_file_is_reported_and_skipped_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "en" / "bad.yaml").write_text(GOOD.replace("next: b", "next: x"), "utf-8")
    library = load_library(tmp_path)
    assert list(library.scripts) == [("t", "en")]
    assert len(library.problems) == 1 and "bad.yaml:8" in library.problems[0]


def test_the_check_command_validates_the_library_and_names_broken_files(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "agentdesk", "scripts", "check", str(LIBRARY)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "0 with errors" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("next: b", "next: x"), encoding="utf-8")
    failed = subprocess.run(
        [sys.executable, "-m", "agentdesk", "scripts", "check", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode == 1
    assert f"{bad}:8: step a leads to 'x'" in failed.stderr


@pytest.mark.parametrize("lang", ["en", "zh", "nb"])
def test_the_scripts_own_lines_pass_the_phrase_coach(library, lang: str) -> None:  # type: ignore[no-untyped-def]
    from agentdesk.domain.coach import load_coach

    coach = load_coach(lang)
    flagged = [
        (step.id, line, [f.text for f in coach.findings(line)])
        for step in library.get("call", lang).steps.values()
        for line in step.say
        if coach.findings(line)
    ]
    assert flagged == []


def test_a_language_without_scripts_falls_back_to_english(library) -> None:  # type: ignore[no-untyped-def]
    assert library.get("call", "it").language == "en"
    assert library.get("call", "zh_CN").language == "zh"
