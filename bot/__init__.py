"""Accord: answers about AI diplomacy and governance, every claim cited to a passage."""

from bot.core import Bot
from bot.errors import AccordError
from bot.records import Answer, Chunk, Citation, Document, IngestReport, Passage
from bot.retrieval import Filters
from bot.settings import Settings
from bot.verification import SentenceCheck


def __getattr__(name: str):
    # The retriever pulls in LangChain's retriever machinery; load it only when asked for.
    if name == "AccordRetriever":
        from bot.retriever import AccordRetriever

        return AccordRetriever
    raise AttributeError(name)


__all__ = [
    "AccordError",
    "AccordRetriever",
    "Answer",
    "Bot",
    "Chunk",
    "Citation",
    "Document",
    "Filters",
    "IngestReport",
    "Passage",
    "SentenceCheck",
    "Settings",
]
