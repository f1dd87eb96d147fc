"""The rehearsal scorer against a labelled corpus of trainee replies, in every language.

Each row of ``tests/rehearsal_corpus/<lang>.tsv`` is one trainee reply to one turn of a
scenario, with the verdict a demanding trainer gives that turn (labelled by the domain's rules,
never by running the scorer). The scorer must agree on at least 90% of the rows per language.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from agentdesk.domain.coach import load_coach
from agentdesk.domain.rehearsal import find_scenario, load_scenarios, score_turn

CORPUS = Path(__file__).resolve().parent.parent / "rehearsal_corpus"
LANGUAGES = ("en", "zh", "nb")
MIN_AGREEMENT = 0.90
MIN_ROWS = 150
#: Filled by the agreement test, printed at the end of the run (see tests/conftest.py).
AGREEMENT: dict[str, str] = {}


@dataclass(frozen=True)
class Row:
    line: int
    scenario: str
    turn: int
    expected: bool
    reply: str


def corpus(lang: str) -> list[Row]:
    rows = []
    text = (CORPUS / f"{lang}.tsv").read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        assert len(fields) == 4, f"{lang}.tsv:{number}: four tab-separated columns: {line!r}"
        scenario, turn, expected, reply = fields
        assert expected in ("pass", "fail"), f"{lang}.tsv:{number}: {expected!r}"
        assert reply.strip(), f"{lang}.tsv:{number}: an empty reply"
        rows.append(Row(number, scenario, int(turn), expected == "pass", reply))
    return rows


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_scorer_agrees_with_the_trainers_labels_on_at_least_90_percent(lang: str) -> None:
    if not (CORPUS / f"{lang}.tsv").exists():
        pytest.skip(f"no rehearsal corpus for {lang} yet")
    # Given the labelled replies of one language, covering every scenario and every turn
    rows = corpus(lang)
    scenarios = load_scenarios(lang)
    coach = load_coach(lang)
    covered = {(r.scenario, r.turn) for r in rows}
    every_turn = {(s.id, i) for s in scenarios for i in range(len(s.turns))}
    assert every_turn <= covered, f"turns without a labelled reply: {sorted(every_turn - covered)}"
    assert any(r.expected for r in rows) and any(not r.expected for r in rows)
    # When the scorer judges each reply as that turn of its scenario
    wrong = []
    for row in rows:
        scenario = find_scenario(scenarios, row.scenario)
        assert scenario is not None, f"{lang}.tsv:{row.line}: no scenario {row.scenario!r}"
        assert 0 <= row.turn < len(scenario.turns), f"{lang}.tsv:{row.line}: no such turn"
        turn = score_turn(scenario.turns[row.turn], row.reply, coach, index=row.turn)
        if turn.passed != row.expected:
            wrong.append((row, turn))
    # Then it agrees with the trainer's verdict often enough
    agreement = 1 - len(wrong) / len(rows)
    failed_right = sum(1 for row, _ in wrong if row.expected)
    AGREEMENT[lang] = (
        f"{agreement:.1%} of {len(rows)} replies "
        f"({failed_right} right ones failed, {len(wrong) - failed_right} wrong ones passed)"
    )
    assert agreement >= MIN_AGREEMENT, "\n".join(
        f"{lang}.tsv:{row.line} {row.scenario}[{row.turn}] labelled "
        f"{'pass' if row.expected else 'fail'}, scored {turn.score}: {row.reply}"
        for row, turn in wrong
    )


def test_the_corpus_has_at_least_150_replies_across_the_three_languages() -> None:
    present = [lang for lang in LANGUAGES if (CORPUS / f"{lang}.tsv").exists()]
    if len(present) < len(LANGUAGES):
        pytest.skip(f"rehearsal corpus so far only in {', '.join(present) or 'no language'}")
    assert sum(len(corpus(lang)) for lang in LANGUAGES) >= MIN_ROWS
