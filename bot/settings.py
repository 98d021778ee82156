"""One typed settings object, read once from ``ACCORD_*`` variables and overridable in code.

Validation happens on construction so a bad value fails at start-up with the value in the
message, not deep inside a query.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

RETRIEVAL_MODES = ("hybrid", "dense", "bm25")
CHUNKERS = ("structure", "tokens", "recursive")
# The answer backends' registry (bot.answerers.ANSWERERS) is checked against this list in tests;
# settings cannot import it without a cycle.
ANSWER_MODES = ("extractive", "local", "openai", "ollama")
CHOICES = {
    "retrieval": RETRIEVAL_MODES,
    "chunker": CHUNKERS,
    "answer_mode": ANSWER_MODES,
    "precision": ("auto", "bf16", "fp32"),
}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")

# Fields that change what is stored in the index; a change to any of them needs --rebuild.
INDEX_FIELDS = ("embedding_model", "chunker", "chunk_tokens", "chunk_overlap")
# Bumped whenever chunking changes what it produces from the same text.
CHUNKER_VERSION = 2


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path("data"))
    corpus_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "corpus")
    chroma_url: str = ""
    # Where the catalog lives: empty for the file in the index folder, or
    # postgresql://user:password@host:port/database to share one between page servers (each
    # then derives its keyword index and snapshots from it, checking for a new generation
    # every catalog_poll seconds). A shared catalog needs a shared vector store (chroma_url).
    catalog_url: str = ""
    catalog_poll: float = 1.0
    collection: str = "accord"
    embedding_model: str = "minilm"
    # How documents are cut: "structure" (token windows that follow headings and the text's
    # own articles and sections), "tokens" (headings and paragraph ends only) or "recursive"
    # (LangChain's 1,000-character splitter, the eval's naive baseline).
    chunker: str = "structure"
    chunk_tokens: int = 400
    chunk_overlap: int = 60
    retrieval: str = "hybrid"
    top_k: int = 10  # passages retrieved; their sentences are the evidence an answer draws on
    candidates: int = 30
    rrf_k: int = 60
    answer_mode: str = "extractive"
    max_sentences: int = 4
    max_words: int = 110  # an extractive answer stops adding sentences past this length
    # Abstain when no sentence comes within abstain_threshold (cosine of "heading: sentence"
    # to the question plus half its share of the question's idf-weighted terms), or when the
    # question names something no document mentions (check_names). The highest threshold that
    # declines at most 5% of the answerable dev items of each reference set (0.62 declined 5.3%
    # on the official documents' dev items); python -m evals.abstention prints the trade-off.
    abstain_threshold: float = 0.58
    check_names: bool = True
    # The trained answer-sentence selector (bot/selector.py) rescores the `rerank` sentences the
    # ranker likes best, folding its cosine into the ranker's score (selector_weight: cosine
    # per factor e, dev-tuned). answer_threshold applies only to a cross-encoder selector, whose
    # probability then decides abstention; the shipped bi-encoder leaves it to
    # abstain_threshold.
    selector: bool = True
    rerank: int = 30
    selector_weight: float = 0.2
    # A question asking several things is answered ask by ask (bot/decompose.py).
    decompose: bool = True
    answer_threshold: float = 0.5
    # Answer modes that use a language model: "local" runs a GGUF file in this process
    # (llm_model when it names a .gguf file, else the SmolLM2 model packaged on PyPI); "openai"
    # and "ollama" talk to a server at llm_base_url serving llm_model.
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_max_tokens: int = 300  # tokens a model may write per answer (5 sentences fit), any mode
    llm_timeout: float = 120.0  # seconds a model may take to answer before Accord gives up
    llm_passages: int = 4  # passages a model reads (the best ones); small models lose the thread
    llm_source_words: int = 100  # of each, its best-ranked sentences up to about this many words
    llm_context: int = 8192  # context window of the local model, in tokens
    # A sentence counts as supported by what it cites when their meaning scores at least this
    # (MiniLM cosine, calibrated with `python -m evals --calibrate`) and the cited passages state
    # every number and name it does. strict drops unsupported and uncited sentences.
    support_threshold: float = 0.61
    strict: bool = False
    # CPU threads for the embedding model; 0 means one per core, fastest on an idle machine
    # (python -m evals.bench). On a busy 2-core machine 1 thread was several times faster.
    torch_threads: int = 0
    # Embedding arithmetic: "auto" uses bfloat16 where the CPU has it natively, else fp32.
    precision: str = "auto"
    url_timeout: float = 15.0
    url_max_bytes: int = 5_000_000
    # A local file larger than this is refused before it is read: a 20 MB text file is some
    # 11,000 chunks and the better part of an hour of embedding on two cores.
    max_file_bytes: int = 20_000_000
    # Seconds an ingest waits for another one (ingest.py, an upload) to finish with the index
    # before refusing; questions never wait.
    lock_timeout: float = 600.0

    @property
    def decline_below(self) -> float:
        """The evidence score under which Accord abstains: a cross-encoder selector's answer
        probability when one is on, else the ranker's closeness (a bi-encoder's cosine is not
        calibrated as an answer score, so the shipped selector leaves abstention alone)."""
        if self.selector and _selector_kind() == "cross":
            return self.answer_threshold
        return self.abstain_threshold

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "corpus_dir", Path(self.corpus_dir))
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"{_names(name)}={getattr(self, name)!r} is not one of {', '.join(allowed)}"
                )
        for name in ("chunk_tokens", "top_k", "candidates", "rrf_k", "max_sentences",
                     "max_words", "llm_max_tokens", "llm_passages", "llm_context",
                     "llm_source_words", "rerank"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ConfigError(f"{_names(name)} must be at least 1, got {getattr(self, name)}")
        for name, low, high in (
            ("abstain_threshold", -1.0, 2.0),
            ("support_threshold", 0.0, 1.0),
            ("answer_threshold", 0.0, 1.0),
            ("selector_weight", 0.001, 10.0),
        ):
            if not low <= getattr(self, name) <= high:
                raise ConfigError(
                    f"{_names(name)} must be between {low} and {high}, got {getattr(self, name)}"
                )
        if self.torch_threads < 0:
            raise ConfigError(f"{_names('torch_threads')} must be 0 (one per core) or more")
        if not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ConfigError(
                f"{_names('chunk_overlap')} must be between 0 and chunk_tokens "
                f"({self.chunk_tokens}), got {self.chunk_overlap}"
            )
        if self.chunk_tokens < 50:
            raise ConfigError(
                f"{_names('chunk_tokens')} must be at least 50, got {self.chunk_tokens}"
            )
        if self.chroma_url and not self.chroma_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"{_names('chroma_url')} must look like http://host:port, got {self.chroma_url!r}"
            )
        if self.catalog_url and not self.catalog_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                f"{_names('catalog_url')} must look like postgresql://user:password@host:port/"
                "database (or be empty for the local catalog), got "
                f"{redact_url(self.catalog_url)!r}"
            )
        if self.catalog_url and not self.chroma_url:
            raise ConfigError(
                f"{_names('catalog_url')} shares the catalog between servers, but the vectors "
                "would stay in this one's folder: set ACCORD_CHROMA_URL to a `chroma run` "
                "server as well"
            )
        if self.catalog_poll <= 0:
            raise ConfigError(f"{_names('catalog_poll')} must be more than 0 seconds")
        if self.llm_timeout <= 0:
            raise ConfigError(f"{_names('llm_timeout')} must be more than 0 seconds")
        if self.url_timeout <= 0 or self.url_max_bytes <= 0 or self.max_file_bytes <= 0:
            raise ConfigError("url_timeout, url_max_bytes and max_file_bytes must be positive")
        if self.lock_timeout < 0:
            raise ConfigError(
                f"{_names('lock_timeout')} must be 0 (do not wait) or more seconds, "
                f"got {self.lock_timeout}"
            )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``ACCORD_<FIELD>`` variables, then keyword overrides on top."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"ACCORD_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, raw, f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed; None means "keep", as in ``from_env``."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["data_dir"] = str(self.data_dir)
        data["corpus_dir"] = str(self.corpus_dir)
        data["llm_api_key"] = "***" if self.llm_api_key else ""
        data["catalog_url"] = redact_url(self.catalog_url)
        return data

    def index_fingerprint(self) -> dict[str, Any]:
        fingerprint = {name: getattr(self, name) for name in INDEX_FIELDS}
        return {**fingerprint, "chunker_version": CHUNKER_VERSION}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True), encoding="utf-8")


def redact_url(url: str) -> str:
    """A URL without its password (user:password@ → user:***@)."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def _names(name: str) -> str:
    """A setting as a reader may have written it: the variable and the keyword."""
    return f"ACCORD_{name.upper()} ({name})"


def _parse(name: str, raw: str, type_name: Any) -> Any:
    type_name = str(type_name)
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"ACCORD_{name.upper()}={raw!r} is not a number") from None
    if type_name == "bool":
        try:
            return yes_no(raw)
        except ValueError:
            raise ConfigError(
                f"ACCORD_{name.upper()}={raw!r} is not a yes/no value; use one of "
                f"{', '.join(_TRUE + _FALSE)}"
            ) from None
    return raw


def yes_no(raw: str) -> bool:
    """A flag as people write it ("yes", "0", "off"); ValueError for anything else."""
    value = raw.strip().lower()
    if value not in _TRUE + _FALSE:
        raise ValueError(raw)
    return value in _TRUE


@functools.cache
def _selector_kind() -> str:
    """Which selector ships (its manifest's kind), read once, without loading the model."""
    from bot.errors import ModelError
    from bot.selector import Manifest

    try:
        return Manifest.read().kind
    except ModelError:  # no model: the bot says so when it needs one
        return "bi"
