"""The 摘牌 workflow: each unit proposed for exit moves through 建议退出 → 县区确认 or 不予退出 →
已摘牌, one event at a time (the workspace's ``unit_events``; a unit's state is its latest event).

- a run proposes a unit (its exit list) → 建议退出, unless the unit is already further along
  (县区确认, 已摘牌) or already proposed; a unit the county declined (不予退出) is proposed
  again only on findings that still count, i.e. on new facts;
- the county's returned exit list: 属实, 部分属实 or 确认退出 → 县区确认; 不属实 or 不予退出 →
  不予退出; with a 摘牌 date filled in (and not declined) → 已摘牌 on that date;
- a later export's ``units.exit_date`` (by the audit month's end) of a unit proposed or
  confirmed → 已摘牌 on that date.

A unit 已摘牌 under a condition that carries a ban (the proposal says so, from the province's
parameters) leaves a row in the workspace's bans table, as does every exit an export records
under a condition that carries a ban: the next run is given them as its ``bans`` table.
"""

from __future__ import annotations

import polars as pl

PROPOSED, CONFIRMED_EXIT, DECLINED, DELISTED = "建议退出", "县区确认", "不予退出", "已摘牌"
UNIT_STATES = (PROPOSED, CONFIRMED_EXIT, DECLINED, DELISTED)
#: a county's conclusion on a unit of its exit list → the unit's next state
REPLY_STATE = {"属实": CONFIRMED_EXIT, "部分属实": CONFIRMED_EXIT, "确认退出": CONFIRMED_EXIT,
               "不属实": DECLINED, "不予退出": DECLINED}
#: the same conclusion, as the outcome of the findings behind the proposal
REPLY_OUTCOME = {"确认退出": "属实", "不予退出": "不属实"}


def current_states(events: pl.DataFrame) -> pl.DataFrame:
    """unit_id → state, exit_date, since (the event's date), from the events in order (seq)."""
    if events.height == 0:
        return pl.DataFrame(schema={"unit_id": pl.String, "state": pl.String, "exit_date": pl.Date,
                                    "since": pl.Date, "county_code": pl.String})
    return events.sort("seq").group_by("unit_id").agg(
        pl.col("state").last(), pl.col("exit_date").drop_nulls().last(), pl.col("event_date").last().alias("since"),
        pl.col("county_code").drop_nulls().last())
