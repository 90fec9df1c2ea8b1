"""The demo's outputs stay those committed while the house is rebuilt (issue #10).

``audit run`` on the bundled demo (fixtures/demo, month 2024-06, reports rendered without the
PDF) must give the findings, claim links, skipped keys, exit lists, recovery list and 汇总表
whose digests are in ``tests/golden/demo.json`` (see :mod:`tests.golden`). A change that
alters them on purpose regenerates the file with ``python -m tests.golden --update`` and says
why in its commit.
"""

from __future__ import annotations

import json

import pytest

from tests.golden import GOLDEN, differences, digests, run_demo


@pytest.fixture(scope="module")
def demo_digests(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return digests(run_demo(tmp_path_factory.mktemp("golden") / "run"))


def test_the_demo_gives_the_committed_outputs(demo_digests: dict) -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert differences(expected, demo_digests) == [], "run `python -m tests.golden --update` if this change is meant"


def test_a_changed_digest_is_named(demo_digests: dict) -> None:
    """The comparison can fail, and says which output and which sheet changed."""
    changed = json.loads(json.dumps(demo_digests))
    changed["findings"]["sha256"] = "0" * 64
    changed["workbooks"]["exit_list.xlsx"]["汇总"] = "0" * 64
    assert differences(demo_digests, changed) == [
        f"findings: {demo_digests['findings']} → {changed['findings']}", "exit_list.xlsx: sheets differ: 汇总"]
