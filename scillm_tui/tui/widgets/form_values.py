"""The run form's values: read from its fields' text, checked (a problem names its
field), and turned into the run's and the judge's specs. Plain Python, no widgets:
`RunForm` reads its fields and hands them here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scillm_tui.core.endpoints import EndpointName
from scillm_tui.core.judge import JudgeMode, JudgeSpec
from scillm_tui.core.runs import RunSpec

__all__ = ["FormValues", "form_values", "parse_models", "parse_n"]


@dataclass(frozen=True)
class FormValues:
    target: EndpointName
    models: list[str]
    n: int
    temperature: float | None
    max_tokens: int | None
    judge_model: str
    judge_target: EndpointName
    judge_rounds: int
    auto_judge: bool
    judge_models: tuple[str, ...] = ()  # a jury, comma-separated in the form (first: judge_model)
    judge_mode: JudgeMode = "listwise"

    def run_spec(self, prompt: str, system: str | None) -> RunSpec:
        """The run these values describe, for this prompt (`ValueError` if unusable)."""
        return RunSpec(
            prompt=prompt,
            system=system,
            target=self.target,
            models=self.models,
            n=self.n,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )

    def judge_spec(self) -> JudgeSpec:
        return JudgeSpec(
            model=self.judge_model,
            models=self.judge_models if len(self.judge_models) > 1 else (),
            mode=self.judge_mode,
            target=self.judge_target,
            rounds=self.judge_rounds,
        )


def parse_models(raw: str) -> list[str]:
    """The comma-separated model names (blanks dropped)."""
    return [m.strip() for m in raw.split(",") if m.strip()]


def parse_n(raw: str) -> int:
    return _number(raw.strip(), int, 1, 64, "N: a whole number from 1 to 64")


def form_values(
    fields: Mapping[str, str],
    *,
    target: object,
    judge_target: object,
    judge_mode: object,
    auto_judge: bool,
) -> FormValues:
    """The values of the form whose text fields (by widget id) hold `fields`, and whose
    selects and checkbox hold the rest; `ValueError` names the first unusable field."""

    def text(widget_id: str) -> str:
        return fields[widget_id].strip()

    models = parse_models(fields["models"])
    if not models:
        raise ValueError("models: enter at least one model name")
    n = parse_n(fields["n"])
    temperature = _number(
        text("temperature"), float, 0, 2, "temperature: a number from 0 to 2", optional=True
    )
    max_tokens = _number(
        text("max-tokens"),
        int,
        1,
        None,
        "max tokens: a whole number of at least 1, or empty",
        optional=True,
    )
    rounds = _number(
        text("judge-rounds") or "1", int, 1, 9, "judge rounds: a whole number from 1 to 9"
    )
    judges = list(
        dict.fromkeys(m.strip() for m in text("judge-model").split(",") if m.strip())
    ) or [models[0]]
    return FormValues(
        target=_endpoint(target),
        models=models,
        n=n,
        temperature=temperature,
        max_tokens=max_tokens,
        judge_model=judges[0],
        judge_models=tuple(judges),
        judge_mode=_judge_mode(judge_mode),
        judge_target=_endpoint(judge_target),
        judge_rounds=rounds,
        auto_judge=auto_judge,
    )


def _judge_mode(value: object) -> JudgeMode:
    """The judge-mode select's value (its only options are the two modes)."""
    return "pairwise" if value == "pairwise" else "listwise"


def _endpoint(value: object) -> EndpointName:
    """A target select's value (its only options are the two endpoints)."""
    return "sidecar" if value == "sidecar" else "gateway"


def _number(
    raw: str,
    kind: type[int] | type[float],
    low: float,
    high: float | None,
    problem: str,
    *,
    optional: bool = False,
) -> Any:
    """`raw` as a number within [low, high]; empty gives None when `optional`.

    Raises `ValueError(problem)`, which names the field, for anything else.
    """
    if optional and not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(problem) from None
    if not (low <= value and (high is None or value <= high)):  # also refuses NaN
        raise ValueError(problem)
    return value
