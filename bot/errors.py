"""One small exception tree. Messages name the fix; only surfaces turn them into exit codes."""

from __future__ import annotations


class AccordError(Exception):
    """Anything a user can cause: bad input, missing index, unreachable server."""


class ConfigError(AccordError):
    """A setting has a value Accord cannot use."""


class SourceError(AccordError):
    """A file or URL could not be read into a document."""


class IndexMissingError(AccordError):
    """A question was asked before anything was ingested."""


class IndexStaleError(AccordError):
    """The index was built with different chunking or embedding settings."""


class StoreError(AccordError):
    """The vector store (local or a Chroma server) could not be used."""


class ModelError(AccordError):
    """A model (embedding or chat) could not be loaded or called."""


class ModelTimeoutError(ModelError):
    """A chat model took longer than ``llm_timeout`` on one answer (the next may be quicker)."""


class IndexBusyError(AccordError):
    """Another ingest held the index for longer than we were willing to wait."""


class CatalogError(StoreError):
    """The catalog (PostgreSQL, when ACCORD_CATALOG_URL names it) could not be used."""
