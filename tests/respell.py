"""Re-spell a generated CSV world the ways real registries write the same values (a metamorphic
test's input: the audit must find exactly what it finds on the world as generated).

Every cell keeps its value and changes its spelling, chosen per cell by a seeded generator:
dates (``2023/7/5``, ``2023年07月05日``, ``20230705``, Excel serials, a time of day), months,
amounts (``1,500.00``, ``1500.00元``, ``￥1,500.00``), whole numbers (``12.0``, full-width),
yes/no (是/否, Y/N, 1/0, √/×), person IDs (a lower-case x, full-width digits, a space or a tab,
Excel's text markers ``'…`` and ``="…"``), credit codes, county codes (``360102.0``), bank cards
in groups of four, phones with dashes, padded text, the closed vocabularies as the 人社 and 社保
systems write them (养老保险, 月度补贴, 见习期满, 大专 …); headers in Chinese or an alias, columns
in another order, an extra column, a title line above the header and a signature line below
the rows (制表人：…), fields separated by tabs, files named in Chinese, and the files in UTF-8,
UTF-8 with a BOM or GBK, some with CRLF line ends. Not a generator of new worlds: it only
re-spells one.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl

from audit.schema import TABLES, Kind

_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def _full_width(text: str) -> str:
    return "".join(_FULL_WIDTH.get(ch, ch) for ch in text)


def _ymd(text: str) -> tuple[int, int, int]:
    return int(text[:4]), int(text[5:7]), int(text[8:10])


DATES: list[Callable[[str], str]] = [
    lambda v: v,
    lambda v: "{}/{}/{}".format(*_ymd(v)),
    lambda v: "{}年{}月{}日".format(*_ymd(v)),
    lambda v: v.replace("-", ""),
    lambda v: "{}.{}.{}".format(*_ymd(v)),
    lambda v: v + " 00:00:00",
    lambda v: "{}年{:02d}月{:02d}日".format(*_ymd(v)),
    lambda v: str((dt.date(*_ymd(v)) - dt.date(1899, 12, 30)).days),
    lambda v: "'" + v,
    lambda v: "{} 年 {} 月 {} 日".format(*_ymd(v)),
    lambda v: "{}年{}月{}日 08:30".format(*_ymd(v)),
]
MONTHS: list[Callable[[str], str]] = [
    lambda v: v[:7],
    lambda v: v[:7].replace("-", ""),
    lambda v: "{}年{}月".format(*_ymd(v)[:2]),
    lambda v: v[:4] + "." + v[5:7],
    lambda v: "{}/{}".format(*_ymd(v)[:2]),
    lambda v: v,
    lambda v: "{}年{}月份".format(*_ymd(v)[:2]),
]
AMOUNTS: list[Callable[[str], str]] = [
    lambda v: v,
    lambda v: f"{float(v):,.2f}",
    lambda v: f"{float(v):.2f}元",
    lambda v: f"¥{float(v):.2f}",
    lambda v: f"￥{float(v):,.2f}",
    lambda v: f"{float(v):g}",
]
WHOLE: list[Callable[[str], str]] = [lambda v: v, lambda v: v + ".0", _full_width]
YES_NO = {"true": ("是", "Y", "1", "√", "TRUE"), "false": ("否", "N", "0", "×", "FALSE")}
PERSON_IDS: list[Callable[[str], str]] = [
    lambda v: v, lambda v: v.lower(), _full_width, lambda v: "\t" + v, lambda v: v + " ",
    lambda v: v[:6] + " " + v[6:], lambda v: "'" + v, lambda v: f'="{v}"',
]
CODES: list[Callable[[str], str]] = [lambda v: v, _full_width, lambda v: "\t" + v, lambda v: " " + v, lambda v: "'" + v]
COUNTIES: list[Callable[[str], str]] = [lambda v: v, lambda v: v + ".0", _full_width]
CARDS: list[Callable[[str], str]] = [lambda v: v, lambda v: " ".join(v[i:i + 4] for i in range(0, len(v), 4))]
PHONES: list[Callable[[str], str]] = [lambda v: v, lambda v: f"{v[:3]}-{v[3:7]}-{v[7:]}", lambda v: f"{v[:3]} {v[3:7]} {v[7:]}"]
#: a number two registries share (协议编号, 岗位编号), as another system writes it
NUMBERS: list[Callable[[str], str]] = [lambda v: v, str.lower, _full_width, lambda v: " " + v + " "]
TEXT: list[Callable[[str], str]] = [lambda v: v, lambda v: " " + v + " ", lambda v: v + "\u3000"]
#: the closed vocabularies as exports write them (each read back by audit.schema's spellings)
WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "claim_type": {"月度": ("月度补贴", "月度见习补贴", "按月申领"), "差额": ("差额补贴", "提高标准差额"),
                   "剩余期限": ("剩余期限补贴", "剩余期限见习补贴")},
    "rate_basis": {"标准": ("标准补贴", "基本标准"), "提高": ("提高标准", "提高补贴")},
    "insurance_type": {"养老": ("养老保险", "基本养老保险", "企业职工基本养老保险", "城镇企业职工基本养老保险", "企业养老"),
                       "医疗": ("医疗保险", "职工基本医疗保险", "职工医保"),
                       "失业": ("失业保险",), "工伤": ("工伤保险",), "生育": ("生育保险",),
                       "补充工伤": ("补充工伤保险", "见习人员补充工伤保险")},
    "payer_type": {"单位": ("单位缴费", "单位参保", "单位缴纳"), "灵活就业": ("灵活就业人员",), "城乡居民": ("城乡居民参保",)},
    "end_reason": {"期满": ("见习期满", "期满结束", "见习到期"), "提前离岗": ("中途离岗",), "提前留用": ("提前留用（签订劳动合同）",)},
    "education": {"本科": ("大学本科",), "专科": ("大专", "大学专科"), "研究生": ("硕士研究生",)},
    "reg_status": {"存续": ("存续（在营、开业、在册）",), "注销": ("已注销",), "吊销": ("吊销，未注销",)},
}


def respell(source: Path, target: Path, seed: int) -> list[str]:
    """``source``'s CSV tables re-spelled into ``target`` (everything else copied as it is);
    returns each table's name and the encoding it was written in (and ``<name>:titled`` for each
    written with a title line above its header and a signature line below its rows)."""
    rng = random.Random(seed)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    written = []
    for spec in TABLES:
        path = target / f"{spec.name}.csv"
        if not path.exists():
            continue
        frame = pl.read_csv(path, infer_schema=False)
        # a registry that writes units by their 组织机构代码 (credit code characters 9–17), the
        # check character after a hyphen or not: all of its cells, as one system does
        if spec.name != "units" and rng.random() < 0.3:
            hyphen = rng.random() < 0.5
            codes = [c.name for c in spec.columns if c.kind is Kind.USCC and c.name in frame.columns]
            frame = frame.with_columns(
                pl.when(pl.col(c).str.len_chars() == 18).then(
                    pl.col(c).str.slice(8, 8) + ("-" if hyphen else "") + pl.col(c).str.slice(16, 1))
                .otherwise(pl.col(c)).alias(c) for c in codes)
            if codes:
                written.append(f"{spec.name}:organisation codes")
        columns = []
        for name in frame.columns:
            cells = frame[name].to_list()
            try:
                column = spec.column(name)
            except KeyError:
                columns.append(frame[name])
                continue
            spell = one_of(NUMBERS) if column.code else _speller(column.kind, name)
            cells = [cell if cell in (None, "") else spell(cell, rng) for cell in cells]
            header = rng.choice([column.name, column.zh, column.zh, *column.aliases])
            columns.append(pl.Series(header, cells, pl.String))
        out = pl.DataFrame(columns)
        order = list(out.columns)
        rng.shuffle(order)
        sep = "\t" if rng.random() < 0.2 else ","  # some systems' "CSV" separates by tabs
        text = out.select(order).with_columns(pl.lit("无").alias("备注")).write_csv(separator=sep)
        if sep == "\t":
            written.append(f"{spec.name}:tabs")
        if rng.random() < 0.5:  # a sheet saved as CSV: its title above, its signature below
            commas = sep * len(order)
            text = f"{spec.zh}（系统导出）{commas}\n{commas}\n{text}制表人：某某{sep}审核人：某某{commas[2:]}\n"
            written.append(f"{spec.name}:titled")
        if rng.random() < 0.5:
            text = text.replace("\n", "\r\n")
        encoding = rng.choice(["utf-8", "utf-8-sig", "gbk"])
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            encoding, data = "gb18030", text.encode("gb18030")
        if rng.random() < 0.25:  # saved under its Chinese name (补贴申领明细.csv)
            path.unlink()
            path = target / f"{spec.zh.replace('/', '')}.csv"
            written.append(f"{spec.name}:named in Chinese")
        path.write_bytes(data)
        written.append(f"{spec.name}:{encoding}")
    return written


def one_of(ways: list[Callable[[str], str]]) -> Callable[[str, random.Random], str]:
    def spell(cell: str, rng: random.Random) -> str:
        try:
            return rng.choice(ways)(cell)
        except ValueError:  # a cell the generator made unreadable on purpose stays as it is
            return cell
    return spell


def _speller(kind: Kind, name: str) -> Callable[[str, random.Random], str]:
    if name in WORDS:
        return lambda cell, rng: rng.choice([cell, *WORDS[name].get(cell, ())])
    if kind is Kind.BOOL:
        return lambda cell, rng: rng.choice(YES_NO.get(cell.lower(), (cell,)))
    if name in ("bank_card", "account"):
        return one_of(CARDS)
    if name == "phone":
        return one_of(PHONES)
    ways = {Kind.DATE: DATES, Kind.MONTH: MONTHS, Kind.MONEY: AMOUNTS, Kind.INT: WHOLE, Kind.PERSON_ID: PERSON_IDS,
            Kind.USCC: CODES, Kind.COUNTY: COUNTIES}.get(kind, TEXT)
    return one_of(ways)
