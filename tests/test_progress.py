"""Progress of long steps: log records always, a line on a terminal only, and one switch."""

from __future__ import annotations

import io
import logging

import pytest

import omnijourney as oj
from omnijourney import progress as P


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> _Terminal:
    stream = _Terminal()
    monkeypatch.setattr(P, "_stderr", lambda: stream)
    monkeypatch.setattr(P, "DELAY", 0.0)
    monkeypatch.delenv("OMNIJOURNEY_PROGRESS", raising=False)
    yield stream
    oj.set_progress(None)


def _run() -> None:
    with P.Progress("counting", steps=2, logger="omnijourney.test", size=1234, unit="row") as p:
        p.step("first half")
        p.step("second half")


def test_steps_are_logged_under_the_omnijourney_logger(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="omnijourney"):
        _run()
    messages = [r.getMessage() for r in caplog.records if r.name == "omnijourney.test"]
    assert messages[0] == "counting (1,234 rows): 2 steps"
    assert messages[1].startswith("counting: step 1 of 2, first half (")
    assert messages[2].startswith("counting: step 2 of 2, second half (")
    assert messages[3].startswith("counting: done in ")


def test_a_terminal_shows_one_line_rewritten_in_place(terminal: _Terminal) -> None:
    _run()
    text = terminal.getvalue()
    assert text.startswith("\rcounting: step 1 of 2, first half")
    assert "\rcounting: step 2 of 2, second half" in text
    assert text.endswith("\n") and text.count("\n") == 1
    assert "counting: done in " in text


def test_switched_off_nothing_is_written(terminal: _Terminal) -> None:
    oj.set_progress(False)
    assert not oj.progress_enabled()
    _run()
    assert terminal.getvalue() == ""


@pytest.mark.parametrize("value", ["0", "false", "off", "No"])
def test_the_environment_switch_turns_it_off(
    terminal: _Terminal, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("OMNIJOURNEY_PROGRESS", value)
    assert not oj.progress_enabled()
    _run()
    assert terminal.getvalue() == ""
    oj.set_progress(True)  # the call wins over the environment
    _run()
    assert terminal.getvalue()


def test_not_a_terminal_nothing_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(P, "_stderr", lambda: stream)
    monkeypatch.setattr(P, "DELAY", 0.0)
    oj.set_progress(True)
    try:
        _run()
    finally:
        oj.set_progress(None)
    assert stream.getvalue() == ""


def test_quick_calls_print_nothing(terminal: _Terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "DELAY", 3600.0)
    _run()
    assert terminal.getvalue() == ""


def test_a_failure_is_said(terminal: _Terminal, caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.INFO, logger="omnijourney"),
        pytest.raises(KeyError),
        P.Progress("counting", steps=1, logger="omnijourney.test") as p,
    ):
        p.step("first")
        raise KeyError("x")
    assert caplog.records[-1].getMessage().startswith("counting: failed in ")
    assert "counting: failed in " in terminal.getvalue()


def test_wrong_switch_is_a_config_error() -> None:
    with pytest.raises(oj.ConfigError, match="'enabled' parameter"):
        oj.set_progress("yes")  # type: ignore[arg-type]


def test_resolve_and_generate_report_their_steps(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="omnijourney"):
        world = oj.synth.generate(n_customers=40, seed=3, prices=False)
        records = oj.CustomerRecordTable.from_columns(world.records, extra=True)
        oj.resolve(records)
    synth = [r.getMessage() for r in caplog.records if r.name == "omnijourney.synth"]
    ident = [r.getMessage() for r in caplog.records if r.name == "omnijourney.identity"]
    assert synth[0] == "generating a world (40 customers): 5 steps"
    assert [m.split(", ")[1].split(" (")[0] for m in synth[1:-1]] == [
        "customers",
        "source records",
        "touchpoints",
        f"ordering {len(world.touchpoints):,} touchpoints",
        "what the systems observed",
    ]
    assert synth[-1].startswith("generating a world: done in")
    assert ident[0] == f"resolving identities ({len(records):,} records): 5 steps"
    assert len(ident) == 7 and ident[-1].startswith("resolving identities: done in")
