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
    """The live status of a column header: 'retrying in 3 s', 'streaming', ..."""
    if state.status == "retrying":
        wait = state.retry_wait_s
        return f"retrying in {wait:.0f} s" if wait is not None and wait >= 1 else "retrying"
    return state.status


def stats_text(state: VariantState) -> str:
    """The footer line of a column: ttft, tokens/s, tokens, elapsed, finish reason."""
    tps = state.tokens_per_s
    tokens = f"{'~' if state.tokens_estimated else ''}{state.completion_tokens} tok"
    parts = [
        f"ttft {ms(state.ttft_ms)}",
        f"{tps:.0f} t/s" if tps is not None else "– t/s",
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
