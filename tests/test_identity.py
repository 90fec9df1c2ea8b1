"""Who is one person (checks/_identity.py; docs/semantics.md "People").

Each case: the trainee register rows, and which IDs must end up as one natural person. An ID
whose check digit fails, or one adjacent swap away from a valid ID, joins that valid ID only
with the same name AND the same bank card or phone; two IDs that both validate never join.
"""

from __future__ import annotations

import polars as pl
import pytest

from checks._identity import identity_links, person_identity
from tests.helpers import agreement, claim, pid, policy, tables, trainee

# 15-digit IDs exist only for people born before 2000
BORN_1980 = "19800101"


def bad_check_id(label: str) -> str:
    """The valid ID of ``label`` with a wrong check digit (a keying error in the last place)."""
    valid = pid(label)
    return valid[:17] + ("0" if valid[17] != "0" else "1")


def swapped_id(label: str) -> str:
    """The valid ID of ``label`` with two adjacent, different digits swapped (check digit fails)."""
    valid = pid(label)
    i = next(i for i in range(14, 0, -1) if valid[i] != valid[i + 1])
    return valid[:i] + valid[i + 1] + valid[i] + valid[i + 2:]


def legacy_pair(label: str) -> tuple[str, str]:
    """(the 18-digit ID, its 15-digit legacy form) for someone born in 1980."""
    full = pid(label, BORN_1980)
    return full, full[:6] + full[8:17]


def variant_trainee(person_id: str, status: str, name: str, **kw: object) -> dict:
    return {**trainee(person_id, name=name, **kw), "person_id_status": status}


def twin_ids() -> tuple[str, str]:
    """Two valid IDs of twins: one birth date, consecutive sequence numbers."""
    from tests.helpers import id_check

    bodies = ("36010220010203" + "123", "36010220010203" + "125")
    a, b = (body + id_check(body) for body in bodies)
    return a, b


CARD, PHONE = "6222020000000001", "13800000001"

CASES = [
    pytest.param(
        "bad check digit, same name and bank card: one person",
        [trainee("P1", name="张三", bank_card=CARD), variant_trainee(bad_check_id("P1"), "bad_check", "张三", bank_card=CARD)],
        {bad_check_id("P1"): (pid("P1"), "bad_check", "bank_card")},
        id="bad_check+card",
    ),
    pytest.param(
        "bad check digit, same name and phone: one person",
        [trainee("P1", name="张三", phone=PHONE), variant_trainee(bad_check_id("P1"), "bad_check", "张三", phone=PHONE)],
        {bad_check_id("P1"): (pid("P1"), "bad_check", "phone")},
        id="bad_check+phone",
    ),
    pytest.param(
        "adjacent digits swapped, same name, card and phone: one person, linked as a transposition",
        [trainee("P1", name="张三", phone=PHONE, bank_card=CARD),
         variant_trainee(swapped_id("P1"), "bad_check", "张三", phone=PHONE, bank_card=CARD)],
        {swapped_id("P1"): (pid("P1"), "transposition", "bank_card+phone")},
        id="transposition",
    ),
    pytest.param(
        "bad check digit, same name, no shared card or phone: not linked (name alone never links)",
        [trainee("P1", name="张三", phone=PHONE), variant_trainee(bad_check_id("P1"), "bad_check", "张三", phone="13999999999")],
        {},
        id="bad_check-name-only",
    ),
    pytest.param(
        "the same phone and card written otherwise (dashes, +86, groups of four), the name with a middle dot",
        [trainee("P1", name="阿不都·热合曼", phone=PHONE, bank_card=CARD),
         variant_trainee(bad_check_id("P1"), "bad_check", "阿不都热合曼", phone="+86 138-0000-0001",
                         bank_card="6222 0200 0000 0001")],
        {bad_check_id("P1"): (pid("P1"), "bad_check", "bank_card+phone")},
        id="bad_check+respelled-contacts",
    ),
    pytest.param(
        "the same placeholder phone and card (0, 00000000) corroborate nothing: not linked",
        [trainee("P1", name="张三", phone="0", bank_card="00000000000"),
         variant_trainee(bad_check_id("P1"), "bad_check", "张三", phone="0", bank_card="00000000000")],
        {},
        id="bad_check-placeholder-contacts",
    ),
    pytest.param(
        "bad check digit, same card, different name: not linked",
        [trainee("P1", name="张三", bank_card=CARD), variant_trainee(bad_check_id("P1"), "bad_check", "李四", bank_card=CARD)],
        {},
        id="bad_check-other-name",
    ),
    pytest.param(
        "namesakes with the same birth date and the same phone, both IDs valid: two people",
        [trainee("P1", name="王芳", phone=PHONE), trainee("P2", name="王芳", phone=PHONE)],
        {},
        id="namesakes-valid",
    ),
    pytest.param(
        "twins: same surname, birth date and family phone, two valid IDs: two people",
        [trainee(twin_ids()[0], name="刘洋", phone=PHONE), trainee(twin_ids()[1], name="刘涛", phone=PHONE)],
        {},
        id="twins",
    ),
    pytest.param(
        "a bad-check ID corroborated by two different valid IDs is ambiguous: linked to neither",
        [trainee("P1", name="王芳", phone=PHONE), trainee("P2", name="王芳", phone=PHONE),
         variant_trainee(bad_check_id("P3"), "bad_check", "王芳", phone=PHONE)],
        {},
        id="ambiguous",
    ),
    pytest.param(
        "the transposition wins over a bare check-digit match with another namesake",
        [trainee("P1", name="王芳", phone=PHONE), trainee("P2", name="王芳", phone=PHONE),
         variant_trainee(swapped_id("P1"), "bad_check", "王芳", phone=PHONE)],
        {swapped_id("P1"): (pid("P1"), "transposition", "phone")},
        id="transposition-preferred",
    ),
]


@pytest.mark.parametrize(("description", "register", "expected_links"), CASES)
def test_identity_links(description: str, register: list[dict], expected_links: dict) -> None:
    t = tables(trainees=register)
    found = person_identity(t, policy()).collect()
    links = {r["person_id"]: (r["person_key"], r["link"], r["link_via"])
             for r in found.filter(pl.col("link") != "self").iter_rows(named=True)}
    assert links == expected_links, description
    # every ID of the register is mapped, and an unlinked one is its own key
    assert set(found["person_id"]) == {r["person_id"] for r in register}
    assert found.filter(pl.col("link") == "self").select((pl.col("person_id") == pl.col("person_key")).all()).item()


def test_legacy_form_is_already_one_person() -> None:
    """The loader turns a 15-digit ID into its 18-digit form: both rows carry one person_id."""
    full, short = legacy_pair("P1")
    t = tables(
        trainees=[{**trainee(full), "person_id_raw": short, "person_id_status": "legacy15"}],
        agreements=[agreement("A1", full, "U1", "2023-07-01", "2023-12-31")],
        claims=[claim("C1", "U1", full, "2023-07", 1480.0)],
    )
    found = person_identity(t, policy()).collect()
    assert found.to_dicts() == [{"person_id": full, "person_key": full, "link": "self", "link_via": None}]


def test_ids_seen_only_in_claims_and_agreements_are_mapped() -> None:
    t = tables(
        trainees=[trainee("P1")],
        agreements=[agreement("A1", "P2", "U1", "2023-07-01", "2023-12-31")],
        claims=[claim("C1", "U1", "P3", "2023-07", 1480.0)],
    )
    found = person_identity(t, policy()).collect()
    assert set(found["person_id"]) == {pid("P1"), pid("P2"), pid("P3")}
    assert (found["person_id"] == found["person_key"]).all()


# ---------------------------------------------------------------- the helpers the rules join with


def _linked_world():
    """P1 and its corroborated variant, P2 and its transposed variant, P3 alone."""
    register = [
        trainee("P1", name="张三", bank_card=CARD), variant_trainee(bad_check_id("P1"), "bad_check", "张三", bank_card=CARD),
        trainee("P2", name="李四", phone=PHONE), variant_trainee(swapped_id("P2"), "bad_check", "李四", phone=PHONE),
        trainee("P3", name="王五"),
    ]
    return tables(trainees=register)


_IDS = [pid("P1"), bad_check_id("P1"), pid("P2"), swapped_id("P2"), pid("P3"), pid("P9")]


def _rows(ids: list[str]) -> pl.LazyFrame:
    return pl.LazyFrame({"person_id": ids, "n": list(range(len(ids)))})


def _plain_key(t) -> dict[str, str]:
    """Every ID's natural person, the plain way: its key from the links, else itself."""
    links = dict(person_identity(t, policy()).select("person_id", "person_key").collect().iter_rows())
    return {i: links.get(i, i) for i in _IDS}


def test_with_aliases_is_every_id_of_the_person():
    from checks._identity import with_aliases

    t = _linked_world()
    key = _plain_key(t)
    got = with_aliases(_rows(_IDS), t, policy()).collect()
    expected = {(i, a) for i in _IDS for a in _IDS if key[i] == key[a]}
    assert {(r["person_id"], r["_alias"]) for r in got.iter_rows(named=True)} == expected
    assert got.height == len(expected)


def test_rows_under_ids_and_under_every_id_are_the_plain_joins_on_the_person():
    from checks._identity import rows_under_ids, under_every_id, with_person_key, with_person_key_few

    t = _linked_world()
    key = _plain_key(t)
    rows = _rows(_IDS * 2)
    wanted = pl.LazyFrame({"person_id": [pid("P1"), swapped_id("P2"), pid("P9")]})
    got = rows_under_ids(rows, wanted, t, policy()).collect()
    expected = sorted((r, w) for r in _IDS * 2 for w in wanted.collect()["person_id"] if key[r] == key[w])
    assert sorted(zip(got["person_id"], got["_of"])) == expected

    every = under_every_id(rows, t, policy()).collect()
    assert sorted(zip(every["person_id"], every["row_person_id"])) == sorted(
        (a, r) for r in _IDS * 2 for a in _IDS if key[a] == key[r])

    few = with_person_key_few(rows, t, policy()).collect()
    plain = with_person_key(rows, identity_links(t, policy())).collect()
    assert sorted(few.rows()) == sorted(plain.select(few.columns).rows())
    assert sorted(zip(few["person_id"], few["person_key"])) == sorted((i, key[i]) for i in _IDS * 2)
