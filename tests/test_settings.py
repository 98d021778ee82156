import pytest

from bot.errors import ConfigError
from bot.settings import Settings


def test_environment_then_code_overrides():
    env = {"ACCORD_TOP_K": "7", "ACCORD_RETRIEVAL": "bm25", "ACCORD_CHECK_NAMES": "false"}
    settings = Settings.from_env(env, retrieval="dense")
    assert settings.top_k == 7
    assert settings.retrieval == "dense"
    assert settings.check_names is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"retrieval": "magic"}, "retrieval='magic'"),
        ({"top_k": 0}, "top_k must be at least 1"),
        ({"chunk_overlap": 500}, "chunk_overlap"),
        ({"chroma_url": "localhost:8000"}, "http://host:port"),
        ({"chunker": "words"}, "chunker='words'"),
    ],
)
def test_bad_values_fail_at_construction_with_the_value(changes, message):
    with pytest.raises(ConfigError, match=message):
        Settings(**changes)


def test_bad_numbers_and_unknown_names_are_reported():
    with pytest.raises(ConfigError, match="ACCORD_TOP_K='many'"):
        Settings.from_env({"ACCORD_TOP_K": "many"})
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings.from_env({}, colour="blue")


def test_api_key_is_never_saved(tmp_path):
    path = tmp_path / "settings.json"
    Settings(llm_api_key="sk-secret").save(path)
    assert "sk-secret" not in path.read_text()
