"""Precision, recall and F1 of the comment lexicon on the labelled comments, per category."""

import csv
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from feedback.lexicon import evaluate

DEFAULT_FILE = Path(settings.BASE_DIR) / "tests" / "data" / "comments_labelled.csv"


class Command(BaseCommand):
    help = "Print per-category precision/recall/F1 of the comment lexicon on a labelled CSV."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEFAULT_FILE), help="CSV with language,comment,categories")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"No such file: {path}")
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        for language, scores in sorted(evaluate(rows).items()):
            count = sum(1 for row in rows if row["language"] == language)
            self.stdout.write(f"\n{language} ({count} comments)")
            self.stdout.write(
                f"{'category':<20}{'precision':>10}{'recall':>10}{'F1':>8}{'tp':>5}{'fp':>5}{'fn':>5}"
            )
            for name, score in scores.items():
                self.stdout.write(
                    f"{name:<20}{score.precision:>10.2f}{score.recall:>10.2f}{score.f1:>8.2f}"
                    f"{score.tp:>5}{score.fp:>5}{score.fn:>5}"
                )
