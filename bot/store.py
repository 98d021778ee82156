"""Chroma through langchain-chroma: a local PersistentClient, or a server via HttpClient.

Both go through the same code; only the client differs. Our embedding function is always
passed, so Chroma never downloads its default model.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlparse

import numpy as np

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
    """Vectors and the metadata filters need, nothing else: chunk texts live in the catalog, so
    Chroma is not given them (storing them doubled its write time, for a full-text index
    nothing reads)."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.embeddings = LangChainEmbeddings(embedder)
        self._lc = None
        self._chroma = None
        self._collection = None
        self._opening = threading.Lock()
        self._max_batch = 0

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
    def collection(self):
        """The Chroma collection, opened on first use (by one thread; an ingest opens it in the
        background while the first documents are read and embedded)."""
        if self._collection is None:
            with self._opening:
                if self._collection is None:
                    client = self._client()
                    self._collection = self._call(
                        client.get_or_create_collection,
                        name=self.settings.collection,
                        metadata={"hnsw:space": "cosine"},
                        embedding_function=None,
                    )
                    self._chroma = client
        return self._collection

    @property
    def lc(self):
        """The same collection as a langchain-chroma vector store, for LangChain code."""
        if self._lc is None:
            from langchain_chroma import Chroma

            self._lc = Chroma(
                collection_name=self.settings.collection,
                embedding_function=self.embeddings,
                client=self._chroma_client(),
                collection_metadata={"hnsw:space": "cosine"},
            )
        return self._lc

    @property
    def max_batch(self) -> int:
        """Records one write may carry (Chroma refuses a larger call whole: 5,461 locally)."""
        if not self._max_batch:
            self._max_batch = int(self._call(self._chroma_client().get_max_batch_size))
        return self._max_batch

    def add(self, chunks: list[Chunk], vectors: np.ndarray | None = None) -> None:
        """Store ``chunks`` with their ``vectors`` (embedded here when not given), in writes of
        at most :attr:`max_batch` records, so a document of any size fits."""
        if not chunks:
            return
        if vectors is None:
            vectors = self.embedder.embed_passages([c.context_text for c in chunks])
        if len(vectors) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        step = self.max_batch
        for start in range(0, len(chunks), step):
            part = chunks[start : start + step]
            self._call(
                self.collection.upsert,
                ids=[c.chunk_id for c in part],
                embeddings=np.asarray(vectors[start : start + step], dtype=np.float32),
                metadatas=[chunk_metadata(c) for c in part],
            )

    def delete_document(self, doc_id: str) -> None:
        """Delete by metadata, not ids, so leftovers of an interrupted ingest go too."""
        self._call(self.collection.delete, where={"doc_id": doc_id})

    def search(self, vector: list[float], k: int, where: dict | None) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity), best first (an empty collection finds nothing)."""

        def query():
            return self._call(
                self.collection.query,
                query_embeddings=[vector],
                n_results=k,
                where=where,
                include=["metadatas", "distances"],
            )

        try:
            found = query()
        except Exception as exc:
            # Another server rebuilt the index (`ingest.py --rebuild`): the collection this one
            # opened was deleted and made anew under the same name. Open the new one.
            if type(exc).__name__ != "NotFoundError":
                raise
            with self._opening:
                self._collection = self._lc = None
            found = query()
        return [
            (meta["chunk_id"], 1.0 - float(distance))
            for meta, distance in zip(found["metadatas"][0], found["distances"][0], strict=True)
        ]

    def count(self) -> int:
        return self._call(self.collection.count)

    def reset(self) -> None:
        client = self._chroma_client()
        with self._opening:
            self._call(client.delete_collection, self.settings.collection)
            self._collection = self._lc = None
        self.collection  # noqa: B018 - opens the new, empty collection

    def _chroma_client(self):
        self.collection  # noqa: B018 - opens the client with it
        return self._chroma

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
