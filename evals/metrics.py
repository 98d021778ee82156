"""Pure scoring functions: no model, no I/O. The runner feeds them one item at a time.

Retrieval metrics use binary relevance over unique document ids (a document is relevant when it
is one of the item's gold documents). They are written here rather than taken from ``ranx`` or
``ir-measures``: ranx pulls numba and llvmlite (a 700 MB environment) and spent 32 s compiling
on its first call on this machine, ir-measures needs the ``pytrec-eval-terrier`` C extension, and
for binary relevance each measure is a few lines; ``tests/test_evals_metrics.py`` checks them
against values computed with ranx 0.3.21.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


# --------------------------------------------------------------------------- where facts are lost


@functools.lru_cache(maxsize=8192)
def _padded(text: str) -> str:
    """normalize(text) between spaces, cached: the same passages come back item after item."""
    return f" {normalize(text)} "


def fact_hits(texts: Sequence[str], facts: Sequence[str]) -> list[list[bool]]:
    """For each text, which of the facts it contains (the containment of must_include_found)."""
    needles = [normalize(f) for f in facts]
    return [[not n or f" {n} " in _padded(t) for n in needles] for t in texts]


def facts_found(hits: Sequence[Sequence[bool]], n_facts: int) -> list[bool]:
    """For each fact, whether any of the texts behind ``hits`` contains it."""
    return [any(row[i] for row in hits) for i in range(n_facts)]


def text_sentences(text: str) -> list[str]:
    """A passage cut into sentences the way the composer cuts it: blocks, then sentences."""
    from bot.text import block_spans, sentence_spans

    return [
        text[s:e]
        for b_start, b_end in block_spans(text)
        for s, e in sentence_spans(text[b_start:b_end], b_start)
    ]


def oracle_cover(hits: Sequence[Sequence[bool]], n_facts: int, picks: int = 3) -> list[bool]:
    """The facts that the best ``picks`` sentences would state, chosen with hindsight.

    ``hits`` holds one row per sentence (which facts it contains). Greedy: take the sentence that
    covers most facts not yet covered, ``picks`` times (the first such sentence on ties).
    """
    covered = [False] * n_facts
    for _ in range(picks):
        gains = [sum(h and not c for h, c in zip(row, covered, strict=True)) for row in hits]
        if not gains or max(gains) == 0:
            break
        best = hits[gains.index(max(gains))]
        covered = [c or h for c, h in zip(covered, best, strict=True)]
    return covered


FACT_KS = (5, 10, 20)  # facts@k: key facts anywhere in the top k passages
ORACLE_KS = (5, 10)  # oracle3@k: key facts the best 3 sentences of the top k passages carry
ORACLE_PICKS = 3


def fact_scores(passages: Sequence[str], facts: Sequence[str]) -> dict[str, float]:
    """facts@5/10/20 and oracle3@5/10 of one item from its ranked passage texts.

    A key fact lost between facts@k and oracle3@k is lost by the way sentences are cut (it spans
    two sentences, or needs more than three); between oracle3@k and must-include recall, by the
    composer's choice of sentences; before facts@k, by retrieval.
    """
    if not facts:
        return {}
    n = len(facts)
    passage_hits = fact_hits(passages, facts)
    scores = {f"facts@{k}": mean(facts_found(passage_hits[:k], n)) for k in FACT_KS}
    sentences: list[tuple[int, str]] = [
        (rank, sentence)
        for rank, text in enumerate(passages[: max(ORACLE_KS)])
        for sentence in text_sentences(text)
    ]
    sentence_hits = fact_hits([s for _, s in sentences], facts)
    for k in ORACLE_KS:
        rows = [h for (rank, _), h in zip(sentences, sentence_hits, strict=True) if rank < k]
        scores[f"oracle{ORACLE_PICKS}@{k}"] = mean(oracle_cover(rows, n, ORACLE_PICKS))
    return scores


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


def word_count(text: str) -> int:
    """Words of an answer with its [n] markers and markdown stripped."""
    return len(strip_markers(text).split())


# --------------------------------------------------------------------------- readability

READABILITY_KINDS = ("heading", "dangling_colon", "cut_start", "repeat", "preamble", "boilerplate")


@dataclass(frozen=True)
class Defect:
    kind: str  # one of READABILITY_KINDS
    sentence: str  # the answer sentence, markers stripped


# An answer is cut into lines, each line after every marker group that ends a sentence (extractive
# answers end every sentence with one), then into sentences.
_UNIT = re.compile(
    r".*?(?:\[\d+(?:\s*,\s*\d+)*\](?:[.!?;:][\"'”’)]*|[\"'”’)]*(?=\s+[\"'“‘(\[]?[A-Z0-9#*•-]|\s*\Z))"
    r"|\Z)",
    re.DOTALL,
)
_LIST_START = re.compile(r"^(?:[-*+•–]\s|\(?(?:[a-z]|[ivx]{1,4}|\d{1,2})\)\s|\d{1,2}[.)]\s)")
_OPENING = "\"'“”‘’([{«*_ \t"
_STRUCTURE = re.compile(
    r"^(?i:article|chapter|section|annex|part|title|appendix|recital)\s+"
    r"(?:[0-9]+[a-z]?|[IVXLC]+)\.?(?:\s*$|\s+[A-Z\d(])"
)
_CAPS_WORD = re.compile(r"[A-Z][A-Z'’&-]+")
_VERB_CUE = re.compile(
    r"\b(?:is|are|was|were|be|been|being|has|have|had|shall|will|would|may|might|must|should"
    r"|can|could|does|do|did|applies|apply|requires|require|includes|include|provides|provide"
    r"|sets|states|says|calls|means|aims|covers|enters|takes|makes|gives|allows|prohibits|bans"
    r"|[a-z]{2,}ed)\b"
)
_PREAMBLE = re.compile(
    r"^(?:(?:also|further|deeply|gravely|fully|firmly)\s+)?"
    r"(?:recogni[sz]ing|considering|noting|recalling|reaffirming|acknowledging"
    r"|emphasi[sz]ing|concerned|conscious|convinced|mindful|bearing\s+in\s+mind|welcoming"
    r"|stressing|underlining|aware|determined|desiring|taking\s+note|having\s+regard|whereas)\b"
    r"|^we,\s+the\s+(?:leaders|heads|ministers|member\s+states|parties|representatives)\b",
    re.IGNORECASE,
)
_MONTH_NAMES = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
_BOILERPLATE = [
    re.compile(r"^[\w ]{0,40}\btreaty\s+series\W{0,4}no\b\.?\s*\d+$", re.IGNORECASE),
    re.compile(r"^\(?cets\s+no\.?\s*\d+\)?$", re.IGNORECASE),
    re.compile(r"^distr\.?\s*:?\s*(?:general|limited|restricted)\b", re.IGNORECASE),
    re.compile(r"^[A-Z]{1,6}(?:/[A-Z0-9][A-Za-z0-9.\-]*){2,}(?:\s*\*)?$"),  # A/RES/78/265
    re.compile(rf"^(?:\d{{1,2}}\s+{_MONTH_NAMES}|{_MONTH_NAMES}\s+\d{{1,2}},?)\s+\d{{4}}$"),
    re.compile(rf"^{_MONTH_NAMES}\s+\d{{4}}$|^\d{{4}}-\d{{2}}-\d{{2}}$"),
    re.compile(r"^agenda\s+items?\s+\d+(?:\s*\(\w\))?$", re.IGNORECASE),
    re.compile(r"^page\s+\d+(?:\s+of\s+\d+)?$", re.IGNORECASE),
    re.compile(r"^\d+(?:st|nd|rd|th)\s+plenary\s+meeting\b", re.IGNORECASE),
]


@dataclass
class _Piece:
    text: str  # markers stripped
    terminated: bool  # ended with . ! ? ; or :
    after: str  # the answer text right after the piece (where a list would follow)


def answer_pieces(answer: str) -> list[_Piece]:
    """An answer's sentences, markers stripped, in order."""
    from bot.text import sentence_spans

    pieces: list[_Piece] = []
    for line in re.finditer(r"[^\n]+", answer):
        for unit in _UNIT.finditer(answer, line.start(), line.end()):
            for start, end in sentence_spans(unit.group(0), unit.start()):
                text = " ".join(_MARKER.sub("", answer[start:end]).split())
                if not text:
                    continue
                tail = end if answer[end : unit.end()].strip() else unit.end()
                pieces.append(_Piece(text, text[-1] in ".!?;:", answer[tail : tail + 40]))
    return pieces


def _lead(text: str) -> str:
    """The sentence without opening quotes, brackets and emphasis."""
    return text.lstrip(_OPENING)


def _capitals_run(text: str) -> bool:
    """Two or more capitalised words opening the sentence: 'GENERAL PROVISIONS …'."""
    words = []
    for word in text.split():
        if not _CAPS_WORD.fullmatch(word.strip(",;:.")):
            break
        words.append(word)
    letters = sum(len(w) for w in words)
    return len(words) >= 2 and letters >= 10 and any(len(w) >= 5 for w in words)


def is_heading(text: str, terminated: bool) -> bool:
    """A heading standing as a sentence: '# Scope', 'Article 53', 'CHAPTER V', 'Article 5
    Prohibited AI practices …', a run of capitals, or a short unpunctuated line without a verb."""
    lead = _lead(text)
    if re.match(r"#{1,6}\s", lead) or _STRUCTURE.match(lead) or _capitals_run(lead):
        return True
    words = lead.rstrip(".!?;:*_").split()
    if terminated or not words or len(words) > 12:
        return False
    return not _VERB_CUE.search(lead)


def is_preamble(text: str) -> bool:
    """A preambular clause of a resolution or treaty: 'Recognizing that …', 'We, the Leaders …'."""
    return bool(_PREAMBLE.match(_lead(text)))


def is_boilerplate(text: str) -> bool:
    """A series line, distribution line, document symbol, date, agenda item or page number."""
    core = _lead(text).rstrip(" .;:")
    return any(p.search(core) for p in _BOILERPLATE)


def is_cut_start(text: str) -> bool:
    """A sentence that starts mid-way: its first letter is lower case ('the Process, which …')."""
    lead = _lead(_LIST_START.sub("", _lead(text), count=1))
    first = next((c for c in lead if c.isalnum()), "")
    return first.isalpha() and first.islower()


def _tokens(text: str) -> set[str]:
    return set(normalize(text).split())


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


REPEAT_JACCARD = 0.9


def readability_defects(answer: str) -> list[Defect]:
    """Every readability defect of one answer, in answer order (a sentence may have several)."""
    defects: list[Defect] = []
    pieces = answer_pieces(answer)
    seen: list[tuple[str, set[str]]] = []
    previous: _Piece | None = None
    for piece in pieces:
        text = piece.text
        in_list = bool(_LIST_START.match(_lead(text)))
        list_context = previous is not None and (
            previous.text.endswith((":", ";")) or bool(_LIST_START.match(_lead(previous.text)))
        )
        if is_boilerplate(text):
            defects.append(Defect("boilerplate", text))
        elif is_heading(text, piece.terminated) and not in_list:
            defects.append(Defect("heading", text))
        if is_preamble(text):
            defects.append(Defect("preamble", text))
        if text.endswith(":") and not _LIST_START.match(piece.after.lstrip(" \t\n\r")):
            defects.append(Defect("dangling_colon", text))
        if is_cut_start(text) and not (in_list and list_context):
            defects.append(Defect("cut_start", text))
        norm = normalize(text)
        tokens = set(norm.split())
        if norm and any(norm == n or jaccard(tokens, t) >= REPEAT_JACCARD for n, t in seen):
            defects.append(Defect("repeat", text))
        seen.append((norm, tokens))
        previous = piece
    return defects


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


def gold_cited(cited_docs: Iterable[str], gold: Iterable[str]) -> float:
    """1 when the answer cites at least one gold document."""
    return float(bool(set(gold).intersection(cited_docs)))


def all_gold_cited(cited_docs: Iterable[str], gold: Iterable[str]) -> float:
    """1 when the answer cites every gold document."""
    gold = set(gold)
    if not gold:
        raise ValueError("all_gold_cited needs at least one gold document")
    return float(gold <= set(cited_docs))


# --------------------------------------------------------------------------- abstention trade-off


@dataclass(frozen=True)
class Decision:
    """One answer as the abstain threshold sees it."""

    evidence: float | None  # the score behind the abstain decision (higher: more confident)
    abstained: bool
    answerable: bool


@dataclass(frozen=True)
class TradeoffPoint:
    threshold: float  # decline when evidence < threshold
    declined_unanswerable: float  # share of unanswerable items declined
    declined_answerable: float  # share of answerable items declined


def abstention_tradeoff(decisions: Sequence[Decision], current: float) -> list[TradeoffPoint]:
    """Declined shares for thresholds swept over the observed evidence values, lowest first.

    An item declined although its evidence reached the ``current`` threshold was declined for
    another reason (an unknown name, the model's refusal): it counts as declined at every
    threshold. Items without evidence that were answered (errors) are left out. Thresholds are
    the midpoints between neighbouring observed values, one below the lowest and one above the
    highest, and ``current`` itself (the operating point).
    """
    forced = [d.abstained and (d.evidence is None or d.evidence >= current) for d in decisions]
    kept = [(d, f) for d, f in zip(decisions, forced, strict=True) if f or d.evidence is not None]
    answerable = sum(d.answerable for d, _ in kept)
    unanswerable = len(kept) - answerable
    if not answerable or not unanswerable:
        return []
    values = sorted({d.evidence for d, f in kept if not f})
    thresholds = {current}
    if values:
        thresholds |= {values[0] - 0.01, values[-1] + 0.01}
        thresholds |= {(a + b) / 2 for a, b in zip(values, values[1:], strict=False)}
    points = []
    for t in sorted(thresholds):
        declined_a = sum(d.answerable and (f or d.evidence < t) for d, f in kept)
        declined_u = sum(not d.answerable and (f or d.evidence < t) for d, f in kept)
        points.append(TradeoffPoint(t, declined_u / unanswerable, declined_a / answerable))
    return points


def best_abstain_threshold(
    points: Sequence[TradeoffPoint], max_declined_answerable: float = 0.05
) -> TradeoffPoint | None:
    """The point declining most unanswerable items while declining at most
    ``max_declined_answerable`` of the answerable ones (fewest answerable on ties, then the
    lowest threshold); None when no threshold keeps within the limit."""
    allowed = [p for p in points if p.declined_answerable <= max_declined_answerable + 1e-12]
    if not allowed:
        return None
    return min(
        allowed, key=lambda p: (-p.declined_unanswerable, p.declined_answerable, p.threshold)
    )


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
