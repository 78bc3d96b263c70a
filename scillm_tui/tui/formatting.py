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


def seconds(value_ms: float | None) -> str:
    """Whole seconds, e.g. `41 s` (thinking lasts seconds to minutes)."""
    return "–" if value_ms is None else f"{value_ms / 1000:.0f} s"


def status_text(state: VariantState) -> str:
    """The live status of a column header: 'retrying in 3 s', 'thinking 12 s',
    'answering', 'streaming', 'queued (the sidecar runs 4 at a time)', and for a variant
    done without an answer, why ('no text', 'no answer: cut while thinking (length)'): a
    problem, not 'done'."""
    status = state.status
    if status == "retrying":
        wait = state.retry_wait_s
        return f"retrying in {wait:.0f} s" if wait is not None and wait >= 1 else "retrying"
    if status == "streaming" and state.reasoning_chars:
        phase = state.phase
        if phase == "thinking":
            return f"thinking {seconds(state.think_ms)}"
        if phase == "answering":
            return "answering"
    if status == "queued" and state.queued_reason:
        return f"queued ({state.queued_reason})"
    no_answer = state.no_answer_reason
    if no_answer is not None:
        return no_answer
    return status


def answer_tokens_estimated(state: VariantState) -> bool:
    """Whether `state.answer_tokens` is an estimate (see `VariantState.answer_tokens`)."""
    usage = state.usage
    if usage is None or usage.completion_tokens is None:
        return True
    return usage.reasoning_tokens is None and bool(state.reasoning_chars)


def thought_text(state: VariantState, *, folded: bool) -> str:
    """The thinking's one-line label: `▾ thinking` while it streams, then
    `▸ thought 41 s · 1,830 tokens` (`~` when estimated; `▾` when unfolded)."""
    mark = "▸" if folded else "▾"
    tokens = f"{'~' if state.reasoning_tokens_estimated else ''}{state.reasoning_tokens:,}"
    verb = "thinking" if state.first_answer_at is None and not state.finished else "thought"
    return f"{mark} {verb} {seconds(state.think_ms)} · {tokens} tokens"


def stats_text(state: VariantState, *, detailed: bool = False) -> str:
    """The footer line of a column: ttft, tokens/s, tokens, elapsed, finish reason.
    `detailed` (the zoomed column) also says why there is no tokens/s.

    For a model that thinks: ttft of anything and of the answer, and answer tokens (the
    thinking's time and tokens are on its own line, see `thought_text`)."""
    tps = state.tokens_per_s
    tokens = f"{'~' if state.tokens_estimated else ''}{state.completion_tokens} tok"
    ttft = f"ttft {ms(state.ttft_ms)}"
    if state.reasoning_chars:
        tokens = f"{'~' if answer_tokens_estimated(state) else ''}{state.answer_tokens} tok"
        ttft += f"  answer {ms(state.ttft_answer_ms)}"
    rate = f"{tps:.0f} t/s" if tps is not None else "– t/s"
    if tps is None and detailed and state.tokens_per_s_note:
        rate += f" ({state.tokens_per_s_note})"
    parts = [
        ttft,
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
