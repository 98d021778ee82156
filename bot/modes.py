"""Which answer modes work on this machine right now, checked once at start-up.

The page offers only these, each labelled with the model behind it, so a reader always knows
what wrote an answer and nothing switches silently. A server that is configured but does not
answer is left out with the reason, which the page's start-up log shows.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from bot.answerers import OLLAMA_URL
from bot.errors import AccordError
from bot.settings import Settings

log = logging.getLogger(__name__)
PROBE_SECONDS = 2.0
# The one command that installs the `local` mode (llama.cpp is compiled, so `make chat` skips it).
LOCAL_ENABLE = "make local-model"


@dataclass(frozen=True)
class ModeOption:
    mode: str  # an answer mode of bot.answerers.ANSWERERS
    label: str  # what the selector shows: the mode and its model
    settings: Settings | None = None  # settings for this mode when they differ from the bot's
    enable: str = ""  # set on a mode that is listed but not installed: the command that adds it

    @property
    def usable(self) -> bool:
        return not self.enable


def installable_modes() -> list[ModeOption]:
    """Modes this machine could offer after one command, listed (not usable) so a reader
    learns how to get them: ``local`` when llama.cpp is not installed."""
    from bot.local_llm import available

    if available():
        return []
    label = f"local · not installed (run: {LOCAL_ENABLE})"
    return [ModeOption("local", label, enable=LOCAL_ENABLE)]


def available_modes(settings: Settings) -> tuple[list[ModeOption], list[str]]:
    """The modes that can answer now (extractive first), and why others were left out."""
    options = [ModeOption("extractive", "extractive (no model)")]
    skipped: list[str] = []
    for probe in (_local, _openai, _ollama):
        try:
            option = probe(settings)
        except AccordError as exc:
            skipped.append(str(exc))
            continue
        if option:
            options.append(option)
    for reason in skipped:
        log.info("answer mode left out: %s", reason)
    return options, skipped


def _local(settings: Settings) -> ModeOption | None:
    from bot.local_llm import available, model_path

    if not available():
        raise AccordError(f"local: llama-cpp-python is not installed; `{LOCAL_ENABLE}` adds it")
    path = model_path(settings.llm_model if settings.answer_mode == "local" else "")
    return ModeOption("local", f"local · {path.name}", settings.with_(llm_model=str(path)))


def _openai(settings: Settings) -> ModeOption | None:
    if settings.answer_mode == "openai" and not settings.llm_base_url and settings.llm_model:
        # OpenAI's own API: configured on purpose, offered as configured (a probe would
        # cost a request, and an unreachable network shows as an error on the first answer)
        return ModeOption("openai", f"openai · {settings.llm_model}", settings)
    if not settings.llm_base_url or settings.answer_mode == "ollama":
        return None
    if not settings.llm_model:
        raise AccordError("openai: ACCORD_LLM_BASE_URL is set but ACCORD_LLM_MODEL is not")
    _get_json(settings.llm_base_url.rstrip("/") + "/models", "openai")
    return ModeOption("openai", f"openai · {settings.llm_model}", settings)


def _ollama(settings: Settings) -> ModeOption | None:
    configured = settings.answer_mode == "ollama"
    base = settings.llm_base_url if configured and settings.llm_base_url else OLLAMA_URL
    try:
        tags = _get_json(base.rstrip("/") + "/api/tags", "ollama")
    except AccordError:
        if configured:
            raise
        return None  # nothing listens on Ollama's default port: not an error
    models = [m.get("name", "") for m in tags.get("models", []) if isinstance(m, dict)]
    model = settings.llm_model if configured and settings.llm_model else next(iter(models), "")
    if not model:
        raise AccordError(f"ollama: the server at {base} has no model pulled")
    return ModeOption(
        "ollama", f"ollama · {model}", settings.with_(llm_base_url=base, llm_model=model)
    )


def _get_json(url: str, mode: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=PROBE_SECONDS) as reply:  # noqa: S310
            return json.loads(reply.read(1_000_000) or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AccordError(f"{mode}: no answer from {url} ({exc})") from None
