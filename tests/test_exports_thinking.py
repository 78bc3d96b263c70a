"""Exports and the CLI's JSON with thinking models, wins by default and failed judges:
nothing made up, thinking kept apart from the answer, nothing left behind."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from markdown_it import MarkdownIt

from scillm_tui.core.artifacts import LEADERBOARD_COLUMNS, export_run, ranked, variant_markdown
from scillm_tui.core.chat import ChatResult
from scillm_tui.core.judge import JudgeSpec, Verdict, judge_run
from scillm_tui.core.records import run_output
from scillm_tui.core.runs import Run
from tests.thinking_support import Shape, StubJudge, thinking_run, verdict_json

OLD_COLUMNS = [
    "variant_id",
    "score",
    "note",
    "rank",
    "model",
    "status",
    "finish_reason",
    "completion_tokens",
    "ttft_ms",
    "duration_ms",
    "chars",
]
NEW_COLUMNS = ["answer_tokens", "reasoning_tokens", "think_ms", "ttft_answer_ms"]
HUMAN_COLUMNS = ["human_pick"]  # issue 20: your pick, after the thinking ones


def table(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


async def judge_with(run: Run, answer: str, reasoning: str = "") -> Verdict:
    judge = StubJudge(lambda _request: ChatResult(text=answer, reasoning=reasoning))
    return await judge_run(run, judge, JudgeSpec(model="judge", target="gateway"))  # type: ignore[arg-type]


def thinking_shapes() -> list[Shape]:
    return [
        Shape(text="Quicksort.", reasoning="v1 thinks about pivots"),
        Shape(text="Merge sort.", reasoning="v2 thinks about stability"),
        Shape(reasoning="v3 thought until the limit", finish_reason="length"),
    ]


# ---- the leaderboard -----------------------------------------------------------------------------


async def test_csv_keeps_its_columns_and_adds_the_thinking_ones_at_the_end(
    tmp_path: Path,
) -> None:
    assert LEADERBOARD_COLUMNS == OLD_COLUMNS + NEW_COLUMNS + HUMAN_COLUMNS
    run = thinking_run(thinking_shapes())
    verdict = await judge_with(run, verdict_json("B", "B is stable.", A=4, B=8))
    result = export_run(run, verdict, tmp_path)
    header = result.leaderboard.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == OLD_COLUMNS + NEW_COLUMNS + HUMAN_COLUMNS
    rows = table(result.leaderboard)
    assert [(r["variant_id"], r["rank"], r["score"], r["note"]) for r in rows] == [
        ("v2", "1", "8", "winner"),
        ("v1", "2", "4", ""),
        ("v3", "3", "", "no answer: cut while thinking (length)"),
    ]
    for row in rows:
        state = run.variants[row["variant_id"]]
        assert row["answer_tokens"] == str(state.answer_tokens)
        assert row["reasoning_tokens"] == str(state.reasoning_tokens) != "0"
        assert row["think_ms"] == str(round(state.think_ms or 0)) != "0"
    assert rows[0]["ttft_answer_ms"] == "500" and rows[2]["ttft_answer_ms"] == ""


async def test_a_win_by_default_has_no_score_anywhere(tmp_path: Path) -> None:
    run = thinking_run([Shape(reasoning="cut", finish_reason="length"), Shape(text="yes")])
    verdict = await judge_with(run, "never asked")
    assert verdict.status == "default"
    assert [(row.state.id, row.score, row.note) for row in ranked(run, verdict)] == [
        ("v2", None, "winner (won by default)"),
        ("v1", None, "no answer: cut while thinking (length)"),
    ]
    result = export_run(run, verdict, tmp_path)
    rows = table(result.leaderboard)
    assert [(r["variant_id"], r["score"], r["note"], r["rank"]) for r in rows] == [
        ("v2", "", "winner (won by default)", "1"),
        ("v1", "", "no answer: cut while thinking (length)", "2"),
    ]
    data = json.loads(result.run.read_text(encoding="utf-8"))
    assert data["judge"]["scores"] == {}
    assert data["judge"]["excluded"] == {"v1": "no answer: cut while thinking (length)"}
    (line,) = result.history.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["best_id"] == "v2"


async def test_a_failed_judge_writes_no_winner_and_ranks_nothing(tmp_path: Path) -> None:
    run = thinking_run(thinking_shapes())
    verdict = await judge_with(run, "they are both fine", reasoning="no JSON today")
    assert verdict.status == "error" and verdict.best_id is None and verdict.error
    result = export_run(run, verdict, tmp_path / "art")

    assert not result.history.exists()  # no winners line at all
    assert result.winners.read_text(encoding="utf-8") == ""
    rows = table(result.leaderboard)
    assert [r["rank"] for r in rows] == ["", "", ""]
    assert [r["score"] for r in rows] == ["", "", ""]
    for row in rows:
        assert f"judge failed: {verdict.error}" in row["note"]
    assert rows[2]["note"].startswith("no answer: cut while thinking (length); judge failed")
    data = json.loads(result.run.read_text(encoding="utf-8"))
    assert data["judge"]["status"] == "error"
    assert data["judge"]["rounds"][0]["reasoning"] == ["no JSON today", "no JSON today"]

    # A later judged export of another run appends only its own line.
    other = thinking_run(thinking_shapes())
    good = await judge_with(other, verdict_json("A", "A.", A=9, B=2))
    export_run(other, good, tmp_path / "art")
    (line,) = result.history.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["run_id"] == other.run_id


# ---- the variant files and run.json --------------------------------------------------------------

HOSTILE = (
    "I will escape.\n</details>\n\n# Not a heading of the export\n"
    "```\n</details>\n````\n<script>alert(1)</script>\n<!-- -->"
)


def test_variant_markdown_folds_the_thinking_and_hostile_thinking_stays_inside() -> None:
    (state,) = thinking_run([Shape(text="The **answer**.", reasoning=HOSTILE)]).variants.values()
    markdown = variant_markdown(state)
    assert markdown.startswith("<!-- v1 · m1 · done -->\n\nThe **answer**.\n\n<details>")
    assert markdown.index("The **answer**.") < markdown.index("<summary>Thinking</summary>")
    html = MarkdownIt("commonmark").render(markdown)
    # One details block, closed once, at the very end; the thinking is code inside it.
    assert html.count("</details>") == 1 and html.rstrip().endswith("</details>")
    assert html.count("<details>") == 1 and "<script>" not in html
    assert "&lt;/details&gt;" in html and "<h1>" not in html
    body = html[html.index("<summary>") : html.index("</details>")]
    assert "I will escape." in body and "alert(1)" in body
    assert "<strong>answer</strong>" in html[: html.index("<details>")]


def test_variant_markdown_without_thinking_is_the_answer_alone() -> None:
    (state,) = thinking_run([Shape(text="Plain.")]).variants.values()
    assert variant_markdown(state) == "<!-- v1 · m1 · done -->\n\nPlain.\n"
    (cut,) = thinking_run([Shape(reasoning="hm", finish_reason="length")]).variants.values()
    markdown = variant_markdown(cut)
    assert "<!-- no answer: cut while thinking (length) -->" in markdown
    assert "<details><summary>Thinking</summary>" in markdown


async def test_run_json_has_the_thinking_of_variants_and_judge(tmp_path: Path) -> None:
    run = thinking_run(thinking_shapes())
    verdict = await judge_with(run, verdict_json("A", "Variant A.", A=9, B=2), "judge thinks")
    data = json.loads(export_run(run, verdict, tmp_path).run.read_text(encoding="utf-8"))
    v1, v2, v3 = data["variants"]
    assert (v1["text"], v1["reasoning"]) == ("Quicksort.", "v1 thinks about pivots")
    assert v3["text"] == "" and v3["no_answer_reason"] == "no answer: cut while thinking (length)"
    assert v3["judgeable"] is False and v1["judgeable"] is True
    assert v2["reasoning_tokens"] > 0 and v2["reasoning_tokens_estimated"] is True
    assert v2["think_ms"] == 300.0 and v2["ttft_answer_ms"] == 500.0
    judge = data["judge"]
    assert judge["rounds"][0]["reasoning"] == ["judge thinks"]
    assert judge["reason"] == "v1." and judge["reason_labels"] == {"A": "v1", "B": "v2"}
    assert judge["rounds"][0]["reason"] == "Variant A."
    assert judge["excluded"] == {"v3": "no answer: cut while thinking (length)"}


async def test_an_export_leaves_no_lock_file(tmp_path: Path) -> None:
    run = thinking_run(thinking_shapes())
    verdict = await judge_with(run, verdict_json("A", "A.", A=9, B=2))
    art = tmp_path / "art"
    first = export_run(run, verdict, art)
    export_run(run, verdict, art)
    assert sorted(p.name for p in art.iterdir()) == ["runs", "winners.jsonl"]
    assert not [p for p in art.rglob("*") if p.name.endswith(".lock")]
    assert len(first.history.read_text(encoding="utf-8").splitlines()) == 2


# ---- the CLI's JSON ------------------------------------------------------------------------------


async def test_cli_json_has_answer_and_thinking_apart_and_gen_model_is_a_string() -> None:
    run = thinking_run(thinking_shapes())
    verdict = await judge_with(run, verdict_json("B", "Candidate B.", A=3, B=8))
    out = json.loads(json.dumps(run_output(run, verdict, None, "judge")))
    assert out["gen_model"] == "m1" and out["gen_models"] == ["m1", "m2", "m3"]
    v1, _v2, v3 = out["variants"]
    assert v1["text"] == "Quicksort." and v1["reasoning"] == "v1 thinks about pivots"
    for key in ("reasoning_tokens", "ttft_answer_ms", "think_ms", "answer_tokens"):
        assert key in v1 and key in v3
    assert v1["no_answer_reason"] is None
    assert v3["no_answer_reason"] == "no answer: cut while thinking (length)"
    assert v3["ttft_answer_ms"] is None and v3["answer_tokens"] == 0
    judge = out["judge"]
    assert judge["reason"] == "v2." and judge["reason_labels"] == {"A": "v1", "B": "v2"}
    assert judge["excluded"] == {"v3": "no answer: cut while thinking (length)"}

    plain = thinking_run([Shape(text="no thinking here")])
    (variant,) = run_output(plain, None, None, None)["variants"]
    assert variant["reasoning"] == "" and variant["reasoning_tokens"] == 0
    assert run_output(plain, None, None, None)["gen_models"] == ["m1"]
