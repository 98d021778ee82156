"""Pure scoring functions: no model, no I/O. The runner feeds them one item at a time.

Retrieval metrics use binary relevance over unique document ids (a document is relevant when it
is one of the item's gold documents). They are written here rather than taken from ``ranx`` or
``ir-measures``: ranx pulls numba and llvmlite (a 700 MB environment) and spent 32 s compiling
on its first call on this machine, ir-measures needs the ``pytrec-eval-terrier`` C extension, and
for binary relevance each measure is a few lines; ``tests/test_evals_metrics.py`` checks them
against values computed with ranx 0.3.21.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

# --------------------------------------------------------------------------- retrieval


def dedupe(doc_ids: Iterable[str]) -> list[str]:
    """Document ids in first-seen order: a ranking of passages becomes a ranking of documents."""
    return list(dict.fromkeys(doc_ids))


def recall_at(ranking: Sequence[str], gold: Iterable[str], k: int) -> float:
    gold = set(gold)
    if not gold:
        raise ValueError("recall needs at least one gold document")
    return len(gold.intersection(ranking[:k])) / len(gold)


def reciprocal_rank(ranking: Sequence[str], gold: Iterable[str]) -> float:
    gold = set(gold)
    for rank, doc in enumerate(ranking, start=1):
        if doc in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranking: Sequence[str], gold: Iterable[str], k: int) -> float:
    """Binary-gain nDCG: DCG = sum of 1/log2(rank+1) over relevant ranks, over the ideal DCG."""
    gold = set(gold)
    if not gold:
        raise ValueError("nDCG needs at least one gold document")
    dcg = sum(1.0 / math.log2(r + 1) for r, d in enumerate(ranking[:k], start=1) if d in gold)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(gold), k) + 1))
    return dcg / ideal


RECALL_KS = (1, 3, 5, 10)


def retrieval_scores(ranking: Sequence[str], gold: Iterable[str]) -> dict[str, float]:
    gold = list(gold)
    scores = {f"recall@{k}": recall_at(ranking, gold, k) for k in RECALL_KS}
    scores["mrr"] = reciprocal_rank(ranking, gold)
    scores["ndcg@10"] = ndcg_at(ranking, gold, 10)
    return scores


# --------------------------------------------------------------------------- normalisation

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_M = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_D = r"(\d{1,2})"
_Y = r"(\d{4})"
_TO = r"\s*(?:-|to|and)\s*"

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD_VALUES = {w: i for i, w in enumerate(_UNITS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
_NUMBER_WORD = re.compile(
    r"\b(?:(" + "|".join(_TENS) + r")(?:[\s-](one|two|three|four|five|six|seven|eight|nine))?"
    r"|(" + "|".join(_UNITS) + r"))\b"
)
_SCALES = {
    "thousand": 10**3, "million": 10**6, "mn": 10**6, "billion": 10**9, "bn": 10**9,
    "trillion": 10**12,
}  # fmt: skip
_SCALE = re.compile(r"(\d+(?:\.\d+)?)\s*(" + "|".join(_SCALES) + r")\b")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_DASHES = re.compile(r"[‐‑‒–—―−]")
_CURRENCY_BEFORE = re.compile(r"(us\s?\$|\$|€|£|\busd\b|\beur\b|\bgbp\b)\s*(\d+(?:\.\d+)?)")
_CURRENCY_CODES = {
    "$": "usd",
    "us$": "usd",
    "us $": "usd",
    "€": "eur",
    "£": "gbp",
    "usd": "usd",
    "eur": "eur",
    "gbp": "gbp",
}
_CURRENCY_AFTER = re.compile(r"(\d)\s+(?:us\s+dollars?|dollars?|euros?|pounds?\s+sterling)\b")
_TOKEN = re.compile(r"\d+\.\d+|%|[^\W_]+")


def _fold(text: str) -> str:
    text = re.sub(r"<sup>\s*(\d+)\s*</sup>", r"^\1", text, flags=re.IGNORECASE)
    text = re.sub(r"([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", lambda m: "^" + m.group(1).translate(_SUPERSCRIPT), text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _DASHES.sub("-", text.lower())
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scale(match: re.Match) -> str:
    try:
        value = Decimal(match.group(1)) * _SCALES[match.group(2)]
    except InvalidOperation:
        return match.group(0)
    return _number(value)


def _words(match: re.Match) -> str:
    if match.group(3):
        return str(_WORD_VALUES[match.group(3)])
    return str(
        _WORD_VALUES[match.group(1)] + (_WORD_VALUES[match.group(2)] if match.group(2) else 0)
    )


def _date(year: str | None, month: str, *days: str) -> str:
    parts = [year] if year else []
    parts.append(f"{_MONTHS[month]:02d}")
    parts.extend(f"{int(d):02d}" for d in days if d)
    return " " + " ".join(parts) + " "


def _dates(text: str) -> str:
    """Every date form becomes year month day tokens: '2 August 2025', 'August 2, 2025' and
    '2025-08-02' all read '2025 08 02'; 'August 2025' reads '2025 08', a prefix of it."""
    text = re.sub(
        r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b",
        lambda m: f" {m[1]} {int(m[2]):02d} {int(m[3]):02d} ",
        text,
    )
    text = re.sub(
        rf"\b{_D}{_TO}{_D}(?:\s+of)?\s+{_M},?\s+{_Y}\b",
        lambda m: _date(m[4], m[3], m[1], m[2]),
        text,
    )
    text = re.sub(
        rf"\b{_M}\s+{_D}{_TO}{_D},?\s+{_Y}\b", lambda m: _date(m[4], m[1], m[2], m[3]), text
    )
    text = re.sub(rf"\b{_D}(?:\s+of)?\s+{_M},?\s+{_Y}\b", lambda m: _date(m[3], m[2], m[1]), text)
    text = re.sub(rf"\b{_M}\s+{_D},?\s+{_Y}\b", lambda m: _date(m[3], m[1], m[2]), text)
    text = re.sub(rf"\b{_M},?\s+{_Y}\b", lambda m: _date(m[2], m[1]), text)
    text = re.sub(rf"\b{_D}{_TO}{_D}\s+{_M}(?!\w)", lambda m: _date(None, m[3], m[1], m[2]), text)
    text = re.sub(rf"\b{_D}\s+{_M}(?!\w)", lambda m: _date(None, m[2], m[1]), text)
    text = re.sub(rf"\b{_M}\s+{_D}\b(?!\s*%)", lambda m: _date(None, m[1], m[2]), text)
    return text


def normalize(text: str) -> str:
    """Lower-cased, accent-folded tokens with numbers and dates in one canonical form.

    '2 August 2025' = 'August 2, 2025' = '2025-08-02'; '1.5 million' = '1 500 000' =
    '1,500,000'; 'seven per cent' = '7%'; '€35 million' = 'EUR 35 million' = '35 million euros';
    '10²⁶' = '10^26' = '10<sup>26</sup>'. Punctuation separates tokens and is otherwise dropped.
    """
    text = _fold(text)
    text = re.sub(r"\b\d{1,3}(?:,\d{3})+\b", lambda m: m.group(0).replace(",", ""), text)
    text = re.sub(r"\b\d{1,3}(?: \d{3})+\b", lambda m: m.group(0).replace(" ", ""), text)
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", r"\1", text)
    text = _NUMBER_WORD.sub(_words, text)
    text = _SCALE.sub(_scale, text)
    text = re.sub(r"(\d(?:\.\d+)?)\s*(?:%|percent\b|per\s+cent\b|pct\b)", r"\1 % ", text)
    text = _CURRENCY_BEFORE.sub(lambda m: f"{m[2]} {_currency_code(m[1])}", text)
    text = _CURRENCY_AFTER.sub(lambda m: m[1] + " " + _currency_word(m.group(0)), text)
    text = _dates(text)
    return " ".join(_TOKEN.findall(text))


def _currency_code(symbol: str) -> str:
    return _CURRENCY_CODES[" ".join(symbol.split())]


def _currency_word(phrase: str) -> str:
    if "euro" in phrase:
        return "eur"
    if "pound" in phrase:
        return "gbp"
    return "usd"


def contains(haystack: str, needle: str) -> bool:
    """Whether the normalised needle occurs in the normalised haystack as whole tokens."""
    needle_n = normalize(needle)
    if not needle_n:
        return True
    return f" {needle_n} " in f" {normalize(haystack)} "


def must_include_found(answer: str, facts: Sequence[str]) -> list[bool]:
    normalized = f" {normalize(answer)} "
    found = []
    for fact in facts:
        n = normalize(fact)
        found.append(not n or f" {n} " in normalized)
    return found


# --------------------------------------------------------------------------- answer text

_MARKER = re.compile(r"\s?\[\d+(?:\s*,\s*\d+)*\]")
_ARTICLES = {"a", "an", "the"}


def strip_markers(text: str) -> str:
    """Answer text without [n] citation markers or markdown emphasis."""
    text = _MARKER.sub("", text)
    text = re.sub(r"[*_`]{1,3}", "", text)
    text = re.sub(r"(?m)^\s*[-*+]\s+", "", text)
    return " ".join(text.split())


def claims(text: str) -> list[str]:
    """The sentences of an answer without their markers, as the citation check embeds them."""
    from bot.text import sentence_spans

    out = []
    for start, end in sentence_spans(text):
        sentence = " ".join(_MARKER.sub("", text[start:end]).split())
        if sentence:
            out.append(sentence)
    return out


def answer_tokens(text: str) -> list[str]:
    """SQuAD-style tokens (lower case, no punctuation, no articles) after normalisation."""
    return [t for t in normalize(strip_markers(text)).split() if t not in _ARTICLES]


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = answer_tokens(prediction), answer_tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    overlap = sum((Counter(pred) & Counter(ref)).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / len(pred), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


_ROUGE = None


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure from the ``rouge-score`` package (Porter stemming on)."""
    global _ROUGE
    if _ROUGE is None:
        from rouge_score import rouge_scorer

        _ROUGE = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return float(_ROUGE.score(reference, strip_markers(prediction))["rougeL"].fmeasure)


# --------------------------------------------------------------------------- citations


def citation_precision(cited_docs: Sequence[str], gold: Iterable[str]) -> float | None:
    """Share of citations that point into a gold document (None when nothing is cited)."""
    if not cited_docs:
        return None
    gold = set(gold)
    return sum(d in gold for d in cited_docs) / len(cited_docs)


def citation_recall(cited_docs: Iterable[str], gold: Iterable[str]) -> float:
    gold = set(gold)
    if not gold:
        raise ValueError("citation recall needs at least one gold document")
    return len(gold.intersection(cited_docs)) / len(gold)


def share_at_least(values: Sequence[float], threshold: float) -> float | None:
    """Share of values at or above the threshold (None for no values)."""
    if not values:
        return None
    return sum(v >= threshold for v in values) / len(values)


# --------------------------------------------------------------------------- aggregation


def mean(values: Iterable[float | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default method), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None
