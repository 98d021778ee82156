"""Chroma through langchain-chroma: a local PersistentClient, or a server via HttpClient.

Both go through the same code; only the client differs. Our embedding function is always
passed, so Chroma never downloads its default model.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from bot.embeddings import Embedder, LangChainEmbeddings
from bot.errors import StoreError
from bot.records import Chunk
from bot.settings import Settings


def date_number(value: object) -> int:
    """'2024-05-03' -> 20240503 so Chroma can range-filter dates; unknown -> 0."""
    digits = re.sub(r"\D", "", str(value or ""))[:8]
    return int(digits.ljust(8, "0")) if len(digits) >= 4 else 0


def chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    """Only scalars Chroma can filter on; the rest lives in the catalog."""
    return {
        "doc_id": chunk.doc_id,
        "chunk_id": chunk.chunk_id,
        "title": chunk.title[:500],
        "issuer": str(chunk.metadata.get("issuer", "")),
        "date": str(chunk.metadata.get("date", "")),
        "date_int": date_number(chunk.metadata.get("date")),
        "chunk_index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
    }


class VectorStore:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embeddings = LangChainEmbeddings(embedder)
        self._lc = None

    @property
    def where(self) -> str:
        return self.settings.chroma_url or str(self.settings.index_dir / "chroma")

    def _client(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if not self.settings.chroma_url:
            path = self.settings.index_dir / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        url = urlparse(self.settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # noqa: BLE001 - chromadb raises ValueError/ConnectionError
            raise StoreError(
                f"cannot reach the Chroma server at {self.settings.chroma_url} ({exc}); "
                "start it with `chroma run --path DIR --port N` or unset ACCORD_CHROMA_URL"
            ) from None

    @property
    def lc(self):
        """The langchain-chroma vector store, created on first use."""
        if self._lc is None:
            from langchain_chroma import Chroma

            self._lc = Chroma(
                collection_name=self.settings.collection,
                embedding_function=self.embeddings,
                client=self._client(),
                collection_metadata={"hnsw:space": "cosine"},
            )
        return self._lc

    def add(self, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        self._call(
            self.lc.add_texts,
            texts=[c.context_text for c in chunks],
            metadatas=[chunk_metadata(c) for c in chunks],
            ids=[c.chunk_id for c in chunks],
        )

    def delete_document(self, doc_id: str) -> None:
        """Delete by metadata, not ids, so leftovers of an interrupted ingest go too."""
        self._call(self.lc._collection.delete, where={"doc_id": doc_id})

    def search(self, vector: list[float], k: int, where: dict | None) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity), best first."""
        if self.count() == 0:
            return []
        hits = self._call(
            self.lc.similarity_search_by_vector_with_relevance_scores,
            embedding=vector,
            k=k,
            filter=where,
        )
        return [(doc.metadata["chunk_id"], 1.0 - float(distance)) for doc, distance in hits]

    def count(self) -> int:
        return self._call(self.lc._collection.count)

    def reset(self) -> None:
        self._call(self.lc.reset_collection)

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - surface store failures as one kind
            if "Could not connect" in str(exc) or "Connect" in type(exc).__name__:
                raise StoreError(
                    f"the Chroma server at {self.settings.chroma_url} is not answering ({exc}); "
                    "is `chroma run` still running?"
                ) from None
            raise
