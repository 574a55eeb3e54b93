"""The command line: demo, help and version."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from omnijourney.cli import _pairwise, demo, main


def test_demo_tours_every_capability_on_a_small_world():
    out = io.StringIO()
    assert demo(seed=3, customers=300, out=out) == 0
    text = out.getvalue()
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
    assert "no false ones: yes" in text


def test_pairwise_precision_and_recall():
    assert _pairwise([0, 0, 1, 1], [5, 5, 7, 7]) == (1.0, 1.0)
    # one cluster of four where the truth has two pairs: precision 2/6, recall 1
    assert _pairwise([0, 0, 0, 0], [1, 1, 2, 2]) == (2 / 6, 1.0)


def test_help_version_and_bad_arguments(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and "omnijourney" in capsys.readouterr().out
    assert main([]) == 0 and "demo" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["demo", "--customers", "0"])


def test_python_dash_m_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "omnijourney", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in done.stdout
