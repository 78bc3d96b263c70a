"""Judge answers: every accepted form, every refusal, and properties over arbitrary text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scillm_tui.core.judge_parse import (
    PICK_KEYS,
    REASON_KEYS,
    JudgeParseError,
    JudgePick,
    parse_judge_output,
    split_thinking,
)
from scillm_tui.core.judge_prompt import labels_for

LABELS = ["A", "B", "C", "D"]
VERDICT = '{"best_id": "B", "reason": "B is correct.", "scores": {"A": 4, "B": 9, "C": 6, "D": 2}}'


def _parse(text: str, labels: list[str] = LABELS) -> JudgePick:
    return parse_judge_output(text, labels)


def _error(text: str, labels: list[str] = LABELS, **kwargs: Any) -> JudgeParseError:
    with pytest.raises(JudgeParseError) as info:
        parse_judge_output(text, labels, **kwargs)
    return info.value


# ---- forms ---------------------------------------------------------------------------------------


def test_plain_verdict() -> None:
    pick = _parse(VERDICT)
    assert pick == JudgePick(
        label="B", reason="B is correct.", scores={"A": 4.0, "B": 9.0, "C": 6.0, "D": 2.0}
    )


@pytest.mark.parametrize(
    "text",
    [
        f"```json\n{VERDICT}\n```",
        f"```\n{VERDICT}\n```",
        f"```JSON\n{json.dumps(json.loads(VERDICT), indent=2)}\n```\n",
        f"Having compared them carefully, here is my verdict:\n\n{VERDICT}\n\nHope it helps!",
        f"Candidate A forgets the {{base case}}; so:\n{VERDICT}",  # stray braces in prose first
        f"{{ oops\n{VERDICT}",  # an unbalanced brace before the verdict
        f'{{"verdict": {VERDICT}}}',  # wrapped in another object
        f'Some notes {{"note": "not a verdict"}} then {VERDICT}',
        f"<think>A or B? {{maybe}}</think>\n{VERDICT}",
    ],
)
def test_json_is_found_in_fences_and_prose(text: str) -> None:
    pick = _parse(text)
    assert pick.label == "B" and pick.reason == "B is correct."
    assert pick.scores["B"] == 9.0


def test_braces_and_quotes_inside_strings_do_not_confuse_the_search() -> None:
    text = 'Verdict: {"reason": "A uses {x} and \\"}\\" oddly {", "best_id": "A"} end }'
    pick = _parse(text)
    assert pick.label == "A"
    assert pick.reason == 'A uses {x} and "}" oddly {'


@pytest.mark.parametrize("key", [*PICK_KEYS[:7], "BEST_ID", "Winner", "Best ID", "bestId"])
def test_pick_key_aliases(key: str) -> None:
    assert _parse(json.dumps({key: "C"})).label == "C"


@pytest.mark.parametrize("key", [*REASON_KEYS[:5], "Rationale", "WHY"])
def test_reason_key_aliases(key: str) -> None:
    assert _parse(json.dumps({"best_id": "A", key: "  because  "})).reason == "because"


def test_first_pick_alias_wins_over_later_ones() -> None:
    assert _parse('{"answer": "a long essay", "best_id": "D"}').label == "D"


@pytest.mark.parametrize(
    "value",
    [
        "B",
        "b",
        " B ",
        "Candidate B",
        "candidate b",
        "Variant B",
        "Option B",
        "[B]",
        "(B)",
        "B.",
        "B)",
        "**B**",
        "`B`",
        "Candidate: B",
        "Candidate (B).",
        "2",
        "#2",
        "Candidate #2",
        2,
        2.0,
        ["B"],
        {"id": "B"},
    ],
)
def test_label_forms(value: Any) -> None:
    assert _parse(json.dumps({"best_id": value})).label == "B"


def test_exact_label_beats_position_number() -> None:
    # With labels that are themselves numbers, "2" is the label "2", not the 2nd label.
    assert _parse('{"best_id": "2"}', ["3", "2", "1"]).label == "2"


def test_long_labels() -> None:
    labels = labels_for(30)
    assert _parse('{"best_id": "Candidate AB"}', labels).label == "AB"
    assert _parse('{"best_id": 28}', labels).label == "AB"


def test_reason_is_optional_and_lists_are_joined() -> None:
    assert _parse('{"best_id": "A"}').reason == ""
    assert _parse('{"best_id": "A", "reason": ["One.", "Two."]}').reason == "One. Two."
    assert _parse('{"best_id": "A", "reason": 42}').reason == ""


# ---- scores --------------------------------------------------------------------------------------


def test_scores_are_canonical_numeric_and_clamped() -> None:
    text = json.dumps(
        {
            "best_id": "A",
            "scores": {
                "a": "8",
                "Candidate B": "7/10",
                "C": "6.5 out of 10",
                "D": 0,
                "Z": 9,  # not a candidate
                "E": 5,
            },
        }
    )
    assert _parse(text).scores == {"A": 8.0, "B": 7.0, "C": 6.5, "D": 1.0}
    assert _parse('{"best_id": "A", "scores": {"A": 15, "B": -3}}').scores == {"A": 10.0, "B": 1.0}


@pytest.mark.parametrize("bad", ['"great"', "null", "true", "[8]", '{"v": 8}', '"8/5"', '"NaN"'])
def test_non_numeric_scores_are_ignored(bad: str) -> None:
    pick = _parse(f'{{"best_id": "A", "scores": {{"A": {bad}, "B": 6}}}}')
    assert pick.scores == {"B": 6.0}


def test_scores_as_lists() -> None:
    assert _parse('{"best_id": "A", "scores": [7, 5, 3, 1]}').scores == {
        "A": 7.0,
        "B": 5.0,
        "C": 3.0,
        "D": 1.0,
    }
    # a list whose length does not match the candidates is ambiguous, so ignored
    assert _parse('{"best_id": "A", "scores": [7, 5]}').scores == {}
    records = '[{"id": "Candidate C", "score": 9}, {"label": "a", "rating": "4/10"}]'
    assert _parse(f'{{"best_id": "C", "scores": {records}}}').scores == {"C": 9.0, "A": 4.0}


def test_scores_only_picks_the_unique_best() -> None:
    pick = _parse('{"scores": {"A": 6, "B": "8/10", "C": 7}, "reason": "B wins"}')
    assert pick.label == "B" and pick.reason == "B wins"


@pytest.mark.parametrize("pick", ["null", '""', '"  "'])
def test_empty_pick_falls_back_to_scores(pick: str) -> None:
    assert _parse(f'{{"best_id": {pick}, "scores": {{"A": 3, "D": 5}}}}').label == "D"


def test_scores_only_tie_is_an_error() -> None:
    error = _error('{"scores": {"A": 8, "B": 8, "C": 2}}')
    assert error.kind == "tie"
    assert str(error) == "the judge gave no pick and its top score is shared by A and B"


# ---- near-JSON -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"best_id": "C", "scores": {"C": 9,},}',
        "{'best_id': 'C', 'reason': \"it's right\"}",
        "Verdict: {'winner': 'Candidate C'} as promised",
    ],
)
def test_trailing_commas_and_single_quotes(text: str) -> None:
    assert _parse(text).label == "C"


# ---- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "I pick B.", "best_id: B", "[1, 2, 3]", '"B"', "{{", "{ B }"])
def test_no_json_object(text: str) -> None:
    error = _error(text)
    assert str(error) == "the judge's answer contains no JSON object"
    assert error.kind == "no_json"


def test_json_without_a_pick_names_its_keys() -> None:
    error = _error('{"verdict": "B is better", "confidence": 0.9}')
    assert error.kind == "no_pick"
    assert str(error) == (
        'the judge\'s JSON has no pick (expected "best_id" naming one of A..D); '
        'its keys were: "verdict", "confidence"'
    )
    assert error.keys == ("verdict", "confidence")
    assert "none" in str(_error("{}"))


def test_scores_without_any_usable_value_is_no_pick() -> None:
    assert _error('{"scores": {"Z": 9, "A": "n/a"}}').kind == "no_pick"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('"Z"', "'Z'"),
        ('"Candidate E"', "'Candidate E'"),
        ('"5"', "'5'"),
        ('"0"', "'0'"),
        ("7", "7"),
        ('"A and B"', "'A and B'"),
        ('"<A|B|C|D>"', "'<A|B|C|D>'"),
        ("2.5", "2.5"),
    ],
)
def test_unknown_label_is_never_guessed(value: str, shown: str) -> None:
    error = _error(f'{{"best_id": {value}, "scores": {{"A": 9}}}}')
    assert str(error) == f"the judge chose {shown}, which is not one of A..D"
    assert error.kind == "unknown_label"
    assert error.labels == ("A", "B", "C", "D")


@pytest.mark.parametrize("value", ["true", "false", '["A", "B"]', '{"x": 1}'])
def test_unusable_pick_types(value: str) -> None:
    error = _error(f'{{"best_id": {value}}}')
    assert error.kind in ("bad_pick", "unknown_label")
    assert "which is not one of A..D" in str(error)


def test_error_carries_the_pick_and_can_speak_in_variant_ids() -> None:
    names = {"A": "v3", "B": "v1", "C": "v4", "D": "v2"}
    error = _error('{"best_id": "v99"}', describe=names.__getitem__)
    assert str(error) == "the judge chose 'v99', which is not one of v3, v1, v4, v2"
    assert error.picked == "v99"
    assert error.labels == ("A", "B", "C", "D")
    tie = _error('{"scores": {"C": 8, "D": 8}}', describe=names.__getitem__)
    assert str(tie).endswith("shared by v4 and v2")


def test_short_label_lists_are_spelled_out() -> None:
    assert str(_error('{"best_id": "C"}', ["A", "B"])).endswith("not one of A, B")
    assert str(_error('{"best_id": "C"}', ["B", "A", "D"])).endswith("not one of B, A, D")


def test_conflicting_verdicts_are_refused() -> None:
    error = _error('First {"best_id": "A"} but on reflection {"best_id": "C"}')
    assert error.kind == "conflict"
    assert str(error) == "the judge's answer contains conflicting verdicts (A and C)"


def test_repeated_and_placeholder_verdicts() -> None:
    assert _parse('{"best_id": "B"} so again: {"best_id": "Candidate B"}').label == "B"
    # an echoed template that resolves to nothing does not hide the real verdict
    assert _parse('Format: {"best_id": "<label>"}. Mine: {"best_id": "D"}').label == "D"


def test_error_type_and_frozen_pick() -> None:
    assert issubclass(JudgeParseError, ValueError)
    pick = _parse(VERDICT)
    with pytest.raises(ValidationError):
        pick.label = "A"  # type: ignore[misc]


@pytest.mark.parametrize("labels", [[], ["A", "A"]])
def test_caller_mistakes_are_plain_value_errors(labels: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        parse_judge_output(VERDICT, labels)
    assert not isinstance(info.value, JudgeParseError)


def test_huge_unbalanced_answers_are_refused_quickly() -> None:
    text = '{"best_id": "A", "x": [' + "{" * 50_000 + "not json"
    assert _error(text).kind == "no_json"
    deep = '{"a":' * 5_000 + '"x"' + "}" * 5_000
    assert _error(deep).kind in ("no_json", "no_pick")
    assert _error('{"' * 50_000).kind == "no_json"
    assert _error("{'" * 50_000).kind == "no_json"


# ---- properties ----------------------------------------------------------------------------------

JSONISH_TOKENS = st.sampled_from(
    [
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        '"',
        "'",
        "\\",
        " ",
        "\n",
        "```",
        '"best_id"',
        '"winner"',
        '"scores"',
        '"reason"',
        '"A"',
        '"b"',
        '"Z"',
        "2",
        "1e999",
        "-0",
        "null",
        "true",
        "NaN",
        '"8/10"',
        '"Candidate C"',
        "None",
        "{'best': 'B'}",
    ]
)
jsonish = st.lists(JSONISH_TOKENS, max_size=40).map("".join)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=300)
@given(text=st.text() | jsonish, n=st.integers(min_value=1, max_value=30))
@example(text="{" * 3000, n=4)
@example(text='{"best_id": ' * 500, n=4)
@example(text="[" * 2000 + '{"best_id": "A"}', n=4)
def test_any_text_gives_a_pick_or_a_judge_parse_error(text: str, n: int) -> None:
    labels = labels_for(n)
    try:
        pick = parse_judge_output(text, labels)
    except JudgeParseError as error:
        assert str(error)
        return
    assert pick.label in labels
    assert set(pick.scores) <= set(labels)
    assert all(1.0 <= score <= 10.0 for score in pick.scores.values())


@given(obj=st.dictionaries(st.sampled_from([*PICK_KEYS, "scores", "x"]), json_values))
def test_any_json_object_gives_a_pick_or_a_judge_parse_error(obj: dict[str, Any]) -> None:
    try:
        text = json.dumps(obj)
    except ValueError:
        return
    try:
        pick = parse_judge_output(text, LABELS)
    except JudgeParseError:
        return
    assert pick.label in LABELS


def _label_forms(label: str, index: int) -> list[Any]:
    return [
        label,
        label.lower(),
        f"Candidate {label}",
        f"Variant {label}",
        f"[{label}]",
        f"({label})",
        f"{label}.",
        str(index + 1),
        index + 1,
        f"#{index + 1}",
    ]


prose = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=200)


@st.composite
def verdicts(draw: st.DrawFn) -> tuple[str, str, list[str], dict[str, int]]:
    labels = labels_for(draw(st.integers(min_value=1, max_value=28)))
    index = draw(st.integers(min_value=0, max_value=len(labels) - 1))
    label = labels[index]
    scores = {lbl: draw(st.integers(min_value=1, max_value=10)) for lbl in labels}
    verdict: dict[str, Any] = {
        draw(st.sampled_from(PICK_KEYS[:7])): draw(st.sampled_from(_label_forms(label, index))),
        draw(st.sampled_from(REASON_KEYS[:5])): draw(st.text(max_size=80)),
        "scores": scores,
    }
    keys = list(verdict)
    order = draw(st.permutations(keys))
    body = json.dumps(
        {k: verdict[k] for k in order},
        indent=draw(st.sampled_from([None, 2])),
        ensure_ascii=draw(st.booleans()),
    )
    if draw(st.booleans()):
        body = f"```{draw(st.sampled_from(['', 'json']))}\n{body}\n```"
    return body, label, labels, scores


@settings(max_examples=300)
@given(before=prose, after=prose, verdict=verdicts())
def test_a_valid_verdict_in_any_prose_is_found(
    before: str, after: str, verdict: tuple[str, str, list[str], dict[str, int]]
) -> None:
    body, label, labels, scores = verdict
    pick = parse_judge_output(before + body + after, labels)
    assert pick.label == label
    assert pick.scores == {k: float(v) for k, v in scores.items()}


# ---- a judge that thinks inline ------------------------------------------------------------------

DRAFT = '{"best_id": "D", "reason": "draft", "scores": {"D": 9}}'


@pytest.mark.parametrize(
    ("text", "thinking", "answer"),
    [
        ("no tags at all", "", "no tags at all"),
        (f"<think>{DRAFT}</think>\n{VERDICT}", DRAFT, VERDICT),
        (f"  <THINKING>a</THINKING><think>b</think> {VERDICT}", "a\n\nb", VERDICT),
        (
            f"R1 style, no opening tag {DRAFT}</think>{VERDICT}",
            f"R1 style, no opening tag {DRAFT}",
            VERDICT,
        ),
        (f"<think>cut while thinking {DRAFT}", f"cut while thinking {DRAFT}", ""),
        (
            f"{VERDICT} and a late <think>tag</think>",
            "",
            f"{VERDICT} and a late <think>tag</think>",
        ),
        (
            '{"best_id": "B", "reason": "says </think>"}',
            "",
            '{"best_id": "B", "reason": "says </think>"}',
        ),
    ],
)
def test_split_thinking(text: str, thinking: str, answer: str) -> None:
    assert split_thinking(text) == (thinking, answer)


def test_a_verdict_inside_the_thinking_is_never_taken() -> None:
    pick = _parse(f"<think>First idea: {DRAFT}</think>{VERDICT}")
    assert pick.label == "B" and pick.reason == "B is correct."
    unclosed = _error(f"<think>{DRAFT}")
    assert unclosed.kind == "no_json" and "only thinking" in unclosed.message
    closed_without_answer = _error(f"<think>{DRAFT}</think>  ")
    assert "only thinking" in closed_without_answer.message
