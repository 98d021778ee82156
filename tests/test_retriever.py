"""AccordRetriever against LangChain's own standard retriever suite."""

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from bot import AccordRetriever, Bot


class TestAccordRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _index(self, indexed_dir):
        type(self)._data_dir = indexed_dir

    @property
    def retriever_constructor(self) -> type[AccordRetriever]:
        return AccordRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"bot": Bot(data_dir=self._data_dir), "k": 2}

    @property
    def retriever_query_example(self) -> str:
        return "What did the G7 agree on advanced AI?"


def test_documents_carry_the_chunk_metadata(indexed_bot):
    docs = indexed_bot.retriever.invoke("What did the G7 agree on advanced AI?", k=1)
    (doc,) = docs
    assert doc.metadata["doc_id"] == "hiroshima-process"
    assert doc.metadata["issuer"] == "G7"
    assert doc.metadata["title"].startswith("Test fixture")
    assert doc.page_content in open(doc.metadata["source"], encoding="utf-8").read()
    assert {"chunk_id", "start", "end", "tokens", "score", "headings"} <= doc.metadata.keys()


def test_filters_pass_through_invoke(indexed_bot):
    docs = indexed_bot.retriever.invoke("rules", k=4, filters={"issuers": ["US government"]})
    assert {d.metadata["doc_id"] for d in docs} == {"chip-export-controls"}
