"""The vector store against a real local Chroma."""

import numpy as np
import pytest

from bot.records import Chunk
from bot.settings import Settings
from bot.store import VectorStore


def tiny_chunks(n: int, doc_id: str = "big") -> list[Chunk]:
    return [Chunk(f"{doc_id}-{i:05d}", doc_id, i, "x", 0, 1, 1) for i in range(n)]


def test_a_document_larger_than_one_chroma_write_is_stored_whole(data_dir, embedder):
    # Two-dimensional vectors keep the write cheap; Chroma's limit counts records, not bytes.
    store = VectorStore(Settings(data_dir=data_dir, collection="tiny"), embedder)
    n = store.max_batch + 1
    chunks = tiny_chunks(n)
    angles = np.linspace(0, 1.5, n)
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)

    with pytest.raises(Exception, match="max batch size"):  # the limit is Chroma's, and real
        store.collection.upsert(
            ids=[c.chunk_id for c in chunks], embeddings=vectors, metadatas=[{"a": 1}] * n
        )
    store.add(chunks, vectors)
    assert store.count() == n
    best, similarity = store.search(vectors[-1].tolist(), 1, None)[0]
    assert best == chunks[-1].chunk_id and similarity == pytest.approx(1.0, abs=1e-4)
    store.delete_document("big")
    assert store.count() == 0
