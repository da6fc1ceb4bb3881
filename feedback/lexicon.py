"""Tags a client's comment with the experience failure categories it talks about.

The terms live in `lexicon/categories.json` (maintained by the service-quality team, both
languages). Each category lists *negative* terms ("delay", "延误"), which tag the comment unless
they are negated ("no delay", "没有延误"), and *positive* terms ("on time", "及时"), which tag it
only when negated ("not on time", "不及时"). Chinese is segmented with jieba and a dictionary of
domain words (`lexicon/userdict.txt`); English with a plain word pattern. Negation looks back a
few words inside the same clause, so "slow, but never rude" tags slowness only. A negated verb of
opinion denies what follows it ("I don't think it was slow"), a negated verb of expecting or being
told does not ("never expected such delays"), and "never been this slow" is an intensifier.
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

# Verbs of opinion. "I don't think it was slow", "I wouldn't call them rude", "我不觉得审批很慢": a
# negated opinion is the usual way to deny what follows, so the negation moves onto the term.
# Base forms only, as do-support gives them ("didn't think"); "said" and "called" stay reports.
_EN_OPINION = frozenset({"think", "believe", "feel", "find", "say", "call", "consider", "suppose", "reckon"})
_ZH_OPINION = frozenset({"觉得", "认为", "感觉", "觉着", "感到"})
# Verbs of expecting, knowing and being told. "never expected such delays", "weren't warned of
# delays", "没想到审批这么慢": the negation is about the verb; the term after it still happened.
_EN_FACTUAL = frozenset(
    {
        "expect", "expected", "imagine", "imagined", "anticipate", "anticipated", "know", "knew",
        "realise", "realised", "realize", "realized", "hear", "heard", "tell", "told", "warn",
        "warned", "inform", "informed", "notify", "notified", "mention", "mentioned", "explain",
        "explained",
    }
)  # fmt: skip
_ZH_FACTUAL = frozenset(
    {
        "想到", "没想到", "想不到", "料到", "没料到", "预料", "预料到", "意想不到", "想象",
        "相信", "不敢相信", "难以置信", "知道", "不知道", "告诉", "告知", "通知", "提醒",
    }
)  # fmt: skip
# A wh-word or conjunction opens a new clause, which a negator does not reach: "can't believe how
# rude they were" is about rudeness that happened.
_EN_SUBORDINATORS = frozenset(
    {
        "how", "what", "why", "when", "where", "which", "who", "whom", "whether", "if", "because",
        "since", "until", "unless", "while", "after", "before",
    }
)  # fmt: skip
# A negated opinion covers its own clause only: not past "and", nor past "about", which names the
# topic rather than the judgement ("didn't say anything about the delay").
_EN_OPINION_ENDS = frozenset({"and", "about", "regarding"})
# Chinese conjunctions and topic markers open a new clause the same way ("……只是流程太复杂").
_ZH_SUBORDINATORS = frozenset({"只是", "而是", "而且", "并且", "因为", "所以", "关于", "对于"})
# Degree words that point at what happened: "never been this slow", "never had such poor
# communication", "从没这么慢过" compare with the past, so the negator intensifies instead.
# "not so slow" is a hedge and "no such delay" a denial: "so" counts after "never" only, and
# determiners such as "no" never intensify. Chinese 那么 ("没那么复杂") is a hedge too.
_EN_DEGREE = frozenset({"this", "such"})
_ZH_DEGREE = ("这么", "这样", "如此", "这般")
# "不得不说" and "不仅" contain 不 but are single jieba words outside the negator list; an adverb
# glued to a negator ("从没", "根本没") is still a negator.
_ZH_NEGATION_ADVERBS = ("从来", "从", "根本", "完全", "并", "也", "都", "一直", "始终", "向来", "丝毫", "毫")
# "这么慢" is "很慢" pointing at the experience, so degree terms also match with a deictic degree.
_ZH_DEGREE_ADVERBS = ("非常", "特别", "很", "太", "极")

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
    for spec in categories.values():
        for polarity in ("negative", "positive"):
            spec["zh"][polarity] = _with_zh_degree_variants(spec["zh"][polarity])
    negation = data["negation"]
    return Lexicon(
        categories=categories,
        negators_zh=frozenset(negation["zh"]),
        negator_prefixes_zh=tuple(negation["zh_prefixes"]),
        negators_en=frozenset(negation["en"]),
    )


def _with_zh_degree_variants(terms: tuple[str, ...]) -> tuple[str, ...]:
    """Each term with a degree adverb also with a deictic one: 很慢 → 这么慢, 那么慢, 如此慢.

    A one-character head ("了很久") is too loose to widen: "合作了这么久" is no complaint.
    """
    variants = []
    for term in terms:
        for adverb in _ZH_DEGREE_ADVERBS:
            if adverb in term:
                head, _adverb, tail = term.partition(adverb)
                if tail and len(head) != 1:
                    variants += [f"{head}{degree}{tail}" for degree in ("这么", "那么", "如此")]
                break
    return tuple(dict.fromkeys([*terms, *variants]))


def category_names() -> list[str]:
    return list(load().categories)


def _is_en_negator(word: str, lexicon: Lexicon) -> bool:
    word = word.replace("’", "'")
    return word in lexicon.negators_en or word.endswith("n't")


def _is_zh_negator(word: str, lexicon: Lexicon) -> bool:
    if word in lexicon.negators_zh:
        return True
    for adverb in _ZH_NEGATION_ADVERBS:
        if word.startswith(adverb) and word[len(adverb) :] in ("不", "没", "没有", "未", "无"):
            return True
    return False


@lru_cache(maxsize=4096)
def _zh_tokens(clause: str) -> tuple[tuple[str, int, int], ...]:
    return tuple((word, begin, end) for word, begin, end in _jieba().tokenize(clause) if word.strip())


def _zh_negated(clause: str, start: int, term: str, lexicon: Lexicon) -> bool:
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
    for distance, word in enumerate(reversed(before), 1):
        between = "".join(before[len(before) - distance + 1 :]) + term
        if word in _ZH_OPINION:
            denied = any(_is_zh_negator(w, lexicon) for w in before[-distance - 2 : -distance])
            return denied and not any(degree in between for degree in _ZH_DEGREE)
        if word in _ZH_FACTUAL or word in _ZH_SUBORDINATORS:
            return False
        if distance <= NEGATION_WINDOW and _is_zh_negator(word, lexicon):
            return not any(degree in between for degree in _ZH_DEGREE)
    return False


def _en_intensified(negator: str, between: list[str]) -> bool:
    if negator == "never":
        return any(word in _EN_DEGREE or word == "so" for word in between)
    verbal = negator in ("not", "cannot") or negator.endswith("n't")
    return verbal and any(word in _EN_DEGREE for word in between)


def _en_negated(words_before: list[str], lexicon: Lexicon) -> bool:
    """Walks back from the term to the negator, opinion verb or clause opening that governs it."""
    opinion_ended = False
    for distance, word in enumerate(reversed(words_before), 1):
        between = words_before[len(words_before) - distance + 1 :]
        if word in _EN_SUBORDINATORS or word in _EN_FACTUAL:
            return False
        if word in _EN_OPINION:
            near = words_before[-distance - 2 : -distance]
            if opinion_ended or not any(_is_en_negator(w, lexicon) for w in near):
                return False
            # "can't believe they were rude" is disbelief at what happened, not a denial.
            if word == "believe" and any(w.startswith(("can", "could")) for w in near):
                return False
            return not any(w in _EN_DEGREE for w in between)
        opinion_ended = opinion_ended or word in _EN_OPINION_ENDS
        if distance <= NEGATION_WINDOW and _is_en_negator(word, lexicon):
            # "not only slow but also rude" adds; it does not deny.
            if word == "not" and between[:1] in (["only"], ["just"], ["merely"]):
                continue
            return not _en_intensified(word, between)
    return False


def _zh_hits(clause: str, terms: tuple[str, ...], lexicon: Lexicon) -> tuple[bool, bool]:
    """(found plain, found negated) for any of the Chinese terms in the clause."""
    plain = negated = False
    for term in terms:
        start = clause.find(term)
        while start != -1:
            if _zh_negated(clause, start, term, lexicon):
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
