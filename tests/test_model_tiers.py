"""The embedded tiers: specs, pinned weights, assembly, the fallback, per-model data, runtime figures.

No model is loaded here: the weights are checked as files, and the chat models are only built.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage

from code_generation.api import default_candidates
from my_llm.errors import ModelError
from my_llm.models import get_chat_model, local_model, profile_of
from my_llm.models.factory import choose_default_tier
from my_llm.models.local_model import LocalChatModel, ensure_tier_file, is_ready
from my_llm.models.model_tiers import (
    DEFAULT_TIER,
    FALLBACK_TIER,
    LOCAL_FILE_PROFILE,
    REMOTE_PROFILE,
    TIERS,
    Tier,
    WeightsSource,
    tier_named,
)
from my_llm.models.usage import UsageTracker, runtime_figures


@pytest.mark.parametrize("name", sorted(TIERS))
def test_each_tier_is_installed_as_its_pinned_parts(name: str) -> None:
    source = TIERS[name].weights
    parts = local_model._part_files(source)
    assert len(parts) == len(source.distributions)
    assert [p.name for p in parts] == [source.part_name(i) for i in range(1, len(parts) + 1)]
    assert sum(p.stat().st_size for p in parts) == source.size
    with parts[0].open("rb") as handle:
        assert handle.read(4) == b"GGUF"  # the first part starts the GGUF file


def test_the_default_is_the_stronger_tier_and_falls_back_to_the_smaller() -> None:
    assert DEFAULT_TIER == "1.5b" and FALLBACK_TIER == "0.5b"
    assert TIERS["1.5b"].weights.size > TIERS["0.5b"].weights.size


@pytest.mark.parametrize("spelling", ["1.5b", "1.5B", " 1.5b "])
def test_tiers_are_named_in_any_case(spelling: str) -> None:
    assert tier_named(spelling) is TIERS["1.5b"]
    assert tier_named("3b") is None


def test_assembly_joins_the_parts_checks_the_sha256_and_stamps_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MY_LLM_CACHE", str(tmp_path))
    parts = [tmp_path / "a.bin", tmp_path / "b.bin"]
    parts[0].write_bytes(b"GGUF" + b"x" * 1000)
    parts[1].write_bytes(b"y" * 500)
    joined = parts[0].read_bytes() + parts[1].read_bytes()
    tier = Tier("t", "test tier", WeightsSource("t.gguf", hashlib.sha256(joined).hexdigest(), len(joined), ("p1", "p2")))
    monkeypatch.setattr(local_model, "_part_files", lambda source: parts)
    assert not is_ready(tier)
    path = ensure_tier_file(tier, show_progress=False)
    assert path.read_bytes() == joined and is_ready(tier)
    parts[0].write_bytes(b"changed")  # a second call trusts the stamp and reads no part
    assert ensure_tier_file(tier, show_progress=False) == path


def test_a_wrong_checksum_leaves_no_file_behind(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MY_LLM_CACHE", str(tmp_path))
    part = tmp_path / "a.bin"
    part.write_bytes(b"GGUF-but-not-the-pinned-bytes")
    tier = Tier("t", "test tier", WeightsSource("t.gguf", "0" * 64, part.stat().st_size, ("p1",)))
    monkeypatch.setattr(local_model, "_part_files", lambda source: [part])
    with pytest.raises(ModelError, match="checksum of test tier does not match"):
        ensure_tier_file(tier, show_progress=False)
    assert not list((tmp_path / "models").glob("t.*gguf")) and not (tmp_path / "models" / "t.partial").exists()


def test_a_missing_part_package_is_one_clear_error() -> None:
    source = WeightsSource("x.gguf", "0" * 64, 1, ("no-such-distribution-part1",))
    with pytest.raises(ModelError, match="package no-such-distribution-part1 missing"):
        local_model._part_files(source)


def test_the_default_tier_when_it_fits() -> None:
    assert choose_default_tier(16.0, 100.0, assembled=False, warn=False) is TIERS[DEFAULT_TIER]
    assert choose_default_tier(None, None, assembled=False, warn=False) is TIERS[DEFAULT_TIER]


def test_too_little_memory_falls_back_and_says_so(capsys) -> None:
    need = TIERS[DEFAULT_TIER].profile.min_memory_gib
    assert choose_default_tier(need - 0.5, 100.0, assembled=True) is TIERS[FALLBACK_TIER]
    err = capsys.readouterr().err
    assert "does not fit" in err and "memory" in err and TIERS[FALLBACK_TIER].label in err


def test_too_little_disk_falls_back_only_before_assembly(capsys) -> None:
    assert choose_default_tier(16.0, 0.5, assembled=False) is TIERS[FALLBACK_TIER]
    assert "disk" in capsys.readouterr().err
    assert choose_default_tier(16.0, 0.5, assembled=True, warn=False) is TIERS[DEFAULT_TIER]


def test_specs_build_the_tier_with_its_profile() -> None:
    small = get_chat_model("local:0.5b", show_progress=False)
    large = get_chat_model("local:1.5b", show_progress=False)
    assert isinstance(small, LocalChatModel) and isinstance(large, LocalChatModel)
    assert small.model_path.endswith(TIERS["0.5b"].weights.filename)
    assert large.model_path.endswith(TIERS["1.5b"].weights.filename)
    for chat, tier in ((small, TIERS["0.5b"]), (large, TIERS["1.5b"])):
        assert profile_of(chat) == tier.profile
        assert chat.speculative == tier.profile.speculative and chat.n_ctx == tier.profile.n_ctx
        assert default_candidates(chat) == tier.profile.candidates


def test_a_path_to_a_tier_file_gets_that_tiers_profile_and_any_other_file_the_generic_one(tmp_path: Path) -> None:
    known = get_chat_model(f"local:{ensure_tier_file(TIERS['0.5b'], show_progress=False)}", show_progress=False)
    assert profile_of(known) == TIERS["0.5b"].profile
    other = tmp_path / "mine.gguf"
    other.write_bytes(b"GGUF")
    assert profile_of(get_chat_model(f"local:{other}", show_progress=False)) == LOCAL_FILE_PROFILE


def test_an_unknown_local_spec_names_the_tiers() -> None:
    with pytest.raises(ModelError) as caught:
        get_chat_model("local:7b", show_progress=False)
    message = str(caught.value)
    assert "local:0.5b" in message and "local:1.5b" in message and "\n" not in message


def test_remote_and_fake_models_get_the_remote_profile() -> None:
    assert profile_of(FakeListChatModel(responses=["x"])) == REMOTE_PROFILE
    assert default_candidates(FakeListChatModel(responses=["x"])) == 1
    assert profile_of(get_chat_model("openai:m", base_url="http://127.0.0.1:9/v1")) == REMOTE_PROFILE


def test_runtime_timings_become_call_figures_and_a_cache_hit_rate() -> None:
    timings = {"prompt_n": 40, "cache_n": 160, "prompt_per_second": 85.04, "predicted_per_second": 33.3,
               "draft_n": 50, "draft_n_accepted": 45}
    reply = AIMessage("x", usage_metadata={"input_tokens": 200, "output_tokens": 10, "total_tokens": 210},
                      response_metadata={"timings": timings})
    assert runtime_figures(reply) == {"prompt_n": 40, "cache_n": 160, "prompt_tokens_per_s": 85.0,
                                      "tokens_per_s": 33.3, "draft_n": 50, "draft_accepted": 45}
    usage = UsageTracker(model_name="local:x.gguf")
    usage.record("code-1", [], reply, 1.0)
    usage.record("code-2", [], AIMessage("y", response_metadata={"timings": {**timings, "cache_n": 0}}), 1.0)
    assert usage.cache_hit_rate == round(160 / 240, 4)
    assert usage.to_dict()["cache_hit_rate"] == usage.cache_hit_rate
    assert runtime_figures(AIMessage("z")) == {}  # a remote model reports none
    assert UsageTracker().cache_hit_rate is None
