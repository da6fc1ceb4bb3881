"""Tags a client's comment with the experience failure categories it talks about.

The terms live in `lexicon/categories.json` (maintained by the service-quality team, both
languages). Each category lists *negative* terms ("delay", "延误"), which tag the comment unless
they are negated ("no delay", "没有延误"), and *positive* terms ("on time", "及时"), which tag it
only when negated ("not on time", "不及时"). Chinese is segmented with jieba and a dictionary of
domain words (`lexicon/userdict.txt`); English with a plain word pattern. Negation looks back a
few words inside the same clause, so "slow, but never rude" tags slowness only.
"""

import json
import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
CATEGORIES_FILE = LEXICON_DIR / "categories.json"
USER_DICT_FILE = LEXICON_DIR / "userdict.txt"

# Clauses end at punctuation and at contrast words: negation never crosses them.
_CLAUSE_BREAK = re.compile(
    r"[，。！？；：、,.!?;:\n()（）]|但是|但|不过|可是|然而|\bbut\b|\bhowever\b|\balthough\b|\bthough\b"
    r"|\bwhereas\b|\byet\b|\band then\b",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_EN_WORD = re.compile(r"[a-z]+(?:['’][a-z]+)?")
NEGATION_WINDOW = 3

_jieba_lock = threading.Lock()
_tokenizer = None


def _jieba():
    """One jieba tokenizer with the domain dictionary, built on first use and kept quiet."""
    global _tokenizer
    if _tokenizer is None:
        with _jieba_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                tokenizer.load_userdict(str(USER_DICT_FILE))
                _tokenizer = tokenizer
    return _tokenizer


@dataclass(frozen=True)
class Lexicon:
    categories: dict[str, dict[str, dict[str, tuple[str, ...]]]]
    negators_zh: frozenset[str]
    negator_prefixes_zh: tuple[str, ...]
    negators_en: frozenset[str]


@lru_cache(maxsize=1)
def load() -> Lexicon:
    data = json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))
    categories = {
        name: {
            language: {
                polarity: tuple(term.lower() for term in spec.get(language, {}).get(polarity, []))
                for polarity in ("negative", "positive", "ignore")
            }
            for language in ("zh", "en")
        }
        for name, spec in data["categories"].items()
    }
    negation = data["negation"]
    return Lexicon(
        categories=categories,
        negators_zh=frozenset(negation["zh"]),
        negator_prefixes_zh=tuple(negation["zh_prefixes"]),
        negators_en=frozenset(negation["en"]),
    )


def category_names() -> list[str]:
    return list(load().categories)


def _is_en_negator(word: str, lexicon: Lexicon) -> bool:
    word = word.replace("’", "'")
    return word in lexicon.negators_en or word.endswith("n't")


@lru_cache(maxsize=4096)
def _zh_tokens(clause: str) -> tuple[tuple[str, int, int], ...]:
    return tuple((word, begin, end) for word, begin, end in _jieba().tokenize(clause) if word.strip())


def _zh_negated(clause: str, start: int, lexicon: Lexicon) -> bool:
    """Is the term starting at `start` negated by the words just before it (or glued to it)?"""
    before = []
    for word, begin, end in _zh_tokens(clause):
        if end <= start:
            before.append(word)
        elif begin < start < end:
            # The term sits inside a longer word such as 不及时 or 没延误: look at its head.
            head = clause[begin:start]
            if head in lexicon.negators_zh or head.endswith(lexicon.negator_prefixes_zh):
                return True
            before.append(head)
    window = before[-NEGATION_WINDOW:]
    return any(word in lexicon.negators_zh for word in window)


def _en_negated(words_before: list[str], lexicon: Lexicon) -> bool:
    return any(_is_en_negator(word, lexicon) for word in words_before[-NEGATION_WINDOW:])


def _zh_hits(clause: str, terms: tuple[str, ...], lexicon: Lexicon) -> tuple[bool, bool]:
    """(found plain, found negated) for any of the Chinese terms in the clause."""
    plain = negated = False
    for term in terms:
        start = clause.find(term)
        while start != -1:
            if _zh_negated(clause, start, lexicon):
                negated = True
            else:
                plain = True
            start = clause.find(term, start + 1)
    return plain, negated


def _en_hits(clause: str, terms: tuple[str, ...], lexicon: Lexicon) -> tuple[bool, bool]:
    words = _EN_WORD.findall(clause.replace("’", "'"))
    plain = negated = False
    for term in terms:
        term_words = term.split()
        size = len(term_words)
        for index in range(len(words) - size + 1):
            if _matches(words[index : index + size], term_words):
                if _en_negated(words[:index], lexicon):
                    negated = True
                else:
                    plain = True
    return plain, negated


def _matches(words: list[str], term_words: list[str]) -> bool:
    """Whole-word match; a term word ending in `*` matches any word it starts (delay* → delayed)."""
    for word, term in zip(words, term_words, strict=True):
        if term.endswith("*"):
            if not word.startswith(term[:-1]):
                return False
        elif word != term:
            return False
    return True


def _without(clause: str, phrases: tuple[str, ...]) -> str:
    for phrase in phrases:
        clause = clause.replace(phrase, " ")
    return clause


def clauses(text: str) -> list[str]:
    return [part.strip() for part in _CLAUSE_BREAK.split(text.lower()) if part and part.strip()]


def categorise(text: str) -> list[str]:
    """The failure categories a comment talks about, in the canonical order."""
    if not text or not text.strip():
        return []
    lexicon = load()
    found = []
    parts = clauses(text)
    for name, spec in lexicon.categories.items():
        for clause in parts:
            has_zh = bool(_CJK.search(clause))
            hit = False
            if has_zh:
                plain, _negated = _zh_hits(
                    _without(clause, spec["zh"]["ignore"]), spec["zh"]["negative"], lexicon
                )
                _plain, negated = _zh_hits(clause, spec["zh"]["positive"], lexicon)
                hit = plain or negated
            if not hit:
                plain, _negated = _en_hits(
                    _without(clause, spec["en"]["ignore"]), spec["en"]["negative"], lexicon
                )
                _plain, negated = _en_hits(clause, spec["en"]["positive"], lexicon)
                hit = plain or negated
            if hit:
                found.append(name)
                break
    return found


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def evaluate(rows: list[dict]) -> dict[str, dict[str, Score]]:
    """Scores against labelled comments (`language`, `comment`, `categories` joined by ";").

    Returns {language: {category: Score, ..., "micro": Score}}.
    """
    results: dict[str, dict[str, Score]] = {}
    for row in rows:
        scores = results.setdefault(row["language"], {name: Score() for name in [*category_names(), "micro"]})
        gold = {name for name in row["categories"].split(";") if name}
        predicted = set(categorise(row["comment"]))
        for name in category_names():
            score = scores[name]
            score.tp += name in gold and name in predicted
            score.fp += name in predicted and name not in gold
            score.fn += name in gold and name not in predicted
        micro = scores["micro"]
        micro.tp += len(gold & predicted)
        micro.fp += len(predicted - gold)
        micro.fn += len(gold - predicted)
    return results
