"""A run's part in the monthly cycle (``audit run … --workspace DIR``).

The workspace (:mod:`audit.workspace`) is opened — and so locked against a second writer — when
the run starts, and every change the run makes to it is written in one transaction at the very
end (:meth:`Cycle.commit`), after the reports: a run that fails, or a process that is killed,
leaves the workspace as it was. On the way:

1. before the checks, :meth:`Cycle.give_bans` writes the bans the workspace remembers (with any
   the operator supplied) as the run's ``bans`` table, which the rules read like any other;
2. after them, :meth:`Cycle.statuses` gives each finding its status (:mod:`audit.workspace.status`);
3. once the findings are written, :meth:`Cycle.prepare` draws the random sample, moves the 摘牌
   workflow on (:mod:`audit.workspace.units`), measures hit rates and recoveries, and writes them
   to the run's ``history/``, from which the reports — the outcomes forms ``outcomes/*.xlsx``
   among them (:mod:`reports.outcomes_form`) — are rendered like every other output.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import polars as pl

from audit.findings import DISMISSED, STATUSES
from audit.loader import RawSource, normalise
from audit.policy import Policy
from audit.rules import Rule
from audit.rundir import HISTORY_DIR, HISTORY_JSON, NORMALISED_DIR
from audit.schema import BANS, province_of
from audit.tables import month_end
from audit.workspace import Workspace
from audit.workspace.measures import draw_sample, performance, sample_results
from audit.workspace.status import finding_statuses, latest_decisions, overdue
from audit.workspace.store import SCHEMAS, rows_of
from audit.workspace.units import CONFIRMED_EXIT, DECLINED, DELISTED, PROPOSED, current_states
from reports.data import load_run, with_county
from reports.exit_list import exit_units

SETTINGS = ("office.reply_days", "office.sample_per_county", "office.sample_seed", "office.false_alarm_share")


def settings(policy: Policy) -> dict[str, Any]:
    """The office's settings for the cycle, as the run's policy snapshot gives them."""
    return {name: policy.detect(name) for name in SETTINGS}


def capped_links(links: pl.DataFrame, claims: pl.LazyFrame) -> pl.DataFrame:
    """Each (finding, claim) amount capped at what the claim paid (RULES.md §8)."""
    paid = claims.join(links.lazy().select("claim_id").unique(), on="claim_id", how="semi").group_by("claim_id").agg(
        (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).max().alias("_paid")).collect()
    return links.join(paid, on="claim_id", how="left").select(
        "finding_id", "claim_id",
        pl.min_horizontal("amount", pl.col("_paid").fill_null(float("inf"))).round(2).alias("amount"))


class Cycle:
    """The workspace, opened for one run of ``month`` (see the module docstring)."""

    def __init__(self, ws: Workspace, month: dt.date) -> None:
        self.ws = ws
        self.month = month
        self.history: pl.DataFrame | None = None
        self.pending: dict[str, pl.DataFrame] = {}
        self.facts: dict[str, Any] = {}
        self.with_facts: list[str] = []

    @classmethod
    def open(cls, directory: Path, month: dt.date) -> Cycle:
        """Open (or create) the workspace: raises :class:`audit.workspace.WorkspaceBusy` when
        another process holds it."""
        return cls(Workspace.open(Path(directory)), month)

    def close(self) -> None:
        self.ws.close()

    # -- 1. the bans the rules read -----------------------------------------------------------
    def give_bans(self, out_dir: Path, loaded: list[str]) -> list[str]:
        """Write ``normalised/bans.parquet``: the operator's bans (if the input had a bans table)
        and the workspace's; returns the tables the run has, bans included when there are any."""
        remembered = self.ws.table("bans")
        self.facts["bans_given"] = remembered.height
        if remembered.height == 0:
            return loaded
        raw = remembered.select(
            [pl.col(c.name).cast(pl.String) if c.name in remembered.columns else pl.lit(None, pl.String).alias(c.name)
             for c in BANS.columns]).with_columns(
            pl.coalesce(pl.col("source"), pl.lit("workspace")).alias("source"),
            pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias("_line"))
        given = normalise(BANS, [RawSource(f"workspace:{self.ws.path.name}", raw, [])]).frame()
        path = Path(out_dir) / NORMALISED_DIR / "bans.parquet"
        if "bans" in loaded and path.exists():
            supplied = pl.read_parquet(path)
            given = pl.concat([supplied, given.select(supplied.columns)], how="vertical_relaxed")
        given.write_parquet(path)
        return [*loaded, "bans"] if "bans" not in loaded else loaded

    # -- 2. statuses --------------------------------------------------------------------------
    def statuses(self, findings: pl.DataFrame, rules: list[Rule], reply_days: int) -> pl.DataFrame:
        """The findings with their status (and the history behind it kept for :meth:`prepare`)."""
        # per finding its first and its latest month before this one: all finding_statuses reads of them
        earlier = self.ws.frame(
            "SELECT month, finding_id, status, sent_month FROM findings WHERE month < ? QUALIFY "
            "month = min(month) OVER (PARTITION BY finding_id) OR month = max(month) OVER (PARTITION BY finding_id)",
            [self.month]).cast({"month": pl.Date, "finding_id": pl.String, "status": pl.String, "sent_month": pl.Date})
        decisions = latest_decisions(self.ws.table("outcomes"))
        facts = {r.id: r.facts for r in rules}
        self.with_facts = [r.id for r in rules if r.facts]
        self.history = finding_statuses(findings, earlier, decisions, facts, self.month, reply_days)
        status = self.history.select("finding_id", pl.col("status").alias("_status"))
        return findings.join(status, on="finding_id", how="left", maintain_order="left").with_columns(
            pl.col("_status").alias("status")).drop("_status")

    # -- 3. everything else, written to the run directory ---------------------------------------
    def prepare(self, out_dir: Path, policy: Policy) -> dict[str, Any]:
        """Sample, 摘牌 workflow, measures: ``history/`` in the run directory, and the rows to commit.
        Returns what run.json records of the cycle."""
        out_dir = Path(out_dir)
        assert self.history is not None, "statuses() comes first"
        office = settings(policy)
        rf = load_run(out_dir)
        claims = pl.scan_parquet(out_dir / NORMALISED_DIR / "claims.parquet")
        units = pl.scan_parquet(out_dir / NORMALISED_DIR / "units.parquet")
        every = rf.rundir.all_findings()
        raw_links = pl.read_parquet(out_dir / "finding_claims.parquet")
        links = capped_links(raw_links, claims)
        handled = with_county(rf, every)  # the county that handles each finding: its own, else its unit's

        sample = draw_sample(claims, units, raw_links.select("claim_id").unique(), self.month,
                             int(office["office.sample_per_county"]), int(office["office.sample_seed"]))
        proposals, events, bans = self._units(rf, policy, units)

        counted = handled.filter(pl.col("status") != DISMISSED)
        counted_links = links.join(counted.select("finding_id"), on="finding_id", how="semi")
        earlier_seen = self.ws.frame(
            "SELECT finding_id, arg_max(rule_id, month) AS rule_id, arg_max(county_code, month) AS county_code, "
            "max(month) AS month FROM findings WHERE month < ? GROUP BY finding_id", [self.month])
        earlier_links = self.ws.frame(
            "SELECT c.finding_id, c.claim_id, c.amount FROM finding_claims c JOIN (SELECT finding_id, max(month) AS month "
            "FROM findings WHERE month < ? GROUP BY finding_id) l ON c.finding_id = l.finding_id AND c.month = l.month",
            [self.month])
        now_ids = handled.select("finding_id")
        seen = pl.concat([
            earlier_seen.join(now_ids, on="finding_id", how="anti").select("finding_id", "rule_id", "county_code")
            .cast({"rule_id": pl.String, "county_code": pl.String}),
            handled.select("finding_id", "rule_id", "county_code")])
        seen_links = pl.concat([earlier_links.join(now_ids, on="finding_id", how="anti")
                                .cast({"finding_id": pl.String, "claim_id": pl.String, "amount": pl.Float64}), links])
        decisions = latest_decisions(self.ws.table("outcomes"))
        share = float(office["office.false_alarm_share"])
        by_rule = performance(counted, counted_links, seen, seen_links, decisions, "rule_id", share)
        by_county = performance(counted, counted_links, seen, seen_links, decisions, "county_code", share)
        late = overdue(self.history, handled, self.month)
        samples = pl.concat([self.ws.table("sample", "WHERE month <> ?", [self.month]).drop("month"),
                             sample.select(list(SCHEMAS["sample"])[1:])])
        sample_decisions = latest_decisions(self.ws.table("sample_outcomes"), key="claim_id")
        previous = self.ws.scalar("SELECT max(month) FROM runs WHERE month < ?", [self.month])
        resolved = self.ws.table("findings", "WHERE month = ? AND status <> ?", [previous, DISMISSED]).join(
            now_ids, on="finding_id", how="anti") if previous else pl.DataFrame(schema=SCHEMAS["findings"])
        states = self._states(events, proposals)

        folder = out_dir / HISTORY_DIR
        folder.mkdir(exist_ok=True)
        for name, frame in (("findings", self.history), ("resolved", resolved), ("rules", by_rule),
                            ("counties", by_county), ("overdue", late), ("sample", sample),
                            ("sample_results", sample_results(samples, sample_decisions)), ("units", states)):
            frame.write_parquet(folder / f"{name}.parquet")
        counts = self.history.group_by("status").len()
        self.facts.update({
            "workspace": str(self.ws.directory.resolve()),
            "months": [m.strftime("%Y-%m") for m in self.ws.months() if m != self.month] + [self.month.strftime("%Y-%m")],
            "previous_month": previous.strftime("%Y-%m") if previous else None,
            "reply_due": (month_end(self.month) + dt.timedelta(days=int(office["office.reply_days"]))).isoformat(),
            "settings": office,
            "statuses": {s: int(counts.filter(pl.col("status") == s)["len"].sum()) for s in STATUSES},
            "resolved": resolved.height,
            "outcomes_recorded": int(self.ws.scalar("SELECT count(*) FROM outcomes") or 0),
        })
        (folder / HISTORY_JSON).write_text(json.dumps(self.facts, ensure_ascii=False, indent=2, default=str),
                                           encoding="utf-8")

        run = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
        self.pending = {
            "runs": pl.DataFrame([{
                "month": self.month, "run_dir": str(out_dir.resolve()), "generated_at": run.get("generated_at"),
                "recorded_at": dt.datetime.now().replace(microsecond=0), "findings": every.height,
                "rules_json": (out_dir / "rules.json").read_text(encoding="utf-8") if (out_dir / "rules.json").exists() else "",
                "settings_json": json.dumps(office, ensure_ascii=False)}]),
            "findings": handled.drop("evidence").join(self.history.select("finding_id", "sent_month"), on="finding_id",
                                                      how="left").with_columns(pl.lit(self.month).alias("month")),
            # the evidence a decision's facts key is computed from: of the rules that name facts
            "evidence": every.filter(pl.col("rule_id").is_in(self.with_facts)).select(
                "finding_id", "rule_id", "evidence").with_columns(pl.lit(self.month).alias("month")),
            "finding_claims": links.with_columns(pl.lit(self.month).alias("month")),
            "sample": sample.with_columns(pl.lit(self.month).alias("month")),
            "proposals": proposals,
            "unit_events": events,
            "bans": bans,
        }
        return {k: v for k, v in self.facts.items() if k in ("workspace", "previous_month", "statuses", "resolved",
                                                               "bans_given", "reply_due")}

    def _units(self, rf: Any, policy: Policy, units: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """This run's proposals, the 摘牌 events it causes, and the bans it records."""
        end = month_end(self.month)
        rows = exit_units(rf, policy, with_evidence=False)
        latest = units.sort("approved_date", "_line").group_by("unit_id").agg(pl.all().last()).select(
            "unit_id", "unit_name", "legal_rep_id", "legal_rep_name", "exit_date", "exit_reason", "county_code").collect()
        proposals = pl.DataFrame([{
            "month": self.month, "unit_id": r["unit_id"], "county_code": r["county_code"], "headline": r["_headline"],
            "conditions": r["all_conditions"], "banned": r["ban"].startswith("是"), "ban_years": r["_ban_years"],
            "finding_ids": list(r["_finding_ids"])} for r in rows], schema={
            k: SCHEMAS["proposals"][k] for k in ("month", "unit_id", "county_code", "headline", "conditions", "banned",
                                                 "ban_years", "finding_ids")})
        proposals = proposals.join(latest.select("unit_id", "unit_name", "legal_rep_id", "legal_rep_name"),
                                   on="unit_id", how="left")
        earlier = self.ws.table("unit_events", "WHERE NOT (month = ? AND source IN ('run', 'export'))", [self.month])
        state = dict(zip(*current_states(earlier).select("unit_id", "state").to_dict(as_series=False).values()))
        now = dt.datetime.now().replace(microsecond=0)
        events: list[dict[str, Any]] = []
        for r in proposals.select("unit_id", "county_code").to_dicts():
            if state.get(r["unit_id"]) in (None, DECLINED):
                events.append({**r, "state": PROPOSED, "event_date": end, "source": "run"})
                state[r["unit_id"]] = PROPOSED
        exited = latest.filter(pl.col("exit_date").is_not_null() & (pl.col("exit_date") <= end))
        banned_of = dict(zip(proposals["unit_id"].to_list(), proposals.select("banned", "headline").rows()))
        bans: list[dict[str, Any]] = []
        for r in exited.to_dicts():
            if state.get(r["unit_id"]) in (PROPOSED, CONFIRMED_EXIT):
                events.append({"unit_id": r["unit_id"], "county_code": r["county_code"], "state": DELISTED,
                               "event_date": r["exit_date"], "exit_date": r["exit_date"], "source": "export"})
                banned, headline = banned_of.get(r["unit_id"], (False, None))
                if banned and r["exit_reason"] is None:
                    bans.append({**{k: r[k] for k in ("unit_id", "unit_name", "county_code", "legal_rep_id",
                                                       "legal_rep_name", "exit_date")},
                                 "exit_reason": headline, "source": "run"})
        bans += self._export_bans(exited, policy)
        seq = self.ws.next_seq("unit_events")
        events = [{**e, "seq": seq + i, "month": self.month, "recorded_at": now} for i, e in enumerate(events)]
        bans = [{**b, "month": self.month} for b in bans]
        return proposals, rows_of("unit_events", events), rows_of("bans", bans)

    @staticmethod
    def _export_bans(exited: pl.DataFrame, policy: Policy) -> list[dict[str, Any]]:
        """The exits the export records under a condition that carries a ban in the unit's province
        on its exit date (the province's parameters): remembered so that a later export without
        the unit still bans it."""
        out = []
        with_reason = exited.filter(pl.col("exit_reason").is_not_null()).with_columns(
            province_of(pl.col("county_code")).alias("_province"))
        for r in with_reason.to_dicts():
            conditions = policy.value("unit.exit_ban_conditions", r["_province"], r["exit_date"]) or []
            if str(r["exit_reason"]) in [str(c) for c in conditions]:
                out.append({k: r[k] for k in ("unit_id", "unit_name", "county_code", "legal_rep_id", "legal_rep_name",
                                              "exit_date", "exit_reason")} | {"source": "export"})
        return out

    def _states(self, events: pl.DataFrame, proposals: pl.DataFrame) -> pl.DataFrame:
        """Every unit in the 摘牌 workflow after this run: state, since, exit date, ban end."""
        earlier = self.ws.table("unit_events", "WHERE NOT (month = ? AND source IN ('run', 'export'))", [self.month])
        states = current_states(pl.concat([earlier, events.select(earlier.columns)]))
        known = pl.concat([
            self.ws.table("proposals", "WHERE month <> ?", [self.month]),
            proposals.select(list(SCHEMAS["proposals"])),
        ]).sort("month").group_by("unit_id").agg(pl.all().last())
        first = pl.concat([self.ws.table("proposals", "WHERE month <> ?", [self.month]).select("unit_id", "month"),
                           proposals.select("unit_id", "month")]).group_by("unit_id").agg(pl.col("month").min().alias("first_proposed"))
        out = states.join(known.drop("county_code"), on="unit_id", how="left").join(first, on="unit_id", how="left")
        ban_until = pl.when(pl.col("banned") & pl.col("exit_date").is_not_null() & pl.col("ban_years").is_not_null()).then(
            pl.col("exit_date").dt.offset_by(pl.format("{}y", pl.col("ban_years"))))
        return out.with_columns(ban_until.alias("ban_until"),
                                pl.col("month").alias("last_proposed")).drop("month").sort("county_code", "unit_id")

    # -- 4. one transaction ----------------------------------------------------------------------
    def commit(self) -> None:
        """Write the run into the workspace — replacing an earlier run of the same month — at once."""
        with self.ws.transaction():
            self.ws.delete_month(self.month)
            for table, rows in self.pending.items():
                if table == "evidence":
                    self.ws.keep_latest_evidence(rows)
                else:
                    self.ws.insert(table, rows, ignore_existing=(table == "bans"))
        self.ws.checkpoint()


def digest(*parts: Any) -> str:
    """A row's content key (an identical row imported twice is one row)."""
    return hashlib.sha1("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()[:20]
