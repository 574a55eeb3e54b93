"""The commands on the user's files: each one against the library called directly, and the
conventions of a command line (exit statuses, one-line errors, quiet broken pipes)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

import omnijourney as oj
from omnijourney.attribution import PathTable, bootstrap, markov
from omnijourney.cli import main
from omnijourney.cli._common import Progress
from omnijourney.identity import CustomerRecordTable, resolve
from omnijourney.journeys import detect_breaks
from omnijourney.pricing import PriceTable, PromotionTable, audit
from omnijourney.tables import Table

# the user's names: columns and French channel labels
RENAMED = {"customer": "client_id", "time": "ts", "channel": "canal", "event": "evenement"}
CHANNELS = {"store": "magasin", "web": "site", "call_centre": "centre_appel"}
MAPPING = ["--customer", "client_id", "--time", "ts", "--channel", "canal", "--event", "evenement"]
MAPPING += [f"--channel-map={ours}={theirs}" for theirs, ours in CHANNELS.items()]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A small synthetic world written as the user's files, and its path."""
    root = tmp_path_factory.mktemp("cli")
    world = oj.synth.generate(n_customers=25, seed=11)
    tp = world.touchpoints.to_pandas(categorical=False)
    tp["channel"] = tp["channel"].replace(CHANNELS)
    tp = tp.rename(columns=RENAMED)
    tp.to_csv(root / "touchpoints.csv", index=False)
    tp.to_parquet(root / "touchpoints.parquet")
    world.records.to_csv(root / "records.csv")
    world.prices.prices.to_csv(root / "prices.csv")
    world.prices.promotions.to_csv(root / "promotions.csv")
    (root / "broken.parquet").write_bytes(b"not parquet")
    return root


def touchpoints(files):
    """The touchpoints as a user of the library reads them."""
    return oj.TouchpointTable.from_csv(
        files / "touchpoints.csv",
        customer="client_id",
        time="ts",
        channel="canal",
        event="evenement",
        channel_map={v: k for k, v in CHANNELS.items()},
    )


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def csv_of(table: Table) -> str:
    buffer = io.StringIO()
    table.to_csv(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- each command


def test_sessionize_writes_the_journeys_the_library_finds(files, capsys):
    expected = oj.sessionize(touchpoints(files))
    code, out, err = run(capsys, "sessionize", files / "touchpoints.csv", *MAPPING)
    assert (code, err) == (0, "")
    assert out == csv_of(expected.journeys)
    code, out, err = run(
        capsys, "sessionize", files / "touchpoints.parquet", *MAPPING, "--touchpoints"
    )
    assert (code, err) == (0, "")
    assert out == csv_of(expected.touchpoint_table())
    assert set(expected.touchpoints.labels("channel")) >= set(CHANNELS)


def test_sessionize_options_reach_the_rules(files, capsys):
    rules = oj.JourneyRules(visit_timeout="10min", journey_timeout="3D")
    expected = oj.sessionize(touchpoints(files), rules)
    args = ("--visit-timeout", "10min", "--journey-timeout", "3D")
    code, out, _ = run(capsys, "sessionize", files / "touchpoints.csv", *MAPPING, *args)
    assert code == 0 and out == csv_of(expected.journeys)
    assert len(expected) != len(oj.sessionize(touchpoints(files)))


def test_breaks_and_their_summary(files, capsys):
    expected = detect_breaks(oj.sessionize(touchpoints(files)))
    assert len(expected) > 0
    code, out, _ = run(capsys, "breaks", files / "touchpoints.csv", *MAPPING)
    assert code == 0 and out == csv_of(expected)
    code, out, _ = run(capsys, "breaks", files / "touchpoints.csv", *MAPPING, "--summary")
    assert code == 0 and out == csv_of(expected.pair_counts())


def test_attribute_with_and_without_intervals(files, capsys, tmp_path):
    paths = PathTable.from_journeys(oj.sessionize(touchpoints(files)))
    plain = markov(paths)
    code, out, _ = run(capsys, "attribute", files / "touchpoints.csv", *MAPPING)
    assert code == 0
    header, *rows = [line.split(",") for line in out.splitlines()]
    assert header == ["channel", *plain.columns()]
    assert [r[0] for r in rows] == plain.channels.tolist()
    np.testing.assert_allclose([float(r[1]) for r in rows], plain.conversions, rtol=1e-12)

    ci = bootstrap(paths, "linear", n_resamples=30, seed=4)
    out_file = tmp_path / "credit.json"
    args = ("--model", "linear", "--intervals", "30", "--seed", "4", "-o", out_file)
    code, out, err = run(capsys, "attribute", files / "touchpoints.csv", *MAPPING, *args)
    assert (code, out, err) == (0, "", "")
    rows = json.loads(out_file.read_text("utf-8"))
    assert [r["channel"] for r in rows] == ci.channels.tolist()
    np.testing.assert_allclose([r["share_low"] for r in rows], ci.share_low, rtol=1e-12)
    np.testing.assert_allclose([r["conversions_high"] for r in rows], ci.conversions_high)


def test_resolve_adds_person_and_household_ids(files, capsys, tmp_path):
    resolution = resolve(CustomerRecordTable.from_csv(files / "records.csv"))
    out_file = tmp_path / "persons.parquet"
    code, out, err = run(capsys, "resolve", files / "records.csv", "-o", out_file)
    assert (code, out, err) == (0, "", "")
    back = Table.from_parquet(out_file)
    assert back["person_id"].tolist() == resolution.person_id.tolist()
    assert back["household_id"].tolist() == resolution.household_id.tolist()
    assert back["record_id"].tolist() == resolution.records["record_id"].tolist()
    code, out, _ = run(capsys, "resolve", files / "records.csv", "--golden")
    assert code == 0 and out == csv_of(resolution.golden_records())


def test_audit_with_promotions(files, capsys):
    prices = PriceTable.from_csv(files / "prices.csv")
    promotions = PromotionTable.from_csv(files / "promotions.csv")
    expected = audit(prices, promotions)
    assert len(expected.findings) > 0
    args = ("audit", files / "prices.csv", "--promotions", files / "promotions.csv")
    code, out, _ = run(capsys, *args)
    assert code == 0 and out == csv_of(expected.findings)
    code, out, _ = run(capsys, *args, "--summary", "--format", "json")
    rows = json.loads(out)
    summary = expected.summary_table()
    assert [r["rule"] for r in rows] == summary["rule"].tolist()
    assert [r["findings"] for r in rows] == summary["findings"].tolist()


def test_report_on_files(files, capsys, tmp_path):
    out_file = tmp_path / "report.html"
    args = ("--records", files / "records.csv", "--prices", files / "prices.csv")
    code, out, err = run(
        capsys, "report", files / "touchpoints.csv", *MAPPING, *args, "--intervals", "20",
        "-o", out_file,
    )  # fmt: skip
    assert (code, out, err) == (0, "", "")
    page = out_file.read_text("utf-8")
    for key in oj.reports.SECTIONS:
        assert f'<section id="{key}" class="results">' in page
    assert page.count("<img ") == 4


def test_rejects_are_written_with_their_reason(tmp_path, capsys):
    path = tmp_path / "tp.csv"
    path.write_text(
        "customer,time,channel,event\n"
        "c1,2024-05-01 10:00,web,page_view\n"
        "c1,yesterday,web,purchase\n"
        "c2,2024-05-02 10:00,store,purchase\n",
        "utf-8",
    )
    loaded = oj.TouchpointTable.from_csv(path, errors="quarantine")
    rejects = tmp_path / "rejects.json"
    code, out, err = run(capsys, "sessionize", path, "--rejects", rejects)
    assert code == 0 and out == csv_of(oj.sessionize(loaded.kept).journeys)
    assert (
        err
        == f"omnijourney sessionize: 1 of 3 rows of {path} refused, written with the reason to {rejects}\n"
    )
    rows = json.loads(rejects.read_text("utf-8"))
    assert rows == [
        {"row": 1, "column": "time", "value": "yesterday", "reason": loaded.rejects["reason"][0]}
    ]
    assert rows[0]["reason"] == "is not a time (ISO 8601 expected)"


# --------------------------------------------------------------------------- conventions


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sessionize", "{root}/missing.csv"), "{root}/missing.csv: no such file"),
        (("sessionize", "{root}"), "{root}: is a directory"),
        (
            ("sessionize", "{root}/broken.parquet"),
            "{root}/broken.parquet: Could not open Parquet input source",
        ),
        (
            ("sessionize", "{root}/touchpoints.csv"),
            "{root}/touchpoints.csv: TouchpointTable: required column 'customer' not found",
        ),
        (
            ("sessionize", "{root}/touchpoints.csv", *MAPPING[:2], "--time", "nope"),
            "{root}/touchpoints.csv: TouchpointTable: column 'nope' (for 'time') not found",
        ),
        (
            ("breaks", "{root}/touchpoints.csv", *MAPPING, "--time", "canal"),
            "{root}/touchpoints.csv: TouchpointTable, column 'time' (input column 'canal'): is not a time",
        ),
        (
            ("audit", "{root}/prices.csv", "--promotions", "{root}/promotions.csv",
             "--promotions-column", "discount_pct=x"),
            "{root}/promotions.csv: PromotionTable.from_columns got unknown keyword(s) "
            "['discount_pct']",
        ),
        (
            ("audit", "{root}/prices.csv", "--stock-column", "sku=article"),
            "--stock-column is given without --stock FILE",
        ),
        (
            ("sessionize", "{root}/touchpoints.csv", *MAPPING, "--visit-timeout", "soon"),
            "visit_timeout must be a duration",
        ),
        (
            ("resolve", "{root}/records.csv", "--format", "parquet"),
            "parquet output needs a file",
        ),
    ],
)  # fmt: skip
def test_unreadable_input_is_one_line_and_exit_2(files, capsys, args, message):
    root = str(files)
    code, out, err = run(capsys, *(a.format(root=root) for a in args))
    assert code == 2 and out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"omnijourney {args[0]}: error: {message.format(root=root)}"), err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sessionize",), "the following arguments are required: TOUCHPOINTS"),
        (("resolve", "x.csv", "--client", "id"), "unrecognized arguments: --client id"),
        (("breaks", "x.csv", "--event-map", "achat"), "expected NAME=VALUE, got 'achat'"),
        (("attribute", "x.csv", "--model", "magic"), "invalid choice: 'magic'"),
    ],
)
def test_usage_errors_exit_2_after_the_usage(capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("usage: omnijourney") and message in err


def test_a_bare_command_prints_the_usage_of_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main([])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "sessionize, breaks, resolve, attribute, audit, report" in err


def test_refused_analysis_exits_1_with_one_line(tmp_path, capsys):
    """Readable files that the analysis refuses: no journey converts, nothing to credit."""
    path = tmp_path / "tp.csv"
    path.write_text("customer,time,channel,event\nc1,2024-05-01,web,page_view\n", "utf-8")
    code, out, err = run(capsys, "attribute", path)
    assert code == 1 and out == ""
    warning, error = err.splitlines()
    assert warning.startswith("omnijourney attribute: warning: JourneyRules.conversion_events")
    assert error.startswith("omnijourney attribute: error: PathTable, column 'conversions'")


def test_the_command_line_in_a_process_has_no_traceback(files):
    done = subprocess.run(
        [sys.executable, "-m", "omnijourney", "resolve", str(files / "nope.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"omnijourney resolve: error: {files / 'nope.csv'}: no such file\n"


def test_a_closed_pipe_ends_a_command_quietly(files):
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnijourney", "sessionize", str(files / "touchpoints.csv"),
         *MAPPING, "--touchpoints"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away before the command writes (imports take longer)
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert err == "" and proc.returncode == 1


def test_progress_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    quiet, loud = io.StringIO(), Terminal()
    for stream in (quiet, loud):
        with Progress(stream).step("reading x.csv"):
            pass
    assert quiet.getvalue() == ""
    assert loud.getvalue().startswith("  reading x.csv... ") and loud.getvalue().endswith(" s\n")
