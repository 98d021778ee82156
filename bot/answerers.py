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
    """The most relevant, mutually different sentences, each followed by its passage marker."""

    name = "extractive"
    diversity = 0.3  # MMR trade-off: how much redundancy with chosen sentences costs
    duplicate = 0.8  # cosine above which a sentence repeats one already chosen
    keep_ratio = 0.75  # stop when candidates fall below this share of the best score

    def select(self, sentences: Sequence[Sentence], vectors: np.ndarray) -> list[int]:
        if not sentences:
            return []
        scores = np.array([s.score for s in sentences])
        floor = max(float(scores.max()) * self.keep_ratio, self.settings.abstain_threshold * 0.9)
        chosen: list[int] = []
        candidates = [i for i in np.argsort(-scores) if scores[i] >= floor]
        while candidates and len(chosen) < self.settings.max_sentences:
            if chosen:
                overlap = (vectors[candidates] @ vectors[chosen].T).max(axis=1)
            else:
                overlap = np.zeros(len(candidates))
            mmr = scores[candidates] - self.diversity * overlap
            pick = int(np.argmax(mmr))
            index = candidates.pop(pick)
            if chosen and overlap[pick] > self.duplicate:
                continue
            chosen.append(index)
        return chosen

    def stream(self, question, history, passages, sentences, vectors) -> Iterator[str]:
        chosen = self.select(sentences, vectors)
        # Readable order: sources in order of their best sentence, document order within one.
        first_seen: dict[int, int] = {}
        for rank, i in enumerate(chosen):
            first_seen.setdefault(sentences[i].passage, rank)
        chosen.sort(key=lambda i: (first_seen[sentences[i].passage], sentences[i].start))
        for n, i in enumerate(chosen):
            sentence = sentences[i]
            yield ("" if n == 0 else " ") + with_marker(sentence.text, sentence.passage + 1)


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
