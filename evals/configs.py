"""Named configurations: each maps to the Bot settings it changes, picked from one registry."""

from __future__ import annotations

from collections.abc import Callable

from bot.errors import ConfigError
from bot.settings import Settings

LLM_MODES = ("openai", "ollama")


def _retrieval(mode: str) -> Callable[[Settings], Settings]:
    def build(base: Settings) -> Settings:
        return base.with_(retrieval=mode, answer_mode="extractive")

    return build


def _llm(base: Settings) -> Settings:
    if not base.llm_model:
        raise ConfigError(
            "config 'llm' needs a chat model: set ACCORD_LLM_MODEL (and ACCORD_LLM_BASE_URL for "
            "a local server, ACCORD_ANSWER_MODE=ollama for Ollama), or drop llm from --config"
        )
    mode = base.answer_mode if base.answer_mode in LLM_MODES else "openai"
    return base.with_(retrieval="hybrid", answer_mode=mode)


def _local(base: Settings) -> Settings:
    """Hybrid retrieval, answers written by the in-process GGUF model (bot/local_llm.py)."""
    return base.with_(retrieval="hybrid", answer_mode="local")


def _naive(base: Settings) -> Settings:
    """The usual LangChain stack: 1,000-character recursive chunks, dense top-4, same composer."""
    return base.with_(chunker="recursive", retrieval="dense", top_k=4, answer_mode="extractive")


CONFIGS: dict[str, Callable[[Settings], Settings]] = {
    "naive": _naive,
    "dense": _retrieval("dense"),
    "bm25": _retrieval("bm25"),
    "hybrid": _retrieval("hybrid"),
    "llm": _llm,
    "local": _local,
}
DEFAULT_CONFIG = "hybrid"


def parse_configs(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError("--config needs at least one name, e.g. --config dense,bm25,hybrid")
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise ConfigError(
            f"unknown config(s) {', '.join(unknown)}; available: {', '.join(CONFIGS)}"
        )
    return list(dict.fromkeys(names))


def settings_for(name: str, base: Settings) -> Settings:
    return CONFIGS[name](base)
