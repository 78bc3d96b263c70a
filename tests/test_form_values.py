"""The run form's values, checked without a screen (`widgets/form_values.py`): what a
user typed becomes the run and judge specs, or a message naming the first bad field."""

from __future__ import annotations

import pytest

from scillm_tui.tui.widgets.form_values import FormValues, form_values

FIELDS = {
    "models": " m1, m2 ,",
    "n": " 4 ",
    "temperature": "0.3",
    "max-tokens": "",
    "judge-model": "j1, j2, j1",
    "judge-rounds": "",
}


def _values(**changed: str) -> FormValues:
    fields = {**FIELDS, **{k.replace("_", "-"): v for k, v in changed.items()}}
    return form_values(
        fields, target="sidecar", judge_target="gateway", judge_mode="pairwise", auto_judge=False
    )


def test_typed_text_becomes_the_run_and_its_jury() -> None:
    values = _values()
    spec = values.run_spec("hello", None)
    assert (spec.models, spec.n, spec.temperature, spec.max_tokens) == (["m1", "m2"], 4, 0.3, None)
    assert spec.target == "sidecar" and not values.auto_judge
    judge = values.judge_spec()
    assert (judge.model, judge.models, judge.mode, judge.rounds) == (
        "j1",
        ("j1", "j2"),
        "pairwise",
        1,
    )


def test_no_judge_typed_judges_with_the_first_model() -> None:
    assert _values(judge_model=" ").judge_spec().model == "m1"


@pytest.mark.parametrize(
    ("changed", "problem"),
    [
        ({"models": " , ", "n": "x"}, "models: enter at least one model name"),  # first wins
        ({"n": "65"}, "N: a whole number from 1 to 64"),
        ({"temperature": "nan"}, "temperature: a number from 0 to 2"),
        ({"max_tokens": "0"}, "max tokens: a whole number of at least 1, or empty"),
        ({"judge_rounds": "10"}, "judge rounds: a whole number from 1 to 9"),
    ],
)
def test_the_first_unusable_field_is_named(changed: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        _values(**changed)
