"""The user's kept choices: the config file (core) and the dashboard applying it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Select

from scillm_tui.core.settings import load_settings
from scillm_tui.core.user_config import (
    FormChoices,
    UserConfig,
    config_path,
    form_choices,
    load_user_config,
    save_user_config,
)
from scillm_tui.session import Session
from scillm_tui.tui.app import ScillmApp
from scillm_tui.tui.widgets.run_form import RunForm
from tests.tui_support import GATEWAY, SIDECAR, Script, make_transport


def test_the_config_file_is_under_xdg_config_home(tmp_path: Path) -> None:
    # conftest points XDG_CONFIG_HOME into tmp_path: no test touches the real home.
    assert config_path() == tmp_path / "home" / "config" / "scillm-tui" / "config.toml"


def test_round_trip_keeps_every_choice(tmp_path: Path) -> None:
    config = UserConfig(
        theme="nord",
        form=FormChoices(
            models='alpha, "β" \x7f 👩‍💻',
            n=4,
            temperature=0.2,
            max_tokens=300,
            judge_rounds=3,
            judge_mode="pairwise",
        ),
        keys={"run": "ctrl+g", "pick-models": "f3"},
    )
    path = tmp_path / "cfg" / "config.toml"
    save_user_config(config, path)
    assert load_user_config(path) == (config, None)
    assert not [p for p in path.parent.iterdir() if p.name != "config.toml"]  # no temp left


def test_no_file_means_defaults_and_no_complaint(tmp_path: Path) -> None:
    assert load_user_config(tmp_path / "none.toml") == (UserConfig(), None)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("theme = [", "not valid TOML"),
        ('theme = "nord"\nfont = 3\n', "unknown setting 'font'"),
        ("[form]\nn = 0\n", "form.n must be from 1 to 64"),
        ('[form]\nn = "four"\n', "form.n must be a whole number"),
        ("[form]\ntemperature = 9\n", "form.temperature must be from 0 to 2"),
        ('[form]\njudge_mode = "jury"\n', "form.judge_mode must be one of listwise, pairwise"),
        ("keys = 3\n", "[keys] must be a table"),
        ("[keys]\nrun = 5\n", "keys.run must be a key"),
    ],
)
def test_a_broken_file_gives_defaults_and_one_sentence(
    tmp_path: Path, text: str, words: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    config, problem = load_user_config(path)
    assert config == UserConfig()
    assert problem is not None and words in problem and str(path) in problem
    assert "\n" not in problem


def test_form_choices_keep_usable_fields_and_the_previous_value_of_others() -> None:
    previous = FormChoices(models="a", n=2, temperature=0.5, max_tokens=100)
    texts = {"models": " x, y ", "n": "99", "temperature": "abc", "max_tokens": ""}
    kept = form_choices(texts, previous)
    assert kept == FormChoices(models="x, y", n=2, temperature=0.5, max_tokens=None)
    assert form_choices({"judge_mode": "pairwise"}, previous).judge_mode == "pairwise"
    assert form_choices({"judge_mode": "nonsense"}, previous).judge_mode is None


# ---- the dashboard -----------------------------------------------------------------------------


def session(**env: str) -> Session:
    """A session whose models come from nowhere but the defaults (unless `env` says)."""
    settings = load_settings(None, CODEX_AGENT_API_BASE=SIDECAR, CHUTES_API_BASE=GATEWAY, **env)
    return Session(settings=settings, transport=make_transport(Script()))


def app_for(tmp_path: Path, **env: str) -> ScillmApp:
    return ScillmApp(session(**env), config_path=config_path(), poll_health=False)


def field(app: ScillmApp, widget_id: str) -> str:
    return app.query_one(f"#{widget_id}", Input).value


async def test_choices_are_kept_across_restarts(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test() as pilot:
        assert field(app, "n") == "3"  # nothing saved yet
        app.theme = "nord"  # as f9's picker sets it
        for widget_id, value in [("models", "alpha, beta"), ("n", "5"), ("temperature", "0.3")]:
            app.query_one(f"#{widget_id}", Input).value = value
        app.query_one("#judge-rounds", Input).value = "3"
        app.query_one("#judge-mode", Select).value = "pairwise"  # as picking it does
        await pilot.pause()
    saved = config_path().read_text()
    assert 'theme = "nord"' in saved and 'models = "alpha, beta"' in saved
    assert 'judge_mode = "pairwise"' in saved

    again = app_for(tmp_path)
    async with again.run_test() as pilot:
        assert again.theme == "nord"
        assert [field(again, i) for i in ("models", "n", "temperature", "judge-rounds")] == [
            "alpha, beta",
            "5",
            "0.3",
            "3",
        ]
        assert again.query_one("#judge-mode", Select).value == "pairwise"
        assert again.query_one(RunForm).values().judge_spec().mode == "pairwise"
        assert not again._notifications


async def test_environment_wins_over_saved_form_values(tmp_path: Path) -> None:
    save_user_config(UserConfig(form=FormChoices(models="saved", n=5, temperature=0.1)))
    app = app_for(tmp_path, CHUTES_MODEL="from-env", BEST_OF_N="2")
    async with app.run_test():
        assert field(app, "models") == "from-env"
        assert field(app, "n") == "2"
        assert field(app, "temperature") == "0.1"  # nothing in the environment sets it


async def test_keys_table_rebinds_by_binding_id(tmp_path: Path) -> None:
    save_user_config(UserConfig(keys={"judge": "f3", "zoom-close": "q"}))
    app = app_for(tmp_path)
    async with app.run_test() as pilot:
        await pilot.press("f3")  # the judge, rebound from ctrl+j
        await pilot.pause()
        assert any("Nothing to judge yet" in n.message for n in app._notifications)
        app.clear_notifications()
        await pilot.press("ctrl+j")  # no longer the judge
        await pilot.pause()
        assert not any("Nothing to judge" in n.message for n in app._notifications)


async def test_unknown_binding_id_is_named_once(tmp_path: Path) -> None:
    save_user_config(UserConfig(keys={"jugde": "f3"}))
    app = app_for(tmp_path)
    async with app.run_test():
        messages = [n.message for n in app._notifications]
        assert len(messages) == 1 and "'jugde'" in messages[0] and "judge" in messages[0]


async def test_a_broken_file_is_one_notification_and_left_alone(tmp_path: Path) -> None:
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text("theme = [oops\n")
    app = app_for(tmp_path)
    async with app.run_test() as pilot:
        messages = [n.message for n in app._notifications]
        assert len(messages) == 1 and "not valid TOML" in messages[0]
        assert field(app, "n") == "3"
        app.query_one("#n", Input).value = "6"
        app.theme = "nord"
        await pilot.pause()
    assert path.read_text() == "theme = [oops\n"  # the user's file, to mend


async def test_the_demo_keeps_the_theme_but_not_its_own_models(tmp_path: Path) -> None:
    save_user_config(UserConfig(form=FormChoices(models="mine")))
    demo = session()
    demo.demo = True
    app = ScillmApp(demo, config_path=config_path(), poll_health=False)
    async with app.run_test() as pilot:
        app.query_one("#models", Input).value = "demo-fast"
        app.theme = "nord"
        await pilot.pause()
    config, problem = load_user_config()
    assert problem is None and config.theme == "nord" and config.form.models == "mine"
