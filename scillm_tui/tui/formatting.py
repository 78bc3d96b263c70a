"""Short human strings for statuses and numbers, shared by the dashboard's widgets."""

from __future__ import annotations

from scillm_tui.core.runs import VariantState


def variant_title(state: VariantState) -> str:
    """A variant's name on screen: its id and its model, e.g. `v2 · gpt-5`."""
    return f"{state.id} · {state.model}"


def ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1000:
        return f"{value:.0f}ms"
    return f"{value / 1000:.1f}s"


def status_text(state: VariantState) -> str:
    """The live status of a column header: 'retrying in 3 s', 'streaming', 'queued (the
    sidecar runs 4 at a time)', and for a variant done without an answer, why ('no text'):
    a problem, not 'done'."""
    if state.status == "retrying":
        wait = state.retry_wait_s
        return f"retrying in {wait:.0f} s" if wait is not None and wait >= 1 else "retrying"
    if state.status == "queued" and state.queued_reason:
        return f"queued ({state.queued_reason})"
    no_answer = state.no_answer_reason
    if no_answer is not None:
        return no_answer
    return state.status


def stats_text(state: VariantState, *, detailed: bool = False) -> str:
    """The footer line of a column: ttft, tokens/s, tokens, elapsed, finish reason.
    `detailed` (the zoomed column) also says why there is no tokens/s."""
    tps = state.tokens_per_s
    tokens = f"{'~' if state.tokens_estimated else ''}{state.completion_tokens} tok"
    rate = f"{tps:.0f} t/s" if tps is not None else "– t/s"
    note = getattr(state, "tokens_per_s_note", None)  # from the thinking core (h1)
    if tps is None and detailed and note:
        rate += f" ({note})"
    parts = [
        f"ttft {ms(state.ttft_ms)}",
        rate,
        tokens,
        ms(state.duration_ms),
    ]
    if state.finish_reason:
        parts.append(state.finish_reason)
    if state.retries:
        parts.append(f"{state.retries} retr{'y' if state.retries == 1 else 'ies'}")
    return "  ".join(parts)


def score_text(score: float | None) -> str:
    return "–" if score is None else f"{score:g}"
