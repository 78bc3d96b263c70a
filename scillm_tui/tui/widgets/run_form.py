"""Run settings: target, models, N, temperature, max tokens, judge model(s)/target/mode/rounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Checkbox, Input, Label, Select

from scillm_tui.core.endpoints import EndpointName, route_model
from scillm_tui.core.runs import VariantState, plan_variants
from scillm_tui.core.settings import Settings
from scillm_tui.tui.key_order import OrderedInput
from scillm_tui.tui.widgets.form_values import FormValues, form_values, parse_models, parse_n
from scillm_tui.tui.widgets.mount_classes import ON, VALID

TARGETS = [("gateway", "gateway"), ("sidecar", "sidecar")]
JUDGE_MODES = [("listwise", "listwise"), ("pairwise", "pairwise")]
TEXT_FIELDS = ("models", "n", "temperature", "max-tokens", "judge-model", "judge-rounds")


class ModelSuggester(Suggester):
    """Completes the last comma-separated model name from the endpoints' /v1/models."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.models: list[str] = []

    async def get_suggestion(self, value: str) -> str | None:
        _, _, last = value.rpartition(",")
        stem = last.lstrip()
        if not stem:
            return None
        lowered = stem.lower()
        for model in self.models:
            if model.lower().startswith(lowered) and model != stem:
                prefix = value[: len(value) - len(stem)]
                return prefix + model
        return None


def _field(value: str, **options: Any) -> Input:
    """A compact form input, given up front the class Textual gives a valid one as it
    mounts (see `prestyled`): every form input starts valid."""
    return OrderedInput(value, compact=True, classes=VALID, **options)


class RunForm(Vertical):
    """The knobs of the next run, with defaults from settings."""

    class PlanChanged(Message):
        """N, the models or the target changed (or the form mounted): `plan` holds the
        variants the next run would have."""

        def __init__(self, plan: dict[str, VariantState]) -> None:
            super().__init__()
            self.plan = plan

    def __init__(
        self,
        settings: Settings,
        default_target: str,
        *,
        initial: Mapping[str, str] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.settings = settings
        self.initial = dict(initial or {})  # field id -> start text (the user's kept values)
        self.default_target = default_target
        self.suggester = ModelSuggester()
        self.border_title = "Run settings"
        self._listed: dict[str, set[str]] = {}  # endpoint -> its /v1/models, once known

    def _row(self, label: str, *widgets: Input | Select | Checkbox | Label) -> Horizontal:
        return Horizontal(Label(label, classes="form-label"), *widgets, classes="form-row")

    def _target_select(self, widget_id: str) -> Select[str]:
        return Select(
            TARGETS,
            value=self.default_target,
            allow_blank=False,
            compact=True,
            id=widget_id,
        )

    def compose(self) -> ComposeResult:
        s = self.settings
        start = self.initial.get
        yield self._row(
            "target",
            self._target_select("target"),
            Label("N", classes="form-label-short"),
            _field(start("n", str(s.best_of_n)), type="integer", id="n", max_length=2),
        )
        yield self._row(
            "models", _field(start("models", s.model), id="models", suggester=self.suggester)
        )
        yield self._row(
            "temp",
            _field(start("temperature", "0.7"), type="number", id="temperature"),
            Label("max tok", classes="form-label-short"),
            _field(start("max-tokens", ""), type="integer", id="max-tokens", placeholder="–"),
        )
        yield self._row(
            "judge",
            _field(
                start("judge-model", s.effective_judge_model),
                id="judge-model",
                suggester=self.suggester,
            ),
            Label("rounds", classes="form-label-short"),
            _field(start("judge-rounds", "1"), type="integer", id="judge-rounds", max_length=1),
        )
        yield self._row(
            "j.target",
            self._target_select("judge-target"),
            Select(
                JUDGE_MODES,
                value=start("judge-mode", "listwise"),
                allow_blank=False,
                compact=True,
                id="judge-mode",
                tooltip="listwise: all answers at once · pairwise: every pair in both orders",
            ),
            Checkbox(
                "auto",
                True,
                compact=True,
                id="auto-judge",
                tooltip="judge when a run ends",
                classes=ON,
            ),
        )

    def on_mount(self) -> None:
        self._plan_changed()

    @on(Input.Changed, "#n, #models")
    @on(Select.Changed, "#target")
    def _plan_changed(self) -> None:
        plan = self.plan()
        if plan is not None:
            self.post_message(self.PlanChanged(plan))
        self._check_listed()

    def unlisted(self) -> dict[str, list[str]]:
        """The form's models that an endpoint's /v1/models does not list, by endpoint
        (only endpoints whose list is known): they would run, and fail."""
        target = cast(EndpointName, self.query_one("#target", Select).value)
        missing: dict[str, list[str]] = {}
        for model in dict.fromkeys(self._models()):
            endpoint, wire = route_model(model, target)
            listed = self._listed.get(endpoint)
            if listed is not None and wire not in listed:
                missing.setdefault(endpoint, []).append(model)
        return missing

    def _check_listed(self) -> None:
        """Warn in the form (its bottom border: no layout) about unlisted models; the
        run is not refused: a list can be incomplete."""
        missing = self.unlisted()
        self.border_subtitle = "; ".join(
            f"⚠ not on {endpoint}: {', '.join(models)}" for endpoint, models in missing.items()
        )
        self.set_class(bool(missing), "-unlisted")
        field = self.query_one("#models", Input)  # the whole warning, where it is cut
        field.tooltip = (
            "\n".join(
                f"{endpoint}'s /v1/models lists no {', '.join(models)}: it may fail"
                for endpoint, models in missing.items()
            )
            or None
        )

    def plan(self) -> dict[str, VariantState] | None:
        """The variants the next run would have; None while N or the models are unusable
        (the other fields do not change them)."""
        models = self._models()
        try:
            n = self._n()
        except ValueError:
            return None
        if not models:
            return None
        target = cast(EndpointName, self.query_one("#target", Select).value)
        return plan_variants(models, n, target)

    def _models(self) -> list[str]:
        return parse_models(self.query_one("#models", Input).value)

    def _n(self) -> int:
        return parse_n(self.query_one("#n", Input).value)

    def set_models(self, models: list[str], endpoint: str | None = None) -> None:
        """Offer these model ids as completions (from the health probes); `endpoint`'s
        list, when given, is what the form's models are checked against."""
        merged = list(dict.fromkeys([*self.suggester.models, *models]))
        self.suggester.models = merged
        if endpoint is not None:
            self._listed[endpoint] = set(models)
            self._check_listed()

    def set_model_text(self, models: list[str]) -> None:
        self.query_one("#models", Input).value = ", ".join(models)

    def values(self) -> FormValues:
        """The form's values; `ValueError` names the field when one is unusable."""
        return form_values(
            {field: self.query_one(f"#{field}", Input).value for field in TEXT_FIELDS},
            target=self.query_one("#target", Select).value,
            judge_target=self.query_one("#judge-target", Select).value,
            judge_mode=self.query_one("#judge-mode", Select).value,
            auto_judge=self.query_one("#auto-judge", Checkbox).value,
        )
