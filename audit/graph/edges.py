"""Edges of the relationship graph, computed in polars: the links between parties (agreements and
claims, legal representation, registered identifiers) and the registries of other departments
(employer-paid insurance, labour contracts); identifiers and memberships as tables, which the
graph rules read as well."""

from __future__ import annotations

import polars as pl

from audit.graph.keys import address_key, card_key, node_id, phone_key, rep_key
from audit.graph.kinds import EDGE_SCHEMA, prefix_of
from audit.schema import employer_paid
from audit.tables import Tables


def unit_identifiers(t: Tables, large_employer_staff: int | None = None) -> pl.LazyFrame:
    """``unit_id, kind, key``: the legal representative, phone, account and address of each unit.

    Units with at least ``large_employer_staff`` staff are left out when the threshold is given:
    large employers legitimately share switchboards, addresses and owners with their branches.
    """
    units = t.units
    if large_employer_staff is not None:
        units = units.filter(pl.col("staff_count").fill_null(0) < large_employer_staff)
    frames = [
        units.select("unit_id", pl.lit("legal_rep").alias("kind"), rep_key(pl.col("legal_rep_id")).alias("key")),
        units.select("unit_id", pl.lit("phone").alias("kind"), phone_key(pl.col("phone")).alias("key")),
        units.select("unit_id", pl.lit("bank").alias("kind"), card_key(pl.col("bank_account")).alias("key")),
        units.select("unit_id", pl.lit("address").alias("kind"), address_key(pl.col("address")).alias("key")),
    ]
    if t.market_registry is not None and "legal_rep_id" in t.market_registry.collect_schema():
        registry = t.market_registry.join(units.select("unit_id"), on="unit_id", how="semi")
        frames.append(registry.select("unit_id", pl.lit("legal_rep").alias("kind"),
                                      rep_key(pl.col("legal_rep_id")).alias("key")))
    return pl.concat(frames).drop_nulls(["unit_id", "key"]).unique()


def trainee_units(t: Tables) -> pl.LazyFrame:
    """``person_id, unit_id``: every unit a trainee has an agreement or a claim with."""
    return pl.concat([
        t.agreements.select("person_id", "unit_id"),
        t.claims.select("person_id", "unit_id"),
    ]).drop_nulls().unique()


def claimed_by_pair(t: Tables) -> pl.LazyFrame:
    """``person_id, unit_id, claimed, claims``: yuan claimed (subsidy + insurance) per trainee and unit."""
    return t.claims.group_by("person_id", "unit_id").agg(
        (pl.col("amount").fill_null(0) + pl.col("insurance_amount").fill_null(0)).sum().round(2).alias("claimed"),
        pl.len().cast(pl.Int64).alias("claims"),
    )


# ---------------------------------------------------------------------------------------------
# edges


def _edges(lf: pl.LazyFrame, src: pl.Expr, dst: pl.Expr, kind: str, **attrs: pl.Expr) -> pl.LazyFrame:
    cols = [src.alias("src"), dst.alias("dst"), pl.lit(kind).alias("kind")]
    for name, dtype in EDGE_SCHEMA.items():
        if name in ("src", "dst", "kind"):
            continue
        cols.append(attrs[name].cast(dtype).alias(name) if name in attrs else pl.lit(None, dtype).alias(name))
    return lf.select(cols).drop_nulls(["src", "dst"])


def link_edges(t: Tables) -> pl.LazyFrame:
    """Every edge that links parties: agreements/claims, legal representation, registered identifiers."""
    agreements = t.agreements.select(
        "person_id", "unit_id", pl.col("start_date").alias("first"),
        pl.coalesce("actual_end_date", "planned_end_date").alias("last"),
        pl.lit(1, pl.Int64).alias("n"), pl.lit(0.0).alias("amount"),
    )
    claims = claimed_by_pair(t).select(
        "person_id", "unit_id", pl.lit(None, pl.Date).alias("first"), pl.lit(None, pl.Date).alias("last"),
        pl.lit(0, pl.Int64).alias("n"), pl.col("claimed").alias("amount"),
    )
    pairs = pl.concat([agreements, claims]).group_by("person_id", "unit_id").agg(
        pl.col("first").min(), pl.col("last").max(), pl.col("n").sum(), pl.col("amount").sum().round(2),
    )
    p, u = prefix_of("trainee"), prefix_of("unit")
    ids = unit_identifiers(t)
    frames = [
        _edges(pairs, node_id(p, pl.col("person_id")), node_id(u, pl.col("unit_id")), "agreement",
               first=pl.col("first"), last=pl.col("last"), n=pl.col("n"), amount=pl.col("amount")),
    ]
    unit_kind_edge = {"legal_rep": ("legal_rep", p), "phone": ("unit_phone", prefix_of("phone")),
                      "bank": ("unit_account", prefix_of("bank")), "address": ("unit_address", prefix_of("address"))}
    for ident, (edge_kind, prefix) in unit_kind_edge.items():
        part = ids.filter(pl.col("kind") == ident)
        if ident == "legal_rep":
            frames.append(_edges(part, node_id(prefix, pl.col("key")), node_id(u, pl.col("unit_id")), edge_kind))
        else:
            frames.append(_edges(part, node_id(u, pl.col("unit_id")), node_id(prefix, pl.col("key")), edge_kind))
    trainees = t.trainees.select("person_id", "phone", "bank_card")
    # the other kinds come from grouped or unique rows; a person the register holds twice gives
    # the same phone and card edge twice: these alone need de-duplicating (not 3.6 M edges at 1 M)
    frames.append(_edges(trainees, node_id(p, pl.col("person_id")), node_id(prefix_of("phone"), phone_key(pl.col("phone"))),
                         "trainee_phone").unique(["src", "dst"]))
    frames.append(_edges(trainees, node_id(p, pl.col("person_id")), node_id(prefix_of("bank"), card_key(pl.col("bank_card"))),
                         "trainee_card").unique(["src", "dst"]))
    return pl.concat(frames)


def registry_edges(t: Tables, persons: pl.LazyFrame) -> pl.LazyFrame:
    """Insurance (employer-paid) and labour-contract edges for the given ``person_id`` rows only.

    These registries are large (a row per person, employer, month and insurance kind); they are
    facts about the persons already in view, so they are joined for those persons alone.
    """
    p, u = prefix_of("trainee"), prefix_of("unit")
    si = t.social_insurance.join(persons, on="person_id", how="semi").filter(employer_paid()).group_by(
        "person_id", "employer_id").agg(
        pl.col("month").min().alias("first"), pl.col("month").max().alias("last"),
        pl.col("month").n_unique().cast(pl.Int64).alias("n"),
    )
    frames = [_edges(si, node_id(p, pl.col("person_id")), node_id(u, pl.col("employer_id")), "insured",
                     first=pl.col("first"), last=pl.col("last"), n=pl.col("n"))]
    if t.employment is not None:
        emp = t.employment.join(persons, on="person_id", how="semi")
        frames.append(_edges(emp, node_id(p, pl.col("person_id")), node_id(u, pl.col("employer_id")), "employed",
                             first=pl.col("contract_start"),
                             last=pl.coalesce("terminated_date", "contract_end"), n=pl.lit(1)))
    return pl.concat(frames)
