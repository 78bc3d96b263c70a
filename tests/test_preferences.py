"""Preference pairs from the history (`scillm-tui prefs`), and your pick stored there.

The two formats are checked against pydantic models written from their documentation
(TRL's preference dataset form, OpenAI's preference fine-tuning form), extra keys
forbidden, so a stray field or a missing one fails.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict

from scillm_tui.cli.main import build_parser, main
from scillm_tui.cli.prefs import prefs_command
from scillm_tui.core.human_verdict import HumanVerdict, agreement, latest_pick
from scillm_tui.core.judge import Verdict
from scillm_tui.core.preferences import agreement_at_least, parse_min_agreement
from scillm_tui.core.run_history import HistoryStore
from scillm_tui.core.run_history.models import RunSnapshot, VariantSnapshot

# ---- the documented schemas -------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Message(_Strict):
    role: Literal["system", "user", "assistant"]
    content: str


class AssistantMessage(_Strict):
    role: Literal["assistant"]
    content: str


class TrlStandard(_Strict):
    """TRL preference dataset, standard form."""

    prompt: str
    chosen: str
    rejected: str


class TrlConversational(_Strict):
    """TRL preference dataset, conversational form (implicit prompt separated)."""

    prompt: list[Message]
    chosen: list[AssistantMessage]
    rejected: list[AssistantMessage]


class OpenAIInput(_Strict):
    messages: list[Message]


class OpenAIPreference(_Strict):
    """OpenAI preference fine-tuning (DPO) JSONL line."""

    input: OpenAIInput
    preferred_output: list[AssistantMessage]
    non_preferred_output: list[AssistantMessage]


# ---- a history to read ------------------------------------------------------------------

THINKING = "SECRET-SCRATCHPAD reasoning that must never be exported"


def variant(vid: str, answer: str, status: str = "done", position: int = 0) -> VariantSnapshot:
    return VariantSnapshot(
        variant_id=vid,
        position=position,
        model=f"model-{vid}",
        endpoint="gateway",
        status=status,
        error="boom" if status == "error" else None,
        answer=answer,
        thinking=THINKING,
        record={"id": vid, "judgeable": status == "done" and bool(answer.strip())},
    )


def add_run(
    store: HistoryStore,
    run_id: str,
    answers: dict[str, tuple[str, str]],
    *,
    system: str | None = None,
    prompt: str = "Name a colour.",
) -> None:
    variants = tuple(
        variant(vid, text, status, i) for i, (vid, (text, status)) in enumerate(answers.items())
    )
    store.begin_run(
        RunSnapshot(
            run_id=run_id,
            started_at=datetime.now(UTC),
            prompt=prompt,
            system=system,
            models=sorted({v.model for v in variants}),
            n=len(variants),
            settings={},
            bases={"gateway": "http://127.0.0.1:1"},
            variants=variants,
        )
    )
    store.finish_run(run_id, variants)


def judge(store: HistoryStore, run_id: str, best: str, agreement: str = "1/1") -> None:
    verdict = Verdict(
        status="verdict",
        best_id=best,
        judge_model="judge-m",
        judge_endpoint="gateway",
        agreement=agreement,
    )
    store.add_judgment(run_id, verdict)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "history.db"
    store = HistoryStore.open(path)
    # r1: judged v1 (3/3), you picked v2; v3 failed, v4 says what v1 says.
    add_run(
        store,
        "r1",
        {
            "v1": ("red", "done"),
            "v2": ("blue", "done"),
            "v3": ("partial", "error"),
            "v4": ("red", "done"),
        },
    )
    judge(store, "r1", "v1", "3/3")
    failed = Verdict(status="error", judge_model="judge-m", judge_endpoint="gateway", error="x")
    store.add_judgment("r1", failed)  # a failed re-judge: the verdict before still counts
    store.add_human_verdict("r1", ["v2"], "v2")
    # r2: a system prompt, judged v2 with 1/3 agreement only, no pick.
    add_run(store, "r2", {"v1": ("green", "done"), "v2": ("teal", "done")}, system="Be terse.")
    judge(store, "r2", "v2", "2/3")
    # r3: picked then cleared: no human pick; not judged.
    add_run(store, "r3", {"v1": ("pink", "done"), "v2": ("grey", "done"), "v3": ("", "done")})
    store.add_human_verdict("r3", ["v1"], "v1")
    store.add_human_verdict("r3", [], None)
    store.close()
    return path


def run_prefs(db: Path, *argv: str) -> tuple[list[dict[str, Any]], str]:
    args = build_parser().parse_args(["prefs", *argv])
    out, err = io.StringIO(), io.StringIO()
    assert prefs_command(args, history=db, out=out, err=err) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_trl_pairs_validate_and_skip_failed_empty_identical_and_thinking(db: Path) -> None:
    records, err = run_prefs(db, "--format", "trl", "--source", "judge")
    standard = [TrlStandard.model_validate(r) for r in records if isinstance(r["prompt"], str)]
    chat = [TrlConversational.model_validate(r) for r in records if isinstance(r["prompt"], list)]
    # r1 by the judge: red over blue only (v3 failed, v4 identical); r2: teal over green.
    assert [(p.prompt, p.chosen, p.rejected) for p in standard] == [
        ("Name a colour.", "red", "blue")
    ]
    assert len(chat) == 1
    assert [m.model_dump() for m in chat[0].prompt] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Name a colour."},
    ]
    assert chat[0].chosen[0].content == "teal" and chat[0].rejected[0].content == "green"
    assert "2 preference pairs from 2 runs" in err
    assert "SECRET-SCRATCHPAD" not in json.dumps(records)
    assert "partial" not in json.dumps(records)


def test_openai_format_validates_against_its_schema(db: Path) -> None:
    records, _ = run_prefs(db, "--format", "openai", "--source", "both")
    parsed = [OpenAIPreference.model_validate(r) for r in records]
    assert parsed
    by_chosen = {p.preferred_output[0].content: p for p in parsed}
    # r1: your pick (blue) takes precedence over the judge's (red); red twice is one text.
    assert {
        p.non_preferred_output[0].content for p in parsed if p.preferred_output[0].content == "blue"
    } == {"red"}
    assert sum(1 for p in parsed if p.preferred_output[0].content == "blue") == 2  # v1 and v4
    assert by_chosen["teal"].input.messages[0].role == "system"
    assert "SECRET-SCRATCHPAD" not in json.dumps(records)


def test_source_human_reads_only_current_picks(db: Path) -> None:
    records, err = run_prefs(db, "--source", "human")
    assert {(r["chosen"], r["rejected"]) for r in records} == {("blue", "red")}
    assert len(records) == 2  # against v1 and v4 (same text, different variants)
    assert "from 1 runs" in err  # r3's pick was cleared: latest wins


def test_min_agreement_keeps_only_verdicts_that_agreed_enough(db: Path) -> None:
    records, _ = run_prefs(db, "--source", "judge", "--min-agreement", "3/3")
    assert [(r["chosen"], r["rejected"]) for r in records] == [("red", "blue")]
    records, _ = run_prefs(db, "--source", "judge", "--min-agreement", "2/3")
    assert len(records) == 2
    assert agreement_at_least("1/1", (2, 3)) is False  # one round is not three
    assert agreement_at_least("2/4", (2, 3)) is False
    assert agreement_at_least("3/4", (2, 3)) is True
    assert agreement_at_least(None, (1, 1)) is False
    with pytest.raises(ValueError):
        parse_min_agreement("3/2")


def test_output_file_and_usage_errors(db: Path, tmp_path: Path, capsys: Any) -> None:
    target = tmp_path / "prefs.jsonl"
    _, err = run_prefs(db, "-o", str(target))
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines and all(json.loads(line) for line in lines)
    assert f"to {target}" in err
    assert main(["prefs", "--min-agreement", "x"]) == 2
    assert "--min-agreement" in capsys.readouterr().err


def test_the_store_reads_the_latest_pick_per_run(db: Path) -> None:
    store = HistoryStore.open(db)
    try:
        assert {k: v.variant_id for k, v in store.human_picks().items()} == {
            "r1": "v2"
        }  # r3's was cleared
        latest = store.latest_human_pick("r3")
        assert latest is not None and latest.variant_id is None and latest.ranking == []
        assert store.latest_human_pick("r2") is None
        run = store.load_run("r1")
        assert run is not None
        pick = latest_pick(run.human_verdicts)
        assert pick is not None and pick.variant_id == "v2"
    finally:
        store.close()


def test_agreement_rule() -> None:
    won = Verdict(status="verdict", best_id="v1", judge_model="j", judge_endpoint="gateway")
    default = won.model_copy(update={"status": "default"})
    assert agreement(HumanVerdict.pick("v1"), won) == "agree"
    assert agreement(HumanVerdict.pick("v3"), won) == "disagree"
    assert agreement(HumanVerdict.pick(None), won) is None
    assert agreement(HumanVerdict.pick("v1"), None) is None
    assert agreement(HumanVerdict.pick("v1"), default) is None
