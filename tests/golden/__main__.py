"""``python -m tests.golden [--update]``: compare the demo's outputs with, or rewrite, tests/golden/demo.json."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tests.golden import GOLDEN, ROOT, differences, digests, run_demo


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="compare the demo's outputs with tests/golden/demo.json")
    ap.add_argument("--update", action="store_true", help=f"rewrite {GOLDEN.relative_to(ROOT)} from the current code")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        actual = digests(run_demo(Path(tmp) / "run"))
    if args.update:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN.relative_to(ROOT)}")
        return 0
    diff = differences(json.loads(GOLDEN.read_text(encoding="utf-8")), actual)
    print("\n".join(diff) if diff else "the demo's outputs are those committed")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
