"""The comment lexicon: negation in both languages, and quality on 200+ labelled comments."""

import csv
from pathlib import Path

import pytest
from django.core.management import call_command

from feedback.lexicon import categorise, evaluate

LABELLED = Path(__file__).resolve().parent.parent / "data" / "comments_labelled.csv"


def labelled_rows():
    with LABELLED.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "comment",
    [
        "没有延误",
        "审批一点也不慢",
        "从未拖延",
        "not slow",
        "never late, no delays",
        "The process was not complicated.",
    ],
)
def test_a_negated_complaint_is_not_tagged(comment):
    assert categorise(comment) == []


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("进度通知不及时", ["late_information"]),
        ("The RM was not helpful", ["service_attitude"]),
        ("审批流程太复杂，而且拖了很久才有结果", ["complex_process", "slow_resolution"]),
        ("Not slow, but rude.", ["service_attitude"]),
        ("客户经理 very rude，放款也一再推迟", ["service_attitude", "broken_commitment"]),
        ("", []),
    ],
)
def test_comments_get_their_categories(comment, expected):
    assert categorise(comment) == expected


def test_the_labelled_set_is_large_and_bilingual():
    rows = labelled_rows()
    by_language = {language: [r for r in rows if r["language"] == language] for language in ("zh", "en")}
    assert len(by_language["zh"]) >= 100 and len(by_language["en"]) >= 100
    assert any(not row["categories"] for row in rows)
    assert any(";" in row["categories"] for row in rows)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_micro_precision_and_recall_are_at_least_080(language):
    micro = evaluate(labelled_rows())[language]["micro"]
    assert micro.precision >= 0.8, f"{language} precision {micro.precision:.2f}"
    assert micro.recall >= 0.8, f"{language} recall {micro.recall:.2f}"


def test_the_report_command_prints_every_category(capsys):
    call_command("lexicon_report")
    out = capsys.readouterr().out
    for name in (
        "late_information",
        "service_attitude",
        "broken_commitment",
        "complex_process",
        "slow_resolution",
    ):
        assert name in out
    assert "micro" in out
