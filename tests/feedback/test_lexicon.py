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


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # "never ... this/such" compares with the past: it intensifies.
        ("It has never been this slow", ["slow_resolution"]),
        ("We never had such poor communication", ["late_information"]),
        ("It is not usually this slow", ["slow_resolution"]),
        ("Never had such a smooth closing", []),
        # A wh-clause or disbelief is about something that happened.
        ("I cannot believe how rude the staff were", ["service_attitude"]),
        ("I can't believe they were rude", ["service_attitude"]),
        # Expecting and being told: the negation is about the verb.
        ("We never expected such delays", ["slow_resolution"]),
        ("We were not informed of delays", ["late_information", "slow_resolution"]),
        # A negated opinion denies what follows it.
        ("I do not think it was slow", []),
        ("I don't think the process was particularly complicated", []),
        ("I would not call the staff unfriendly", []),
        ("I don't think they were helpful", ["service_attitude"]),
        ("They didn't say anything about the delay", ["slow_resolution"]),
        # Hedges and denials stay negations; "not only" does not deny.
        ("It was not that complicated", []),
        ("not so slow", []),
        ("There was no such delay", []),
        ("Not only slow but also rude", ["service_attitude", "slow_resolution"]),
        ("从没这么慢过", ["slow_resolution"]),
        ("以前从没遇到过态度这么差的客户经理", ["service_attitude"]),
        ("没想到审批这么慢", ["slow_resolution"]),
        ("不敢相信客户经理的态度这么冷淡", ["service_attitude"]),
        ("我不觉得慢", []),
        ("我并不觉得审批流程复杂", []),
        ("我不认为客户经理的态度有问题只是审批流程太复杂", ["complex_process"]),
        ("不得不说服务态度很差", ["service_attitude"]),
        ("流程没那么复杂", []),
        ("从没延误过", []),
    ],
)
def test_negation_scope(comment, expected):
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


def quality_table(rows) -> str:
    """Precision and recall per category, for each language and for both together."""
    results = evaluate(rows)
    results["all"] = evaluate([{**row, "language": "all"} for row in rows])["all"]
    lines = []
    for language, scores in results.items():
        count = sum(1 for row in rows if language in ("all", row["language"]))
        lines.append(f"{language} ({count} comments)")
        lines += [
            f"  {name:<18} precision {score.precision:.3f}  recall {score.recall:.3f}"
            for name, score in scores.items()
        ]
    return "\n".join(lines)


def test_overall_precision_and_recall_are_at_least_080():
    rows = labelled_rows()
    print("\n" + quality_table(rows))
    overall = evaluate([{**row, "language": "all"} for row in rows])["all"]["micro"]
    assert overall.precision >= 0.8 and overall.recall >= 0.8


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
