"""Accord's hybrid retrieval as a LangChain retriever, for chains and agents in the ecosystem."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field


class AccordRetriever(BaseRetriever):
    """``AccordRetriever(bot=Bot(), k=5).invoke("question", k=3, filters={...})``.

    The bot is required: the retriever is a view of one ``Bot`` (its settings, index and
    models), never a second one built behind the caller's back. ``Bot().retriever`` is the
    short way to get one.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    bot: Any = Field(exclude=True)
    k: int = 5
    filters: dict | None = None

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        filters: dict | None = None,
        **kwargs: Any,
    ) -> list[LCDocument]:
        passages = self.bot.search(query, k=k or self.k, filters=filters or self.filters)
        return [
            LCDocument(
                id=p.chunk.chunk_id,
                page_content=p.chunk.text,
                metadata={
                    **{k: v for k, v in p.chunk.metadata.items() if _plain(v)},
                    "doc_id": p.chunk.doc_id,
                    "chunk_id": p.chunk.chunk_id,
                    "title": p.chunk.title,
                    "headings": p.chunk.heading_path,
                    "chunk_index": p.chunk.index,
                    "start": p.chunk.start,
                    "end": p.chunk.end,
                    "tokens": p.chunk.tokens,
                    "score": p.score,
                    "rank": p.rank,
                },
            )
            for p in passages
        ]


def _plain(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, list))
