"""The command line: demo, help and version."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest

from omnijourney.cli import _pairwise, demo, main


def test_demo_tours_every_capability_on_a_small_world(tmp_path):
    out = io.StringIO()
    assert demo(seed=3, customers=300, out=out, report=tmp_path / "demo.html") == 0
    text = out.getvalue()
    page = (tmp_path / "demo.html").read_text("utf-8")
    assert page.count('class="results"') == 8 and page.count("<img ") == 4
    assert f"Report written to {tmp_path / 'demo.html'}" in text
    for heading in (
        "1. Journeys",
        "2. Where journeys",
        "3. Channel appetence",
        "4. One customer",
        "5. Which channels",
        "6. Prices",
    ):
        assert heading in text
    assert "true journeys recovered exactly: yes" in text
    found = re.search(r"([\d,]+) of the ([\d,]+) true breaks found; ([\d,]+) more", text)
    assert found and found[1] == found[2]
    assert int(found[3].replace(",", "")) < 0.06 * int(found[2].replace(",", ""))
    # it ends by saying where the documentation is
    assert text.rstrip().splitlines()[-1].strip().startswith("https://")
    assert "/tutorials/" in text.rstrip().splitlines()[-1]


def test_the_demo_world_is_the_tutorials_world():
    """By default the demo generates the world the tutorials and the README walk through, so
    that the numbers it prints are theirs."""
    import inspect
    from pathlib import Path

    from omnijourney import cli

    root = Path(__file__).resolve().parent.parent
    call = f"oj.synth.generate(n_customers={cli.TUTORIAL_CUSTOMERS:_}, seed={cli.TUTORIAL_SEED})"
    for page in ("README.md", "docs/tutorials/journeys.md", "docs/api/plot.md"):
        assert call in (root / page).read_text("utf-8"), page
    defaults = inspect.signature(demo).parameters
    assert defaults["seed"].default == cli.TUTORIAL_SEED
    assert defaults["customers"].default == cli.TUTORIAL_CUSTOMERS
    parsed = cli._parser().parse_args(["demo"])
    assert (parsed.seed, parsed.customers) == (cli.TUTORIAL_SEED, cli.TUTORIAL_CUSTOMERS)


def test_pairwise_precision_and_recall():
    assert _pairwise([0, 0, 1, 1], [5, 5, 7, 7]) == (1.0, 1.0)
    # one cluster of four where the truth has two pairs: precision 2/6, recall 1
    assert _pairwise([0, 0, 0, 0], [1, 1, 2, 2]) == (2 / 6, 1.0)


def test_help_version_and_bad_arguments(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and "omnijourney" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main([])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("usage: omnijourney") and "error: a command is required" in err
    for option, value, message in (
        ("--customers", "0", "must be at least 1, got 0"),
        ("--seed", "-1", "must be at least 0, got -1"),
        ("--seed", "x", "expected an integer, got 'x'"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(["demo", option, value])
        assert exit_.value.code == 2
        assert f"argument {option}: {message}" in capsys.readouterr().err


def run_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "omnijourney", *args], capture_output=True, text=True, **kwargs
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("demo", "--seed", "-1"),
            "omnijourney demo: error: argument --seed: must be at least 0, got -1",
        ),
        (
            (),
            "omnijourney: error: a command is required "
            "(demo, sessionize, breaks, resolve, attribute, audit, report)",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, message):
    done = run_cli(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    *usage, error = done.stderr.strip().splitlines()
    assert usage[0].startswith("usage: omnijourney") and error == message


def test_a_closed_pipe_ends_the_demo_quietly():
    """``omnijourney demo | head``: the reader goes away before the demo has written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnijourney", "demo", "--customers", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like head after its lines
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert "BrokenPipeError" not in err and "Traceback" not in err
    assert err == ""
    assert proc.returncode == 1


def test_python_dash_m_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "omnijourney", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in done.stdout
