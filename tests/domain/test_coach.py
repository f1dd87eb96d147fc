"""The phrase coach: weak phrasing found in all three languages, correct phrasing left alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentdesk.domain.coach import (
    RULES_DIR,
    CoachRulesError,
    apply_fix,
    check_rules,
    language_of,
    load_coach,
)

CORPUS = Path(__file__).resolve().parent.parent / "coach_corpus"
#: Filled by the accuracy test, printed at the end of the run (see tests/conftest.py).
ACCURACY: dict[str, str] = {}


def corpus(lang: str) -> list[tuple[bool, str]]:
    rows = []
    for line in (CORPUS / f"{lang}.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _, sentence = line.partition("\t")
        assert label in ("flag", "ok"), line
        rows.append((label == "flag", sentence))
    return rows


@pytest.mark.parametrize("lang", ["en", "zh", "nb"])
def test_the_coach_is_right_on_at_least_95_percent_of_the_labelled_corpus(lang: str) -> None:
    # Given at least 100 sentences, half weak and half correct
    rows = corpus(lang)
    flagged = sum(1 for flag, _ in rows if flag)
    assert len(rows) >= 100 and 0.4 <= flagged / len(rows) <= 0.6
    coach = load_coach(lang)
    # When the coach reads each one
    wrong = [(flag, text) for flag, text in rows if bool(coach.findings(text)) != flag]
    # Then it agrees with the labels often enough
    accuracy = 1 - len(wrong) / len(rows)
    missed = sum(1 for flag, _ in wrong if flag)
    ACCURACY[lang] = (
        f"{accuracy:.1%} of {len(rows)} sentences "
        f"({missed} weak ones missed, {len(wrong) - missed} correct ones flagged)"
    )
    assert accuracy >= 0.95, "\n".join(f"{'missed' if f else 'flagged'}: {t}" for f, t in wrong)


@pytest.mark.parametrize("lang", ["en", "zh", "nb"])
def test_the_coach_generalises_to_sentences_written_after_its_rules(lang: str) -> None:
    """A held-out set, written without seeing the rules and never used to tune them."""
    rows = corpus(f"heldout/{lang}")
    coach = load_coach(lang)
    wrong = [(flag, text) for flag, text in rows if bool(coach.findings(text)) != flag]
    accuracy = 1 - len(wrong) / len(rows)
    ACCURACY[f"{lang} (held out)"] = f"{accuracy:.1%} of {len(rows)} sentences"
    assert accuracy >= 0.9, "\n".join(f"{'missed' if f else 'flagged'}: {t}" for f, t in wrong)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "Thank you for holding."),
        ("en", "Please hold while I check that for you."),
        ("en", "What I can do for you is send an engineer at 10:00 tomorrow."),
        ("en", "Who may I say is calling?"),
        ("en", "I will call you back at 15:00 today."),
        ("zh", "您好,请稍候,我帮您查一下。"),
        ("zh", "我们今天下午3点前为您处理好,同时会邮件通知您。"),
        ("nb", "Takk for at du ventet."),
        ("nb", "Et øyeblikk, så setter jeg deg på vent mens jeg sjekker det."),
        ("nb", "Jeg ringer deg tilbake klokka 14 i dag."),
    ],
)
def test_correct_phrasing_is_never_flagged(lang: str, text: str) -> None:
    assert load_coach(lang).findings(text) == []


def test_each_finding_names_the_rule_the_words_and_what_to_say_instead() -> None:
    text = "Hold on, I don't know. Call me back ASAP."
    findings = load_coach("en").findings(text)
    assert [(f.rule, f.text) for f in findings] == [
        ("hold-on", "Hold on"),
        ("dont-know", "I don't know"),
        ("call-back-later", "Call me back"),
        ("asap", "ASAP"),
    ]
    assert all(text[f.start : f.end] == f.text for f in findings)
    assert findings[0].suggestion == "Please hold."
    assert findings[3].action == "set-time"  # offers a date and time picker


def test_the_one_click_fix_replaces_the_weak_words_keeping_the_capital() -> None:
    text = "Hold on, I'll check."
    finding = load_coach("en").findings(text)[0]
    assert apply_fix(text, finding) == "Please hold, I'll check."
    zh = "请等一下,你的电脑马上好。"
    fixed = zh
    for finding in reversed(load_coach("zh").findings(zh)):
        fixed = apply_fix(fixed, finding)
    assert "请稍候" in fixed and "您的" in fixed


def test_the_command_prints_json_findings_and_exits_0_with_or_without_them() -> None:
    def run(lang: str, text: str) -> tuple[int, list[dict[str, object]]]:
        done = subprocess.run(
            [sys.executable, "-m", "agentdesk", "coach", "--lang", lang],
            input=text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
        return done.returncode, json.loads(done.stdout)

    code, findings = run("zh_CN", "喂,你说错了")
    assert code == 0
    assert [f["rule"] for f in findings] == ["wei", "thats-wrong"]
    assert set(findings[0]) == {"rule", "start", "end", "text", "severity", "suggestion"}
    assert run("nb", "Takk for at du ventet.") == (0, [])


def test_languages_are_named_by_their_codes() -> None:
    assert [language_of(c) for c in ("en", "zh", "zh_CN", "nb")] == ["en", "zh", "zh", "nb"]
    with pytest.raises(ValueError, match="en, zh"):
        language_of("fr")


def test_the_shipped_rules_are_all_usable() -> None:
    assert check_rules(sorted(RULES_DIR.glob("*.yaml"))) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("rules:\n  - id: a\n    avoid: ['(']\n    reason: r\n    suggestion: s\n", ":2: rule a"),
        ("rules:\n  - id: a\n    reason: r\n    suggestion: s\n", ":2: rule a: 'avoid'"),
        ("rules:\n  - id: a\n    avoid: x\n    suggestion: s\n", "'reason' is required"),
        ("rules: [\n", "not valid YAML"),
        (
            "rules:\n  - id: a\n    avoid: x\n    reason: r\n    suggestion: s\n    colour: red\n",
            "unknown keys colour",
        ),
    ],
)
def test_a_broken_rule_file_is_reported_with_file_and_line(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "en.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(CoachRulesError) as error:
        load_coach("en", tmp_path)
    assert str(tmp_path / "en.yaml") in str(error.value)
    assert message in str(error.value)
