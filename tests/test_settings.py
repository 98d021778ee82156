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
        ({"retrieval": "magic"}, "retrieval\\)='magic'"),
        ({"top_k": 0}, "top_k\) must be at least 1"),
        ({"chunk_overlap": 500}, "chunk_overlap"),
        ({"chroma_url": "localhost:8000"}, "http://host:port"),
        ({"chunker": "words"}, "chunker\\)='words'"),
        ({"answer_mode": "gpt"}, "ACCORD_ANSWER_MODE .*extractive, local, openai, ollama"),
        ({"abstain_threshold": -5}, "ACCORD_ABSTAIN_THRESHOLD .* between"),
        ({"torch_threads": -1}, "ACCORD_TORCH_THREADS"),
        ({"lock_timeout": -1}, "ACCORD_LOCK_TIMEOUT"),
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


def test_a_misspelt_yes_no_value_is_refused_not_read_as_no():
    with pytest.raises(ConfigError, match="ACCORD_CHECK_NAMES='ture' is not a yes/no value"):
        Settings.from_env({"ACCORD_CHECK_NAMES": "ture"})
    assert Settings.from_env({"ACCORD_CHECK_NAMES": "off"}).check_names is False


def test_the_answer_modes_settings_accept_are_the_registered_backends():
    from bot.answerers import ANSWERERS
    from bot.settings import ANSWER_MODES

    assert set(ANSWER_MODES) == set(ANSWERERS)
