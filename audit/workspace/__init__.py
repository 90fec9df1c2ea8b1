"""The workspace: what the monthly cycle remembers from one month to the next.

``audit run … --workspace DIR`` keeps, in one embedded DuckDB file in DIR (:mod:`.store`, the
one module that talks to DuckDB), the runs, their findings and the claims they put at risk, the
outcomes the counties send back, the random samples and their outcomes, the 摘牌 workflow of the
units proposed for exit, and the exits a ban may follow. From them:

- :mod:`.status` — each finding's status (新发现, 持续, 属实待追回, 已追回, 不属实) and its reply due date;
- :mod:`.measures` — hit rates, money at risk and money recovered per rule and county, the
  seeded sample of unflagged claims and what the checks on it found;
- :mod:`.returns` — reading back the outcomes forms, outcomes files and returned exit lists.

Without a workspace a run keeps no history, and every finding is 新发现.
"""

from __future__ import annotations

from audit.workspace.store import BUSY, WORKSPACE_FILE, Workspace, WorkspaceBusy, WorkspaceError

__all__ = ["BUSY", "WORKSPACE_FILE", "Workspace", "WorkspaceBusy", "WorkspaceError"]
