"""One internship (RULES.md §8): which agreements :func:`checks._internships.chain_agreements` joins.

"Agreements of one person at one unit that follow each other without a gap (the next starts by
the first day of the month after the previous ended) and total at most 12 months are one
internship, extended; any other second agreement is a second internship." Each case lists the
agreements (id, person, unit, start, end) and the internships expected, as sets of agreement
ids; with a cap, the part of a chain beyond it is another internship.
"""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks._internships import chain_agreements


def _frame(rows: list[tuple[str, str, str, str, str]]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "agreement_id": [r[0] for r in rows],
            "person_id": [r[1] for r in rows],
            "unit_id": [r[2] for r in rows],
            "start_date": [dt.date.fromisoformat(r[3]) for r in rows],
            "end": [dt.date.fromisoformat(r[4]) for r in rows],
        },
        schema={"agreement_id": pl.String, "person_id": pl.String, "unit_id": pl.String, "start_date": pl.Date,
                "end": pl.Date},
    )


def _internships(rows: list[tuple[str, str, str, str, str]], cap: int | None = None) -> set[frozenset[str]]:
    out = chain_agreements(_frame(rows), cap_months=cap).collect()
    return {frozenset(g["agreement_id"]) for _, g in out.group_by("internship")}


CASES = [
    ("one agreement is one internship",
     [("A1", "P", "U", "2023-01-01", "2023-06-30")], None, [{"A1"}]),
    ("an extension starting the first day of the month after the end: one internship",
     [("A1", "P", "U", "2023-01-01", "2023-06-15"), ("A2", "P", "U", "2023-07-01", "2023-09-30")], None,
     [{"A1", "A2"}]),
    ("look-alike: a start one day later than that is a gap: two internships",
     [("A1", "P", "U", "2023-01-01", "2023-06-15"), ("A2", "P", "U", "2023-07-02", "2023-09-30")], None,
     [{"A1"}, {"A2"}]),
    ("a next agreement overlapping the previous: one internship",
     [("A1", "P", "U", "2023-01-01", "2023-06-30"), ("A2", "P", "U", "2023-05-01", "2023-09-30")], None,
     [{"A1", "A2"}]),
    ("a gap is measured from the latest end so far, not the previous agreement's",
     [("A1", "P", "U", "2023-01-01", "2023-12-31"), ("A2", "P", "U", "2023-02-01", "2023-03-31"),
      ("A3", "P", "U", "2023-06-01", "2023-07-31")], None, [{"A1", "A2", "A3"}]),
    ("look-alike: the same dates at another unit are another internship",
     [("A1", "P", "U", "2023-01-01", "2023-06-30"), ("A2", "P", "V", "2023-07-01", "2023-09-30")], None,
     [{"A1"}, {"A2"}]),
    ("look-alike: another person at the same unit is another internship",
     [("A1", "P", "U", "2023-01-01", "2023-06-30"), ("A2", "Q", "U", "2023-07-01", "2023-09-30")], None,
     [{"A1"}, {"A2"}]),
    ("with the 12-month cap: 6 + 6 months chained is one internship",
     [("A1", "P", "U", "2023-01-01", "2023-06-30"), ("A2", "P", "U", "2023-07-01", "2023-12-31")], 12,
     [{"A1", "A2"}]),
    ("with the cap, a 12-month term started mid-month and split in two is one (a duration)",
     [("A1", "P", "U", "2023-01-15", "2023-06-30"), ("A2", "P", "U", "2023-07-01", "2024-01-14")], 12,
     [{"A1", "A2"}]),
    ("with the cap: 8 + 8 months chained is two internships",
     [("A1", "P", "U", "2023-01-01", "2023-08-31"), ("A2", "P", "U", "2023-09-01", "2024-04-30")], 12,
     [{"A1"}, {"A2"}]),
    ("with the cap, the chain is cut greedily: 6 + 5 + 6 months is 11 months, then 6",
     [("A1", "P", "U", "2023-01-01", "2023-06-30"), ("A2", "P", "U", "2023-07-01", "2023-11-30"),
      ("A3", "P", "U", "2023-12-01", "2024-05-31")], 12, [{"A1", "A2"}, {"A3"}]),
    ("look-alike: one agreement longer than the cap is still one internship",
     [("A1", "P", "U", "2023-01-01", "2024-03-31")], 12, [{"A1"}]),
    ("without the cap, 8 + 8 months chained is one internship",
     [("A1", "P", "U", "2023-01-01", "2023-08-31"), ("A2", "P", "U", "2023-09-01", "2024-04-30")], None,
     [{"A1", "A2"}]),
]


@pytest.mark.parametrize("desc, rows, cap, expected", CASES, ids=[c[0] for c in CASES])
def test_chain(desc, rows, cap, expected):
    assert _internships(rows, cap) == {frozenset(e) for e in expected}, desc


def test_the_agreement_with_the_latest_end_ends_the_internship():
    rows = [("A1", "P", "U", "2023-01-01", "2023-12-31"), ("A2", "P", "U", "2023-02-01", "2023-03-31"),
            ("B1", "Q", "U", "2023-01-01", "2023-06-30")]
    out = chain_agreements(_frame(rows)).collect().sort("agreement_id")
    assert out["ends_internship"].to_list() == [True, False, True]
    assert out["internship_start"].to_list() == [dt.date(2023, 1, 1)] * 3
    assert out["internship_end"].to_list() == [dt.date(2023, 12, 31)] * 2 + [dt.date(2023, 6, 30)]
    assert out["alone"].to_list() == [False, False, True]


# ------------------------------------------------------------ the plain reading, row by row


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _plain(rows: list[tuple[str, str, str, str, str]], cap: int | None) -> set[frozenset[str]]:
    """RULES.md §8 read one agreement at a time: the reference the vectorised chain must equal."""
    out: set[frozenset[str]] = set()
    groups: dict[tuple[str, str], list[tuple[dt.date, dt.date, str]]] = {}
    for aid, person, unit, start, end in rows:
        groups.setdefault((person, unit), []).append((dt.date.fromisoformat(start), dt.date.fromisoformat(end), aid))
    for agreements in groups.values():
        chains: list[list[tuple[dt.date, dt.date, str]]] = []
        latest: dt.date | None = None
        for start, end, aid in sorted(agreements):
            if latest is None or start > _add_months(latest.replace(day=1), 1):
                chains.append([])
            chains[-1].append((start, end, aid))
            latest = end if latest is None else max(latest, end)
        for chain in chains:
            if cap is None:
                out.add(frozenset(a for _, _, a in chain))
                continue
            left = list(chain)
            for _ in range(4):  # as many passes as chain_agreements makes
                if not left:
                    break
                first = min(s for s, _, _ in left)
                taken = [a for a in left if a[1] <= _add_months(first, cap) or a[0] == first]
                out.add(frozenset(a for _, _, a in taken))
                left = [a for a in left if a not in taken]
            out |= {frozenset([a]) for _, _, a in left}
    return out


_days = st.integers(min_value=0, max_value=900)
_agreements = st.lists(
    st.tuples(st.sampled_from(["P", "Q"]), st.sampled_from(["U", "V"]), _days, st.integers(min_value=-40, max_value=460)),
    min_size=1, max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(_agreements, st.sampled_from([None, 6, 12]))
def test_equal_to_the_plain_reading(agreements, cap):
    """Random agreements (ends before starts included): the chain, with or without a cap, and
    its shortcut for agreements alone at their unit, give the plain reading's internships."""
    base = dt.date(2022, 1, 1)
    rows = [(f"A{i:02d}", person, unit, (base + dt.timedelta(days=s)).isoformat(),
             (base + dt.timedelta(days=s + length)).isoformat())
            for i, (person, unit, s, length) in enumerate(agreements)]
    assert _internships(rows, cap) == _plain(rows, cap)
