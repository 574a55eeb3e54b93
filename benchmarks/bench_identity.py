"""Identity merging: omnijourney against splink (DuckDB) and recordlinkage, and normalization
against the pandas ``.str`` route.

- ``febrl4``: FEBRL4 (5,000 + 5,000 records, 5,000 true links; ``tests/data``), linked end to
  end without ``soc_sec_id``: read the CSV files, standardize, block, compare, fit without
  labels, cluster. ``febrl3``: FEBRL3 (5,000 records of 2,000 persons, 6,538 true pairs)
  deduplicated the same way. omnijourney: ``resolve`` with its **default rules** (every
  column mapped to its role, ``link_only=True`` for FEBRL4: blocking, comparisons and
  levels are generated from the fields); splink: the detailed model of its FEBRL4 example
  without ``soc_sec_id`` (names, date of birth, street number and postcode with term
  frequencies; u by random sampling, EM sessions blocked on date of birth and on postcode;
  links and clusters at p >= 0.5), ``dedupe_only`` for FEBRL3; recordlinkage: index on
  blocked pairs (given name, surname, date of birth, postcode), string comparisons and its
  unsupervised ECM classifier (pairs, not clusters). Reports pairwise precision, recall and
  F1 against the true entities.
- ``synthetic``: the synthetic world's records (web, loyalty, call centre, orders; truth
  columns ``true_person_id`` and ``true_household_id``), ``n`` records (about 2.34 per
  customer). omnijourney: ``resolve`` with the default rules (persons inside households);
  splink: a standard model on the same raw records standardized with pandas (lower case,
  digits of phones, dates parsed), blocking on postcode and surname, email, phone, first
  name and surname; comparisons of first name, surname, date of birth, email, phone,
  address and postcode; u by random sampling, EM on two blocking rules; clusters at
  p >= 0.5. Emails and phones held by more than 20 records (store numbers, placeholders)
  and default dates of birth are cleared first, as a user would. Reports person and household pairwise precision, recall and F1 of each tool
  (splink has one level: its clusters are scored against both truths).
- ``normalize``: the identifying columns of ``n`` synthetic records made comparable.
  omnijourney: ``normalize_records`` (each distinct value once, vectorized); pandas: the
  ``.str`` recipe a user would write (strip, lower, accents removed, phone digits, dates
  parsed) on a DataFrame of the same columns.
- ``update``: 1% of ``n`` synthetic records (drawn at random) arrive after a resolution of
  the others. omnijourney: ``Resolution.update`` of the batch (the full resolve of the others
  is timed in the setup and reported, with the share the update costs and whether a full run
  with the same models finds the same partition); splink: the trained model scores the new
  records against the others and among themselves (``predict_between``, ``predict_within``)
  and every link is clustered again (it has no incremental clustering). At 10^7 records the
  batch is 10^4 records, omnijourney only, without the second full run.
- ``save_load``: ``Resolution.save`` and ``Resolution.load`` of a resolution of ``n``
  synthetic records (file size, and whether the ids come back).

recordlinkage needs pandas < 3: set ``RECORDLINKAGE_PYTHON`` to the interpreter of an
environment that has it, and the case runs there (the data are loaded before the timed
section; its wall time is the round trip and its report gives the child's own time and peak
RSS). Without it, the case needs ``recordlinkage`` importable here.
"""

from __future__ import annotations

import os
from pathlib import Path

from _case import OMNIJOURNEY, Case

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SYNTHETIC_SIZES = (10**5, 10**6)
NORMALIZE_SIZES = (10**6,)
RECORDS_PER_CUSTOMER = 2.34
RL_PYTHON = os.environ.get("RECORDLINKAGE_PYTHON", "")

SCORES = """
def scores(pred, truth):
    from omnijourney.identity import pairwise_scores
    s = pairwise_scores(pred, truth)
    # as text: the tables print floats with one decimal
    return f"{s.precision:.4f}", f"{s.recall:.4f}", f"{s.f1:.4f}"
"""

# --------------------------------------------------------------------------- FEBRL

# FEBRL4 links two files (A and B, one record of each person in each); FEBRL3 deduplicates one
# file. ``frames`` is the list of input files, each with its ``rec_id``.
FEBRL_FILES = {"febrl4": ("febrl4_A.csv", "febrl4_B.csv"), "febrl3": ("febrl3.csv",)}
FEBRL_TRUE_PAIRS = {"febrl4": 5000, "febrl3": 6538}
FEBRL_SIZE = {"febrl4": 10_000, "febrl3": 5_000}
FEBRL_LOAD = """
import pandas as pd
DATA = {data!r}
frames = [pd.read_csv(DATA + "/" + f, dtype=str) for f in {files!r}]
"""

FEBRL_OMNIJOURNEY = """
import omnijourney as oj
from omnijourney.identity import CustomerRecordTable, ResolutionRules, resolve
"""
FEBRL_OMNIJOURNEY_RUN = """
for name, part in zip("AB", frames):
    part["src"] = name
df = pd.concat(frames, ignore_index=True)
recs = CustomerRecordTable.from_columns(
    df, source="src", record_id="rec_id", first_name="given_name", last_name="surname",
    street_number="street_number", address="address_1", address_2="address_2", city="suburb",
    postcode="postcode", region="state", date_of_birth="date_of_birth")
res = resolve(recs, ResolutionRules(link_only=len(frames) == 2))
truth = df["rec_id"].str.extract(r"rec-(\\d+)-")[0].to_numpy()
"""
FEBRL_OMNIJOURNEY_REPORT = (
    "dict(zip(('precision', 'recall', 'f1'), scores(res.person_id, truth)), records=len(recs))"
)

FEBRL_SPLINK = """
import logging
import numpy as np
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
logging.getLogger("splink").setLevel(logging.ERROR)
"""
FEBRL_SPLINK_RUN = """
clean = []
for part in frames:
    part = part.drop(columns=["soc_sec_id"]).copy()
    for col in part.columns:
        part[col] = part[col].str.strip()
    clean.append(part)
settings = SettingsCreator(
    unique_id_column_name="rec_id",
    link_type="link_only" if len(clean) == 2 else "dedupe_only",
    blocking_rules_to_generate_predictions=[
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ],
    comparisons=[
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                 invalid_dates_as_null=True),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
            term_frequency_adjustments=True),
    ],
    retain_intermediate_calculation_columns=False,
)
db = DuckDBAPI()
linker = Linker([db.register(part) for part in clean], settings)
linker.training.estimate_probability_two_random_records_match(
    [block_on("given_name", "surname", "date_of_birth")], recall=0.8)
linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=seed % 1000)
linker.training.estimate_parameters_using_expectation_maximisation(
    block_on("date_of_birth"), estimate_without_term_frequencies=True)
linker.training.estimate_parameters_using_expectation_maximisation(
    block_on("postcode"), estimate_without_term_frequencies=True)
pred = linker.inference.predict(threshold_match_probability=0.5)
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.5).as_pandas_dataframe()
"""
FEBRL_SPLINK_REPORT = (
    "dict(zip(('precision', 'recall', 'f1'), scores(clusters['cluster_id'].to_numpy(), "
    "clusters['rec_id'].str.extract(r'rec-(\\d+)-')[0].to_numpy())), records=len(clusters))"
)

# recordlinkage runs in its own interpreter (pandas < 3): it loads the data, says "ready",
# runs when told and answers with its own time and peak RSS
RL_CHILD = (
    r"""
import json, sys, time
import numpy as np
import pandas as pd
import recordlinkage as rl
DATA, FILES, TRUE_PAIRS = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
frames = [pd.read_csv(DATA + "/" + f, dtype=str, index_col="rec_id") for f in FILES]
def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
print("ready", flush=True)
sys.stdin.readline()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
t0 = time.perf_counter()
"""
    + r"""
indexer = rl.Index()
for col in ("given_name", "surname", "date_of_birth", "postcode"):
    indexer.block(col)
pairs = indexer.index(*frames)
cmp = rl.Compare()
cmp.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
cmp.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
cmp.exact("date_of_birth", "date_of_birth", label="date_of_birth")
cmp.exact("suburb", "suburb", label="suburb")
cmp.exact("state", "state", label="state")
cmp.string("address_1", "address_1", method="jarowinkler", threshold=0.85, label="address_1")
cmp.exact("street_number", "street_number", label="street_number")
cmp.exact("postcode", "postcode", label="postcode")
features = cmp.compute(pairs, *frames)
ecm = rl.ECMClassifier(binarize=0.5)
links = ecm.fit_predict(features)
wall = time.perf_counter() - t0
la = np.array([x.split("-")[1] for x in links.get_level_values(0)])
lb = np.array([x.split("-")[1] for x in links.get_level_values(1)])
tp = int((la == lb).sum())
p = tp / max(len(links), 1)
r = tp / TRUE_PAIRS
"""
    + r"""
print(json.dumps({"wall_s": round(wall, 3), "peak_rss_mib": round(status("VmHWM") / 1024, 1),
                  "precision": round(p, 4), "recall": round(r, 4),
                  "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
                  "pairs_scored": len(features)}), flush=True)
"""
)
RL_SETUP = """
import json, subprocess
child = subprocess.Popen([{python!r}, "-c", {child!r}, {data!r}, {files!r}, {true_pairs!r}],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().strip() == "ready"
"""
RL_RUN = """
child.stdin.write("go\\n")
child.stdin.flush()
answer = json.loads(child.stdout.readline())
child.wait()
"""
RL_REPORT = (
    "{'precision': f\"{answer['precision']:.4f}\", 'recall': f\"{answer['recall']:.4f}\", "
    "'f1': f\"{answer['f1']:.4f}\", 'child_wall_s': f\"{answer['wall_s']:.3f}\", "
    "'child_peak_rss_mib': answer['peak_rss_mib']}"
)
RL_INPROCESS = """
import recordlinkage as rl
import numpy as np
TRUE_PAIRS = {true_pairs}
frames = [f.set_index("rec_id") for f in frames]
"""
RL_INPROCESS_RUN = RL_CHILD[RL_CHILD.index("indexer = rl.Index()") : RL_CHILD.index("print(json")]
RL_INPROCESS_REPORT = (
    "{'precision': f'{p:.4f}', 'recall': f'{r:.4f}', 'f1': f'{2 * p * r / (p + r):.4f}'}"
)

# --------------------------------------------------------------------------- synthetic

SYNTH_DATA = f"""
import numpy as np
import omnijourney as oj
from omnijourney.identity import CustomerRecordTable
world = oj.synth.generate(max(int(n / {RECORDS_PER_CUSTOMER}), 10), seed=seed, prices=False,
                          touchpoints_per_customer=0.1)
raw = world.records
del world
"""
SYNTH_OMNIJOURNEY = (
    SYNTH_DATA
    + SCORES
    + """
from omnijourney.identity import resolve
recs = CustomerRecordTable.from_columns(raw, extra=["true_person_id", "true_household_id"])
del raw
"""
)
SYNTH_OMNIJOURNEY_RUN = "res = resolve(recs)\n"
SYNTH_REPORT = (
    "dict(records=len({truth}), "
    "**dict(zip(('person_p', 'person_r', 'person_f1'), scores({pred}, {truth}['true_person_id']))),"
    " **dict(zip(('household_p', 'household_r', 'household_f1'), "
    "scores({household}, {truth}['true_household_id']))))"
)
SYNTH_OMNIJOURNEY_REPORT = SYNTH_REPORT.format(
    truth="recs", pred="res.person_id", household="res.household_id"
)

SYNTH_SPLINK = (
    SYNTH_DATA
    + SCORES
    + """
import logging
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
logging.getLogger("splink").setLevel(logging.ERROR)
cols = ["first_name", "last_name", "email", "phone", "address", "postcode", "city",
        "date_of_birth", "true_person_id", "true_household_id"]
df = pd.DataFrame({c: raw[c] for c in cols})
df["uid"] = np.arange(len(df))
del raw
"""
)
SPLINK_CLEAN = """
clean = pd.DataFrame({"uid": df["uid"]})
for col in ("first_name", "last_name", "address", "city"):
    s = df[col].str.strip().str.lower().str.normalize("NFKD")
    clean[col] = s.str.encode("ascii", "ignore").str.decode("ascii").str.replace(r"[^a-z0-9 ]", " ", regex=True)
clean["email"] = df["email"].str.strip().str.lower()
digits = df["phone"].str.replace(r"\\D", "", regex=True)
clean["phone"] = digits.str[-9:].where(digits.str.len() >= 9)
clean["postcode"] = df["postcode"].str.strip().str.zfill(5)
clean["dob"] = pd.to_datetime(df["date_of_birth"], format="mixed", dayfirst=True, errors="coerce")
# the usual cleaning: values typed to fill a mandatory field, or shared by many records
for col in ("email", "phone"):
    counts = clean[col].map(clean[col].value_counts())
    clean[col] = clean[col].where(counts <= 20)
clean.loc[clean["dob"] <= pd.Timestamp("1901-01-01"), "dob"] = pd.NaT
"""
SPLINK_SETTINGS = """
settings = SettingsCreator(
    unique_id_column_name="uid",
    link_type="dedupe_only",
    blocking_rules_to_generate_predictions=[
        block_on("postcode", "last_name"), block_on("email"), block_on("phone"),
        block_on("first_name", "last_name"),
    ],
    comparisons=[
        cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("dob", input_is_string=False),
        cl.EmailComparison("email"),
        cl.ExactMatch("phone"),
        cl.JaroWinklerAtThresholds("address", [0.9]),
        cl.ExactMatch("postcode"),
    ],
)
"""
SPLINK_TRAIN = """
db = DuckDBAPI()
linker = Linker(db.register(clean), settings)
linker.training.estimate_probability_two_random_records_match(
    [block_on("email"), block_on("phone")], recall=0.6)
linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed % 1000)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("email"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode", "last_name"))
"""
SPLINK_PREDICT = """
pred = linker.inference.predict(threshold_match_probability=0.5)
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.5).as_pandas_dataframe()
clusters = clusters.sort_values("uid")
"""
SYNTH_SPLINK_RUN = SPLINK_CLEAN + SPLINK_SETTINGS + SPLINK_TRAIN + SPLINK_PREDICT
SYNTH_SPLINK_REPORT = SYNTH_REPORT.format(
    truth="df",
    pred="clusters['cluster_id'].to_numpy()",
    household="clusters['cluster_id'].to_numpy()",
)

# --------------------------------------------------------------------------- updates

UPDATE_SHARE = 0.01
UPDATE_SIZES = (10**6,)
# a batch of 10^4 records into 10^7 (generated, no peer; no second full run to check)
LARGE_UPDATE_SIZES = (10**7,)
LARGE_UPDATE_BATCH = 10**4
# the same records are new for both tools (the same seed over the same number of records)
UPDATE_SPLIT = """
is_new = np.random.default_rng(seed).random({rows}) >= 1 - {share}
"""
UPDATE_OMNIJOURNEY = (
    SYNTH_DATA
    + f"update_share = min({UPDATE_SHARE}, {LARGE_UPDATE_BATCH} / len(raw)) if n >= 10**7 "
    f"else {UPDATE_SHARE}\n"
    + UPDATE_SPLIT.format(rows="len(raw)", share="update_share")
    + """
import time
from omnijourney.identity import resolve
recs = CustomerRecordTable.from_columns(raw, extra=["true_person_id", "true_household_id"])
del raw
old, batch = recs.filter(~is_new).compact(), recs.filter(is_new).compact()
t0 = time.perf_counter()
res = resolve(old)
full_s = time.perf_counter() - t0
"""
)
UPDATE_OMNIJOURNEY_RUN = """
t0 = time.perf_counter()
new = res.update(batch)
update_s = time.perf_counter() - t0
"""
UPDATE_OMNIJOURNEY_REPORT = """dict(
    records=len(new.records), batch=len(batch), full_resolve_s=round(full_s, 2),
    update_s=round(update_s, 2), update_share=f"{update_s / full_s:.3%}",
    same_as_full_run=bool(_same(new)) if n < 10**7 else "not checked",
    changes=new.changes.summary())"""
UPDATE_CHECK = """
def _same(new):
    full = resolve(new.records, new.rules, model=new.model, person_model=new.person_model)
    pairs = np.unique(np.stack([new.person_id, full.person_id], axis=1), axis=0)
    return np.unique(pairs[:, 0]).size == np.unique(pairs[:, 1]).size == pairs.shape[0]
"""
UPDATE_SPLINK = (
    SYNTH_SPLINK
    + UPDATE_SPLIT.format(rows="len(df)", share=UPDATE_SHARE)
    + SPLINK_CLEAN
    + SPLINK_SETTINGS
    + """
import time
from splink.clustering import cluster_pairwise_predictions_at_threshold
everything = clean
clean, clean_new = everything[~is_new].reset_index(drop=True), everything[is_new].reset_index(drop=True)
t0 = time.perf_counter()
"""
    + SPLINK_TRAIN
    + """
old_sdf = linker._input_tables_dict[next(iter(linker._input_tables_dict))]
pred_old = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
full_s = time.perf_counter() - t0
for col in ("first_name", "last_name"):
    linker.table_management.compute_tf_table(col)
"""
)
# splink's incremental path: score the new records against the earlier ones and among
# themselves with the trained model, then cluster every link again (it has no incremental
# clustering)
UPDATE_SPLINK_RUN = """
t0 = time.perf_counter()
new_sdf = db.register(clean_new)
between = linker.inference.predict_between(old_sdf, new_sdf, threshold_match_probability=0.5)
within = linker.inference.predict_within(new_sdf, threshold_match_probability=0.5)
cols = ["unique_id_l", "unique_id_r", "match_probability"]
edges = pd.concat([pred_old[cols], between.as_pandas_dataframe()[cols],
                   within.as_pandas_dataframe()[cols]], ignore_index=True)
clusters = cluster_pairwise_predictions_at_threshold(
    everything[["uid"]], edges, db, "uid", "unique_id_l", "unique_id_r",
    threshold_match_probability=0.5).as_pandas_dataframe()
update_s = time.perf_counter() - t0
"""
UPDATE_SPLINK_REPORT = """dict(
    records=len(everything), batch=len(clean_new), full_resolve_s=round(full_s, 2),
    update_s=round(update_s, 2), update_share=f"{update_s / full_s:.3%}")"""

SAVE_SIZES = (10**6,)
SAVE_OMNIJOURNEY = (
    SYNTH_DATA
    + """
import os, tempfile, time
from omnijourney.identity import Resolution, resolve
recs = CustomerRecordTable.from_columns(raw, extra=["true_person_id", "true_household_id"])
del raw
res = resolve(recs)
res.state()
path = os.path.join(tempfile.mkdtemp(), "resolution.ojr")
"""
)
SAVE_OMNIJOURNEY_RUN = """
t0 = time.perf_counter()
res.save(path)
save_s = time.perf_counter() - t0
back = Resolution.load(path)
load_s = time.perf_counter() - t0 - save_s
"""
SAVE_OMNIJOURNEY_REPORT = """dict(
    records=len(back.records), pairs=int(back.pair_left.size), save_s=round(save_s, 2),
    load_s=round(load_s, 2), file_mib=round(os.path.getsize(path) / 2**20, 1),
    same_ids=bool((back.person_id == res.person_id).all()))"""

# --------------------------------------------------------------------------- normalization

NORMALIZE_OMNIJOURNEY = (
    SYNTH_DATA
    + """
from omnijourney.identity import normalize_records
recs = CustomerRecordTable.from_columns(raw)
del raw
"""
)
NORMALIZE_OMNIJOURNEY_RUN = "norm = normalize_records(recs)\n"
NORMALIZE_PANDAS = (
    SYNTH_DATA
    + """
import pandas as pd
cols = ["first_name", "last_name", "email", "phone", "address", "postcode", "city",
        "date_of_birth", "loyalty_id", "account_id"]
df = pd.DataFrame({c: raw[c] for c in cols})
del raw
"""
)
NORMALIZE_PANDAS_RUN = """
out = {}
for col in ("first_name", "last_name", "address", "city"):
    s = df[col].str.strip().str.lower().str.normalize("NFKD")
    s = s.str.encode("ascii", "ignore").str.decode("ascii")
    out[col] = s.str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
email = df["email"].str.strip().str.lower()
local = email.str.split("@").str[0].str.split("+").str[0]
domain = email.str.split("@").str[1]
gmail = domain.isin(["gmail.com", "googlemail.com"])
local = local.where(~gmail, local.str.replace(".", "", regex=False))
out["email"] = (local + "@" + domain).where(email.str.fullmatch(r"[^@\\s]+@[^@\\s]+\\.[a-z]+"))
digits = df["phone"].str.replace(r"\\D", "", regex=True)
national = digits.str.replace(r"^(0033|33|0)", "", regex=True)
out["phone"] = ("+33" + national).where(national.str.len() == 9)
out["postcode"] = df["postcode"].str.strip().str.zfill(5)
out["date_of_birth"] = pd.to_datetime(df["date_of_birth"], format="mixed", dayfirst=True,
                                      errors="coerce")
for col in ("loyalty_id", "account_id"):
    out[col] = df[col].str.upper().str.replace(r"[\\s./_-]", "", regex=True)
"""


def _febrl_cases(name: str) -> list[Case]:
    files = FEBRL_FILES[name]
    load = FEBRL_LOAD.format(data=str(DATA), files=files) + SCORES
    cases = [
        Case(name, OMNIJOURNEY, FEBRL_SIZE[name], "records", load + FEBRL_OMNIJOURNEY,
             FEBRL_OMNIJOURNEY_RUN, FEBRL_OMNIJOURNEY_REPORT, requires=("pandas",), pip="pandas"),
        Case(name, "splink", FEBRL_SIZE[name], "records", load + FEBRL_SPLINK, FEBRL_SPLINK_RUN,
             FEBRL_SPLINK_REPORT, requires=("splink", "pandas"), pip="splink"),
    ]  # fmt: skip
    if RL_PYTHON and Path(RL_PYTHON).exists():
        setup = RL_SETUP.format(
            python=RL_PYTHON,
            child=RL_CHILD,
            data=str(DATA),
            files=",".join(files),
            true_pairs=str(FEBRL_TRUE_PAIRS[name]),
        )
        cases.append(Case(name, "recordlinkage", FEBRL_SIZE[name], "records", setup, RL_RUN, RL_REPORT,
                          repeat=1))  # fmt: skip
    else:
        setup = load + RL_INPROCESS.format(true_pairs=FEBRL_TRUE_PAIRS[name])
        cases.append(
            Case(name, "recordlinkage", FEBRL_SIZE[name], "records", setup, RL_INPROCESS_RUN,
                 RL_INPROCESS_REPORT, requires=("recordlinkage",),
                 pip="recordlinkage (needs pandas < 3; or set RECORDLINKAGE_PYTHON)")
        )  # fmt: skip
    return cases


def _synthetic_cases(n: int) -> list[Case]:
    return [
        Case("synthetic", OMNIJOURNEY, n, "records", SYNTH_OMNIJOURNEY, SYNTH_OMNIJOURNEY_RUN,
             SYNTH_OMNIJOURNEY_REPORT, repeat=1),
        Case("synthetic", "splink", n, "records", SYNTH_SPLINK, SYNTH_SPLINK_RUN,
             SYNTH_SPLINK_REPORT, requires=("splink", "pandas"), pip="splink", repeat=1),
    ]  # fmt: skip


def _update_cases(n: int) -> list[Case]:
    return [
        Case("update", OMNIJOURNEY, n, "records", UPDATE_OMNIJOURNEY + UPDATE_CHECK,
             UPDATE_OMNIJOURNEY_RUN, UPDATE_OMNIJOURNEY_REPORT, repeat=1),
        Case("update", "splink", n, "records", UPDATE_SPLINK, UPDATE_SPLINK_RUN,
             UPDATE_SPLINK_REPORT, requires=("splink", "pandas"), pip="splink", repeat=1),
    ]  # fmt: skip


def _normalize_cases(n: int) -> list[Case]:
    return [
        Case("normalize", OMNIJOURNEY, n, "records", NORMALIZE_OMNIJOURNEY,
             NORMALIZE_OMNIJOURNEY_RUN, "{'fields': len(norm.fields)}"),
        Case("normalize", "pandas", n, "records", NORMALIZE_PANDAS, NORMALIZE_PANDAS_RUN,
             "{'fields': len(out)}", requires=("pandas",), pip="pandas"),
    ]  # fmt: skip


CASES = [
    *_febrl_cases("febrl4"),
    *_febrl_cases("febrl3"),
    *(case for n in SYNTHETIC_SIZES for case in _synthetic_cases(n)),
    *(case for n in NORMALIZE_SIZES for case in _normalize_cases(n)),
    *(case for n in UPDATE_SIZES for case in _update_cases(n)),
    *(
        Case(
            "update",
            OMNIJOURNEY,
            n,
            "records",
            UPDATE_OMNIJOURNEY + UPDATE_CHECK,
            UPDATE_OMNIJOURNEY_RUN,
            UPDATE_OMNIJOURNEY_REPORT,
            repeat=1,
        )
        for n in LARGE_UPDATE_SIZES
    ),
    *(
        Case(
            "save_load",
            OMNIJOURNEY,
            n,
            "records",
            SAVE_OMNIJOURNEY,
            SAVE_OMNIJOURNEY_RUN,
            SAVE_OMNIJOURNEY_REPORT,
            repeat=1,
        )
        for n in SAVE_SIZES
    ),
]
