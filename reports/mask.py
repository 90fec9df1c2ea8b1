"""Masking of ID, bank-card and phone numbers in everything the reports write.

One function, :func:`mask`, used by every renderer (HTML, PDF, exit lists, recovery list): it
finds every run of 15 to 19 digits (an 18-character 身份证号 may end in ``X``) in a text and keeps
its first four and last four characters (``4301**********123X``, ``6222********1234``), and every
11-digit mobile number (``1`` then ten digits) keeping its first three and last four
(``138****8000``). Scanning the text rather than trusting a column name means an ID that reaches a
report inside evidence, a note or a free-text reason is masked too. Letters next to the digits
keep a run from matching, so a 统一社会信用代码 such as ``91360102MA35L7XK1B`` is left as it is (a
unit's code is public); an all-digit code would be masked, which errs on the safe side. The
conventions match :mod:`audit.masking`, used by the graphs.
"""

from __future__ import annotations

import re
from typing import Any

# A 15–19 digit run (IDs, bank cards), optionally ending in X, not part of a longer token.
_LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{14,18}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(1\d{10})(?![0-9A-Za-z])")


def _keep(text: str, head: int, tail: int) -> str:
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail:]


def mask(value: Any) -> str:
    """``value`` as text with every ID, bank-card and mobile number in it masked ('' for None)."""
    if value is None:
        return ""
    text = str(value)
    text = _LONG_NUMBER.sub(lambda m: _keep(m.group(1), 4, 4), text)
    return _MOBILE.sub(lambda m: _keep(m.group(1), 3, 4), text)
