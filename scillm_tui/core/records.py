"""Plain-JSON views of runs and verdicts, shared by the CLI output and the export.

Base URLs appear here; keys never do (they are not part of any model dumped below).
"""

from __future__ import annotations

from typing import Any

from scillm_tui.core.judge import Verdict
from scillm_tui.core.runs import Run, VariantState


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def variant_record(state: VariantState) -> dict[str, Any]:
    """One variant with its answer, its thinking, outcome and stats.

    `text` is the answer only, as before thinking models: scripts that read it keep
    working; the thinking is `reasoning` ("" for a model that does not think)."""
    tps = state.tokens_per_s
    return {
        "id": state.id,
        "model": state.model,
        "endpoint": state.endpoint,
        "text": state.text,
        "reasoning": state.reasoning,
        "no_answer_reason": state.no_answer_reason,
        "judgeable": state.judgeable,
        "status": state.status,
        "finish_reason": state.finish_reason,
        "error": state.error,
        "error_category": state.error_category,
        "usage": state.usage.model_dump() if state.usage else None,
        "completion_tokens": state.completion_tokens,
        "tokens_estimated": state.tokens_estimated,
        "ttft_ms": _ms(state.ttft_ms),
        "duration_ms": _ms(state.duration_ms),
        "tokens_per_s": None if tps is None else round(tps, 1),
        "chunks": state.chunks,
        "chars": state.chars,
        "answer_tokens": state.answer_tokens,
        "reasoning_tokens": state.reasoning_tokens,
        "reasoning_tokens_estimated": state.reasoning_tokens_estimated,
        "reasoning_chars": state.reasoning_chars,
        "ttft_answer_ms": _ms(state.ttft_answer_ms),
        "think_ms": _ms(state.think_ms),
        "retries": state.retries,
        "notices": list(state.notices),
    }


def endpoint_bases(run: Run) -> dict[str, str | None]:
    gateway = run.backends.gateway
    return {
        "sidecar": run.backends.sidecar.config.base_url,
        "gateway": gateway.config.base_url if gateway is not None else None,
    }


def run_output(
    run: Run,
    verdict: Verdict | None,
    artifacts: dict[str, str] | None,
    judge_model: str | None,
    *,
    judge_models: list[str] | None = None,
) -> dict[str, Any]:
    """The CLI's JSON: a superset of what SciLLM's scripts print.

    `gen_model` is always a string, the first model, as SciLLM's script prints it (a
    list there broke scripts); every model is in `gen_models`, always a list. Likewise
    `judge_model` is the first juror and `judge_models` every juror (None: not judged)."""
    bases = endpoint_bases(run)
    return {
        "run_id": run.run_id,
        "base": bases.get(run.spec.target),
        "bases": bases,
        "gen_model": run.spec.models[0],
        "gen_models": run.gen_models,
        "judge_model": judge_model,
        "judge_models": judge_models
        if judge_models is not None
        else ([judge_model] if judge_model is not None else None),
        "variants": [variant_record(v) for v in run.variants.values()],
        "judge": verdict.summary() if verdict is not None else None,
        "artifacts": artifacts,
    }
