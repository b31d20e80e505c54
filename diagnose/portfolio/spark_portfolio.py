"""The portfolio on Spark: the summary's days, packs, segments (`--by`) and rejection reasons by aggregation, and the flat export."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from diagnose.portfolio.flat import ACCOUNT_COLUMNS, FINDING_COLUMNS, LIST_SEPARATOR
from diagnose.portfolio.segments import By
from diagnose.portfolio.summary import Tally, reject_reason

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

_REPORT = (
    "verdict string, snapshot struct<account_id:string,as_of:string>, "
    "ruleset struct<name:string,version:string,digest:string>, segments map<string,string>, "
    "findings array<struct<rank:int,rule_id:string,family:string,severity:string,score:double,contributing:boolean>>"
)


def _reports(frame: DataFrame) -> DataFrame:
    """One row `r` per diagnosed record: the report fields the portfolio reads."""
    from pyspark.sql import functions as F

    return frame.where(F.col("report_json").isNotNull()).select(F.from_json(F.col("report_json"), _REPORT).alias("r"), "*")


def _field(name: str) -> Column:
    """One --by field of a report row, as `segments.By.key` gives it locally."""
    from pyspark.sql import functions as F

    as_of = F.col("r.snapshot.as_of")
    if name == "as_of:day":
        return F.substring(as_of, 1, 10)
    if name == "as_of:month":
        return F.substring(as_of, 1, 7)
    if name == "as_of:week":
        day = F.to_date(F.substring(as_of, 1, 10))
        return F.concat(
            F.expr("extract(YEAROFWEEK FROM to_date(substring(r.snapshot.as_of, 1, 10)))").cast("string"),
            F.lit("-W"),
            F.lpad(F.weekofyear(day).cast("string"), 2, "0"),
        )
    return F.try_element_at(F.col("r.segments"), F.lit(name))


def add_context(tally: Tally, frame: DataFrame, by: By = By()) -> None:
    """Fill what `Tally._context` counts locally (days, packs, the parts of ``by``) from a result DataFrame, in three aggregations."""
    from pyspark.sql import functions as F

    reports = _reports(frame)
    for day, verdict, n in reports.groupBy(F.substring("r.snapshot.as_of", 1, 10).alias("d"), F.col("r.verdict")).count().collect():
        tally.days[(day or "", verdict)] += int(n)
    for name, version, digest, n in reports.groupBy("r.ruleset.name", "r.ruleset.version", "r.ruleset.digest").count().collect():
        tally.rulesets[(name or "", version or "", digest or "")] += int(n)
    tally.by = by
    if not by:
        return
    keys = [_field(f).alias(f"k{i}") for i, f in enumerate(by.fields)]
    found = F.col("r.findings")
    top = F.try_element_at(found, F.lit(1))

    def item(kind: str, name: Column | None = None) -> Column:
        return F.struct(F.lit(kind).alias("kind"), (name if name is not None else F.lit(None).cast("string")).alias("name"))

    items = F.concat(
        F.array(item("verdict", F.col("r.verdict"))),
        F.when(F.size(found) == 0, F.array(item("no_cause"))).otherwise(
            F.array(item("top_cause", top.getField("rule_id")), item("top_family", top.getField("family")))
        ),
        F.transform(F.array_distinct(F.transform(found, lambda f: f.getField("rule_id"))), lambda c: item("cause", c)),
        F.transform(F.array_distinct(F.transform(found, lambda f: f.getField("family"))), lambda c: item("family", c)),
    )
    rows = reports.select(*keys, F.explode(items).alias("it")).groupBy(*[f"k{i}" for i in range(len(keys))], "it.kind", "it.name").count()
    for row in rows.collect():
        key = tuple(row[f"k{i}"] for i in range(len(keys)))
        part = tally.parts.get(key)
        if part is None:
            part = tally.parts[key] = Tally(count_pairs=False)
        kind, name, n = row["kind"], row["name"], int(row["count"])
        if kind == "no_cause":
            part.no_cause += n
        else:
            counters = {
                "verdict": part.verdicts,
                "cause": part.causes,
                "top_cause": part.top_causes,
                "family": part.families,
                "top_family": part.top_families,
            }
            counters[kind][name] += n
            if kind == "verdict":
                part.diagnosed += n


def reasons(frame: DataFrame) -> Counter[str]:
    """Rejected records per reason (`breakdown.reject_reason`), from the error records' first problem."""
    from pyspark.sql import functions as F

    bad = frame.where(F.col("error_json").isNotNull())
    grouped = bad.groupBy(
        F.get_json_object("error_json", "$.error").alias("e"),
        F.get_json_object("error_json", "$.problems[0].path").alias("p"),
        F.get_json_object("error_json", "$.problems[0].message").alias("m"),
    ).count()
    out: Counter[str] = Counter()
    for e, p, m, n in grouped.collect():
        out[reject_reason({"error": e, "problems": [{"path": p or "", "message": m}] if m is not None else []})] += int(n)
    return out


def flat_frames(frame: DataFrame, segments: Sequence[str], order: Column | None = None) -> tuple[DataFrame, DataFrame]:
    """The accounts and the findings of a result DataFrame, in the columns and types of the local flat export."""
    from pyspark.sql import functions as F

    reports = _reports(frame)
    if order is not None:
        reports = reports.orderBy(order)
    found = F.col("r.findings")
    top = F.try_element_at(found, F.lit(1))
    as_of = F.col("r.snapshot.as_of")
    accounts = reports.select(
        F.col("r.snapshot.account_id").alias("account_id"),
        as_of.cast("timestamp").alias("as_of"),
        F.col("r.verdict").alias("verdict"),
        top.getField("rule_id").alias("top_cause"),
        top.getField("family").alias("top_family"),
        top.getField("score").alias("top_score"),
        F.size(found).cast("int").alias("causes"),
        F.transform(found, lambda f: f.getField("rule_id")).alias("cause_ids"),
        (F.col("source_file") if "source_file" in frame.columns else F.lit(None).cast("string")).alias("source_file"),
        (F.col("source_line") if "source_line" in frame.columns else F.lit(None).cast("long")).alias("source_line"),
        *[F.try_element_at(F.col("r.segments"), F.lit(s)).alias(s) for s in segments],
    )
    findings = reports.select(
        F.col("r.snapshot.account_id").alias("account_id"), as_of.cast("timestamp").alias("as_of"), F.explode(found).alias("f")
    )
    findings = findings.select("account_id", "as_of", *[F.col(f"f.{name}").alias(name) for name, _ in FINDING_COLUMNS[2:]])
    assert accounts.columns[: len(ACCOUNT_COLUMNS)] == [n for n, _ in ACCOUNT_COLUMNS]
    return accounts, findings


@contextlib.contextmanager
def session_conf(session: SparkSession, name: str, value: str) -> Iterator[None]:
    """``session``'s setting ``name`` set to ``value`` for the jobs of a block, then as it was."""
    before = session.conf.get(name, None)
    session.conf.set(name, value)
    try:
        yield
    finally:
        if before is None:
            session.conf.unset(name)
        else:
            session.conf.set(name, before)


def write_flat(frame: DataFrame, folder: str, segments: Sequence[str], order: Column | None = None) -> tuple[int, int]:
    """The flat export as Spark writes it: `accounts.parquet`, `findings.parquet`, `accounts.csv`, `findings.csv` under ``folder``,
    each a folder of part files (pandas and pyarrow read one as a table). Returns the rows of each."""
    from pyspark.sql import functions as F

    accounts, findings = flat_frames(frame, segments, order)
    # microseconds with the UTC flag, the type the local export writes (Spark's default, INT96, is deprecated in Parquet)
    with session_conf(frame.sparkSession, "spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS"):
        accounts.write.parquet(f"{folder}/accounts.parquet")
        findings.write.parquet(f"{folder}/findings.parquet")
    as_text: dict[str, Any] = {"as_of": F.date_format("as_of", "yyyy-MM-dd'T'HH:mm:ssXXX")}
    csv_accounts = accounts.withColumns({**as_text, "cause_ids": F.concat_ws(LIST_SEPARATOR, "cause_ids")})
    csv_accounts.write.option("header", True).csv(f"{folder}/accounts.csv")
    findings.withColumns(as_text).write.option("header", True).csv(f"{folder}/findings.csv")
    return accounts.count(), findings.count()
