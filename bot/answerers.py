"""Answer backends, picked by name from ``ANSWERERS``.

A backend streams answer text whose markers ``[i]`` point at the i-th retrieved passage
(1-based); the citation stage renumbers them by first use and checks each sentence against the
passage it cites. The extractive backend needs no language model; the others are LangChain chat
models configured through settings.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from bot.errors import ConfigError, ModelError
from bot.evidence import Sentence
from bot.records import Passage
from bot.settings import Settings


class Answerer(ABC):
    name = ""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    def stream(
        self,
        question: str,
        history: Sequence[dict],
        passages: Sequence[Passage],
        sentences: Sequence[Sentence],
        vectors: np.ndarray,
    ) -> Iterator[str]:
        """Text deltas of the answer, with [i] markers over ``passages``."""


class ExtractiveAnswerer(Answerer):
    """The best-ranked, mutually different sentences, each followed by its passage marker.

    The best sentence comes first, since it is the one most likely to answer; a sentence that
    opens a list brings its items; a question comparing instruments gets a sentence from each.
    """

    name = "extractive"
    duplicate = 0.8  # cosine above which a sentence repeats one already chosen
    keep_ratio = 0.3  # candidates below this share of the best score are left out (dev-tuned)
    max_items = 6  # list items brought by a sentence that opens a list

    def select(self, sentences: Sequence[Sentence], vectors: np.ndarray, question: str = ""):
        if not sentences:
            return []
        scores = np.array([s.score for s in sentences])
        floor = float(scores.max()) * self.keep_ratio
        order = [int(i) for i in np.argsort(-scores) if scores[i] >= floor]
        if comparative(question):
            order = _one_per_document(order, sentences, scores, floor)
        chosen: list[int] = []
        groups: list[list[int]] = []
        words = 0
        for index in order:
            if len(chosen) >= self.settings.max_sentences or words >= self.settings.max_words:
                break
            if index in chosen:
                continue
            if chosen and float((vectors[chosen] @ vectors[index]).max()) > self.duplicate:
                continue
            group = self._with_list(index, sentences, chosen)
            if not group:
                continue
            chosen.extend(group)
            groups.append(sorted(group, key=lambda i: sentences[i].start))
            words += sum(len(sentences[i].text.split()) for i in group)
        return groups

    def _with_list(self, index: int, sentences: Sequence[Sentence], chosen: list[int]):
        """A sentence opening a list comes with its items; an item with the sentence opening
        its list. A list opener whose items are not in the passage is left out."""
        sentence = sentences[index]
        same = [
            i for i, s in enumerate(sentences) if s.passage == sentence.passage and i not in chosen
        ]
        if sentence.text.endswith(":"):
            # Its items are the blocks right after it, one after another, each a list item.
            by_block = {sentences[i].block: i for i in reversed(same)}
            items = []
            block = sentence.block + 1
            while block in by_block and sentences[by_block[block]].item:
                if sentence.marker and sentences[by_block[block]].marker == sentence.marker:
                    break  # "2." after "1. Providers shall:" is the next paragraph
                items.append(by_block[block])
                block += 1
            items = items[: self.max_items]
            return [index, *items] if items else []
        if sentence.item:
            before = [i for i in same if sentences[i].start < sentence.start]
            opener = next((i for i in reversed(before) if sentences[i].text.endswith(":")), None)
            if opener is not None and not any(sentences[i].block == sentence.block for i in chosen):
                return [opener, index]
            if opener is None and not sentence.text[0].isupper():
                return []  # "ensure AI is open…;" means little without what it completes
        return [index]

    def stream(self, question, history, passages, sentences, vectors) -> Iterator[str]:
        groups = self.select(sentences, vectors, question)
        if not groups:
            return
        # Readable order: the best sentence (with its list) first, then each source's other
        # sentences in document order, sources in the order they were chosen.
        first_seen: dict[int, int] = {}
        for rank, group in enumerate(groups):
            first_seen.setdefault(sentences[group[0]].passage, rank)
        rest = sorted(
            groups[1:],
            key=lambda g: (first_seen[sentences[g[0]].passage], sentences[g[0]].start),
        )
        for n, group in enumerate([groups[0], *rest]):
            first = sentences[group[0]]
            if len(group) > 1 and first.text.endswith(":"):
                parts = _list_sentences([sentences[i].text for i in group])
            else:
                parts = [sentences[i].text for i in group]
            for m, part in enumerate(parts):
                lead = "" if n == 0 and m == 0 else " "
                yield lead + with_marker(part, first.passage + 1)


def _list_sentences(texts: list[str]) -> list[str]:
    """A list opener and its items as running sentences: "Providers shall: draw up…; keep…."
    Each part that ends a sentence gets its own marker, so every sentence stays cited."""
    parts, current = [], ""
    for text in texts:
        current = f"{current} {text}".strip()
        if current.endswith((".", "!", "?")):
            parts.append(current)
            current = ""
    if current:
        parts.append(current.rstrip(" ;,") + ".")
    return parts


_COMPARE = re.compile(
    r"\b(?:compar\w*|differ\w*|difference\w*|both|versus|vs\.?|contrast\w*|similar\w*|"
    r"in common|each|two|between|alike|as well as|and the)\b",
    re.IGNORECASE,
)


def comparative(question: str) -> bool:
    """A question that sets two instruments side by side needs evidence from each."""
    return bool(_COMPARE.search(question))


def _one_per_document(order, sentences, scores, floor) -> list[int]:
    """The best sentence of the two best documents first, then the usual order."""
    best_by_doc: dict[str, int] = {}
    for i in np.argsort(-scores):
        doc = sentences[int(i)].doc_id
        if doc not in best_by_doc and scores[i] >= floor * 0.5:
            best_by_doc[doc] = int(i)
    lead = list(best_by_doc.values())[:2]
    return lead + [i for i in order if i not in lead]


def with_marker(text: str, number: int) -> str:
    """'It was signed.' -> 'It was signed [2].' (marker inside the final punctuation)."""
    match = re.search(r"([.!?][\"'”’)]*)$", text)
    if match:
        return f"{text[: match.start()]} [{number}]{match.group(1)}"
    return f"{text} [{number}]"


SYSTEM_PROMPT = """You answer questions about AI diplomacy and international AI governance \
using only the numbered passages provided. Rules:
- Every sentence must end with the marker of the passage that supports it, like [2].
- Use only facts stated in the passages. Do not add outside knowledge.
- If the passages do not answer the question, reply exactly: \
"The indexed documents do not cover this question."
- Be concise: at most five sentences."""

NO_ANSWER = "do not cover this question"


class ChatModelAnswerer(Answerer):
    """Any LangChain chat model; subclasses only say how to build it."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._model = None

    @abstractmethod
    def build(self):
        """The LangChain chat model."""

    @property
    def model(self):
        if self._model is None:
            self._model = self.build()
        return self._model

    def messages(self, question, history, passages) -> list[tuple[str, str]]:
        numbered = "\n\n".join(
            f"[{i}] {p.chunk.title}"
            + (f" — {p.chunk.heading_path}" if p.chunk.headings else "")
            + f"\n{p.chunk.text}"
            for i, p in enumerate(passages, start=1)
        )
        msgs: list[tuple[str, str]] = [("system", SYSTEM_PROMPT)]
        for turn in history[-6:]:
            role = "human" if turn.get("role") == "user" else "ai"
            msgs.append((role, str(turn.get("content", ""))))
        msgs.append(("human", f"Passages:\n\n{numbered}\n\nQuestion: {question}"))
        return msgs

    def stream(self, question, history, passages, sentences, vectors) -> Iterator[str]:
        try:
            for piece in self.model.stream(self.messages(question, history, passages)):
                text = piece.content if isinstance(piece.content, str) else ""
                if text:
                    yield text
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - network/client errors vary by backend
            raise ModelError(
                f"the {self.name} model at {self.settings.llm_base_url or 'its default URL'} "
                f"failed ({exc}); check ACCORD_LLM_BASE_URL and ACCORD_LLM_MODEL"
            ) from None


class OpenAIAnswerer(ChatModelAnswerer):
    """OpenAI or any server speaking its API: vLLM, llama.cpp server, LM Studio."""

    name = "openai"

    def build(self):
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            raise ModelError("answer_mode=openai needs: pip install langchain-openai") from None
        if not self.settings.llm_model:
            raise ConfigError("answer_mode=openai needs ACCORD_LLM_MODEL (the model name)")
        return ChatOpenAI(
            model=self.settings.llm_model,
            base_url=self.settings.llm_base_url or None,
            api_key=self.settings.llm_api_key or "not-needed",
            temperature=0,
            max_retries=1,
            timeout=120,
            streaming=True,
            # llama.cpp's server ignores max_completion_tokens; without max_tokens it runs on.
            extra_body={"max_tokens": self.settings.llm_max_tokens},
        )


class OllamaAnswerer(ChatModelAnswerer):
    name = "ollama"

    def build(self):
        try:
            from langchain_ollama import ChatOllama
        except ImportError:
            raise ModelError("answer_mode=ollama needs: pip install langchain-ollama") from None
        if not self.settings.llm_model:
            raise ConfigError("answer_mode=ollama needs ACCORD_LLM_MODEL (e.g. llama3.2)")
        return ChatOllama(
            model=self.settings.llm_model,
            base_url=self.settings.llm_base_url or None,
            temperature=0,
            num_predict=self.settings.llm_max_tokens,
        )


ANSWERERS: dict[str, Callable[[Settings], Answerer]] = {
    "extractive": ExtractiveAnswerer,
    "openai": OpenAIAnswerer,
    "ollama": OllamaAnswerer,
}


def get_answerer(name: str, settings: Settings) -> Answerer:
    try:
        factory = ANSWERERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown answer mode {name!r}; available: {', '.join(sorted(ANSWERERS))}"
        ) from None
    return factory(settings)
