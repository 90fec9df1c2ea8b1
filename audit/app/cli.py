"""The ``audit`` command line: a thin layer over functions in :mod:`audit` (``python -m audit``).

Exit codes (documented in the README and in ``audit --help``):
0 clean, 1 findings, 2 invalid input, 3 run error; ``audit validate``: 0 every data contract met,
1 some not met.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from pathlib import Path

import click

from audit import totals
from audit.app import messages
from audit.app.cycle_cli import diff_cmd, history_cmd, outcomes_group
from audit.app.graph_cli import graph_cmd
from audit.app.pipeline import EXIT_BUSY, EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, EXIT_INVALID, run_audit
from audit.app.reference_check import WORKBOOK, check_reference, format_check, write_workbook
from audit.loader import InputError, load_inputs, note_zh
from audit.masking import MaskedFormatter, mask
from audit.policy import Policy, PolicyError
from audit.rules import FAMILY_ZH, Family
from audit.rundir import parse_month
from audit.validation import validate, write_validation
from audit.workspace import WorkspaceBusy, WorkspaceError
from fixtures.cli import evaluate_cmd, fixtures_group
from reports.cli import report_cmd

EPILOG = """\b
退出码 / Exit codes: 0 clean 无问题, 1 findings 发现问题, 2 invalid input 输入无法使用,
3 run error 运行错误, 4 workspace busy 工作区被其他进程占用.
"""
VALIDATE_EPILOG = """\b
Exit codes: 0 every data contract met, 1 some not met (the rows are kept and flagged; the
failed expectations are listed), 2 invalid input, 3 run error.
"""


class AuditGroup(click.Group):
    """Turns domain errors into the documented exit codes, with a message and no traceback; click's
    own usage errors are said in Chinese first (:mod:`audit.app.messages`)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            messages.show_usage_error(exc)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"错误 / error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("已中止 / aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # the reader stopped reading (`audit policy show 江西 | head`): a normal end, not an error
            _silence_stdout()
            ctx.exit(0)
        except InputError as exc:
            click.echo(f"输入无法使用 / invalid input: {mask(str(exc))}", err=True)
            ctx.exit(EXIT_INVALID)
        except PolicyError as exc:
            click.echo(f"参数文件错误 / policy file error: {mask(str(exc))}", err=True)
            ctx.exit(EXIT_INVALID)
        except WorkspaceBusy as exc:
            click.echo(str(exc), err=True)
            ctx.exit(EXIT_BUSY)
        except WorkspaceError as exc:
            click.echo(f"工作区无法使用 / workspace unusable: {exc}", err=True)
            ctx.exit(EXIT_INVALID)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 — a run error must still exit 3 with a message
            logging.getLogger("audit").debug("run error", exc_info=True)
            # masked: a library's message may quote a value of the data
            click.echo(f"运行错误 / run error: {type(exc).__name__}: {mask(str(exc))[:500]}", err=True)
            click.echo("Re-run with AUDIT_DEBUG=1 for the traceback.", err=True)
            if _debug():
                raise
            ctx.exit(EXIT_ERROR)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises no second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a stdout with no file descriptor (a test runner's)
        pass


def _debug() -> bool:
    return os.environ.get("AUDIT_DEBUG") == "1"


@click.group(cls=AuditGroup, epilog=EPILOG)
@click.version_option(package_name="jianxi-audit")
def main() -> None:
    """就业见习补贴资金审计 — audit of employment-internship subsidy funds.

    \b
    示例 / Example:
      audit run fixtures/demo --month 2024-06 --out out/demo
    """
    handler = logging.StreamHandler()
    handler.setFormatter(MaskedFormatter("%(levelname)s %(message)s"))  # a log is read by a person: no full ID
    logging.basicConfig(level=logging.DEBUG if _debug() else logging.WARNING, handlers=[handler])


def _progress(quiet: bool):
    if quiet:
        return None

    def say(step: str) -> None:
        click.echo(f"  · {step}", err=True)

    return say


@main.command("validate", epilog=VALIDATE_EPILOG)
@click.argument("input_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="输出目录（规范化数据、隔离行、校验结果） / Where to write normalised/*.parquet, quarantine.csv and the validation summary.")
def validate_cmd(input_dir: Path, out_dir: Path) -> None:
    """读取、规范化并校验输入数据，不运行审计规则。

    Read, normalise and validate the input tables, without running the rules.

    Exits 1 when an input fails a data contract (great-expectations): every failed expectation
    is printed with the rows that fail it.

    \b
    示例 / Example:
      audit validate fixtures/demo --out out/validated
    """
    loaded = load_inputs(input_dir, out_dir)  # each table staged to Parquet as it loads
    loaded.write(out_dir)
    report = validate(loaded)
    write_validation(out_dir, report)
    click.echo(loaded.counts_text())
    click.echo(report.text())
    click.echo(f"→ {out_dir}")
    sys.exit(EXIT_FINDINGS if report.failed() else EXIT_CLEAN)


@main.command("run", epilog=EPILOG)
@click.argument("input_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--month", required=True, help="审计月份，YYYY-MM：审计截至该月末的全部记录 / The audited month, YYYY-MM: everything recorded up to its end is audited.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="本次运行的输出目录 / The run's output directory.")
@click.option("--si-as-of", default=None, help="社保数据完整截至的月份（默认同 --month；社保数据最晚月份更早时取该月） / Last month the "
              "social-insurance extract is complete for (default: --month, or the extract's latest month if earlier).")
@click.option("--policy-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="使用此目录的政策参数文件代替内置文件 / Use these parameter files instead of the shipped ones.")
@click.option("--no-render", is_flag=True, help="只写问题清单，不生成报告、名单和图谱 / Write findings only; skip reports, exit lists and graphs.")
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="在此目录保存月度循环的历史（不存在则创建）：状态、核查结果、摘牌流程、禁入期和各县区的核查结果表 / "
                   "Keep the monthly cycle's history in this directory (created if new): statuses, outcomes, "
                   "the 摘牌 workflow, bans, and an outcomes form per county.")
@click.option("--quiet", is_flag=True, help="不显示进度 / No progress lines.")
def run_cmd(input_dir: Path, month: str, out_dir: Path, si_as_of: str | None, policy_dir: Path | None,
            no_render: bool, workspace: Path | None, quiet: bool) -> None:
    """运行月度审计：校验数据、运行全部规则，生成问题清单、报告、名单和图谱。

    Run the monthly audit: validate, run every rule, write findings and reports.

    \b
    示例 / Example:
      audit run fixtures/demo --month 2024-06 --out out/demo
      audit run exports/2024-06 --month 2024-06 --out out/2024-06 --workspace ws
    """
    try:
        parse_month(month)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from None
    result = run_audit(input_dir, month, out_dir, si_as_of=si_as_of, policy_dir=policy_dir,
                       progress=_progress(quiet), render=not no_render, workspace=workspace)
    click.echo(format_summary(result.summary))
    click.echo(f"→ {out_dir}")
    sys.exit(result.exit_code)


def _width(text: str) -> int:
    """Columns a text takes in a terminal (CJK characters take two)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - _width(text), 0)
    return gap + text if right else text + gap


yuan = totals.yuan_text
#: reading notes the terminal shows (all of them are in run.json and the report)
TERMINAL_NOTES = 12


SUMMARY_HEADS = (("问题类别", 20, False), ("问题", 6, True), ("涉及人员", 9, True), ("涉及单位", 9, True),
                 ("涉及申领", 9, True), ("涉及金额", 16, True), ("应追回", 16, True), ("应停止拨付", 16, True))


def format_summary(summary: dict) -> str:
    """The terminal summary: the headline figures per family and in total, as run.json records
    them (:func:`audit.totals.by_family`, the definition the report reads too), what the input
    lost to the quarantine, and the coverage."""
    lines = [f"审计月份 {summary['audit_month']}（社保数据截至 {summary['si_as_of']}）"]
    inputs = summary.get("inputs") or []
    if isinstance(inputs, list) and inputs:
        read = sum(int(r.get("rows_read") or 0) for r in inputs)
        quarantined = sum(int(r.get("rows_quarantined") or 0) for r in inputs)
        text = f"读取输入 {read:,} 行"
        if quarantined:
            tables = "、".join(f"{r['table']} {int(r['rows_quarantined']):,}" for r in inputs if r.get("rows_quarantined"))
            text += f"，其中 {quarantined:,} 行无法读取，已隔离（{tables}；逐行原因见 quarantine.csv）"
        else:
            text += "，无隔离行"
        lines.append(text)
    notes = summary.get("input_notes") or []
    if notes:
        lines.append(f"读取说明 {len(notes)} 条（全文见 run.json 和报告的“本次运行情况”）：")
        lines += [f"  · {note_zh(n)}" for n in notes[:TERMINAL_NOTES]]
        if len(notes) > TERMINAL_NOTES:
            lines.append(f"  … 另有 {len(notes) - TERMINAL_NOTES} 条")
    lines.append("")
    rows = []
    for row in summary.get("by_family", []):
        family = str(row["family"])
        name = "合计" if family == totals.TOTAL else _family_zh(family)
        rows.append([name, f"{row['findings']:,}", f"{row['persons']:,}", f"{row['units']:,}", f"{row['claims']:,}",
                     yuan(row["amount_at_risk"]), yuan(row.get("recover", row["amount_at_risk"])),
                     yuan(row.get("stop_payment", 0.0))])
    # each column as wide as its widest cell and two spaces more: national figures never run together
    widths = [max([w] + [_width(r[i]) + 2 for r in rows]) for i, (_, w, _) in enumerate(SUMMARY_HEADS)]
    lines.append("".join(_pad(h, w, right) for (h, _, right), w in zip(SUMMARY_HEADS, widths)))
    for cells in rows:
        lines.append("".join(_pad(c, w, right) for c, (_, _, right), w in zip(cells, SUMMARY_HEADS, widths)))
    lines.append("  涉及金额每笔申领只计一次；已拨付的申领应追回，尚未拨付的应停止拨付。")
    if summary.get("paid_date_exported") is False:
        lines.append("  注意：申领数据没有“拨付日期”一列，无法区分是否已拨付，全部按已拨付计入应追回。")
    if summary.get("coverage"):
        lines.append("")
        lines.extend(coverage_lines(summary["coverage"]))
    if summary.get("rules_skipped"):
        lines.append("")
        lines.append("未运行的规则 / rules skipped:")
        for rid, why in summary["rules_skipped"].items():
            lines.append(f"  {rid}: {why}")
    return "\n".join(lines)


def _family_zh(family: str) -> str:
    try:
        return FAMILY_ZH[Family(family)]
    except ValueError:
        return family


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def coverage_lines(coverage: dict) -> list[str]:
    """How much the run judged, as run.json's ``coverage`` says (audit.coverage): the monthly claims
    priced and not, per province and by what was missing; the policy and reference gaps."""
    m = coverage["monthly"]
    lines = [f"审计覆盖 / coverage：判断月度申领 {m['judged']:,} 笔，已核算补贴标准 {m['priced']:,} 笔"
             f"（{_share(m['priced'], m['judged'])}），未能核算 {m['unpriced']:,} 笔"]
    for p in coverage["provinces"]:
        text = f"  {p['province_name']:<6}{p['judged']:>8,} 笔  已核算 {p['priced']:>7,}（{_share(p['priced'], p['judged'])}）"
        if p["priced_on_secondary"]:
            text += f"  其中依据仅有二手来源的参照数据 {p['priced_on_secondary']:,}"
        if p["unpriced_by_gap"]:
            text += "  未核算：" + "；".join(f"{g['gap']} {g['claims']:,}" for g in p["unpriced_by_gap"])
        lines.append(text)
    for prov in coverage.get("policy", []):
        for n in prov["notices"]:
            if n["state"] == "expired":
                lines.append(f"  政策：{prov['province_name']} {n['document']} 已于 {n['expires']} 失效，"
                             f"{sum(u['kind'] == 'expired' for u in prov['unset'])} 项参数未设定，依赖它们的判断跳过")
        for u in prov["unset"]:
            if u["kind"] == "window_closed":
                lines.append(f"  政策：{prov['province_name']} {u['param']} 窗口期已于 {u['since']} 结束，其后的政策未知")
    gaps = coverage.get("reference_gaps") or {}
    parts = []
    if gaps.get("counties_without_tier"):
        parts.append(f"{gaps['counties_without_tier']} 个县区无最低工资档次（" + "、".join(
            f"{p['province_name']} {p['counties']}" for p in gaps.get("by_province", [])) + "）")
    if gaps.get("wage_rows"):
        parts.append(f"{gaps['wage_rows']} 个档次无可用最低工资标准")
    if gaps.get("calendar_days"):
        parts.append(f"法定工作日历缺 {gaps['calendar_days']} 天（{'、'.join(gaps['calendar_months'])}）")
    if parts:
        lines.append("  参照数据缺口：" + "；".join(parts) + f" — 运行 audit reference check INPUT_DIR --month "
                     f"{coverage['audit_month']} 列出并生成待填表")
    if coverage.get("secondary_findings", {}).get("total"):
        lines.append(f"  依据仅有二手来源的参照数据核算的问题 {coverage['secondary_findings']['total']:,} 条（证据中注明）")
    if coverage.get("skipped_total"):
        lines.append(f"  规则未能判断的记录共 {coverage['skipped_total']:,} 条，按省份、规则和原因见报告“政策与参照数据覆盖”")
    return lines


@main.group("policy", epilog=EPILOG)
def policy_group() -> None:
    """查看政策参数（法规）和检测参数（审计判断）。

    Inspect the policy parameters (law) and detection thresholds (judgement).

    \b
    示例 / Example:
      audit policy show 江西 --date 2024-03-01
    """


@policy_group.command("show")
@click.argument("province")
@click.option("--date", "when", default=None, help="参数生效日期（YYYY-MM-DD，默认今天） / Date the parameters are in force on (YYYY-MM-DD; default today).")
@click.option("--policy-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="使用此目录的政策参数文件代替内置文件 / Use these parameter files instead of the shipped ones.")
def policy_show(province: str, when: str | None, policy_dir: Path | None) -> None:
    """列出某省（名称或代码）在某日生效的政策参数及其出处。

    Print the parameters in force for PROVINCE (name or code) on a date, with their sources.

    \b
    示例 / Example:
      audit policy show 360000 --date 2024-03-01
    """
    policy = Policy.load(policy_dir)
    code = _province_code(policy, province)
    try:
        day = dt.date.fromisoformat(when) if when else dt.date.today()
    except ValueError:
        raise click.BadParameter(f"{when!r} is not a date; write it as YYYY-MM-DD", param_hint="--date") from None
    click.echo(f"{policy.jurisdictions.get(code, code)} ({code}) — 在 {day} 生效的政策参数 / parameters in force on {day}")
    rows = policy.describe(code, day)
    cited: set[str] = set()
    click.echo("  (scope: national — 全国通知统一规定，本省通知另有规定的从其规定; provincial — 仅依本省通知，"
               "本省通知施行前或到期后未知; informational — 无规则读取)")
    for row in rows:
        scope = row["scope"] + (", informational" if row.get("informational") else "")
        if row["value"] is None:
            why = f" — {row['note']}" if row.get("note") else ""
            value = "未设定 (unset)"
            src = f"[{row['from']} since {row['effective_from']}]{why}" if row["effective_from"] else f"(no notice sets it){why}"
        else:
            value = row["value"]
            src = f"{row['reference']} [{row['from']} since {row['effective_from']}]"
            cited.update(doc for doc in policy.documents if str(row["reference"]).startswith(doc))
        click.echo(f"  {row['name']:<44} {scope:<12} {value!s:<28} {src}")
    click.echo("")
    click.echo("来源文件 / sources:")
    for doc_no in sorted(cited):
        meta = policy.documents[doc_no]
        dates = ", ".join(f"{k} {meta[k]}" for k in ("issued", "in_force", "expires", "printed") if meta.get(k))
        click.echo(f"  {doc_no} {meta.get('title', '')} ({dates or 'undated in the seed'})")
    click.echo("")
    click.echo("检测参数（审计机关判断，非政策规定） / detection thresholds (the audit office's judgement, not law):")
    for det in policy.detection.values():
        click.echo(f"  {det.name:<44} {det.value!s:<8} {det.shown_unit:<12} {det.description}")


def _province_code(policy, text: str) -> str:
    text = text.strip()
    if text in policy.jurisdictions:
        return text
    for code, name in policy.jurisdictions.items():
        if text and (name.startswith(text) or text.startswith(name)):
            return code
    raise click.BadParameter(
        f"unknown province {text!r}; use one of: "
        + ", ".join(f"{n} ({c})" for c, n in sorted(policy.jurisdictions.items()) if c != "000000"),
        param_hint="PROVINCE",
    )


@main.group("reference")
def reference_group() -> None:
    """月度运行所需的参照数据：最低工资标准、县区档次、法定工作日历。

    The reference data a month's run needs: minimum wages, county tiers, the working-day calendar.

    \b
    示例 / Example:
      audit reference check fixtures/demo --month 2024-06 --out out/gaps
    """


@reference_group.command("check", epilog="""\b
Exit codes: 0 nothing missing, 1 gaps listed, 2 invalid input.
""")
@click.argument("input_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--month", required=True, help="运行对应的月份，YYYY-MM / The month the run is for, YYYY-MM.")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="待填参照表 reference_gaps.xlsx 的输出目录 / Where to write reference_gaps.xlsx.")
@click.option("--policy-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="运行将使用的政策参数文件目录（代替内置文件） / The parameter files the run will use instead of the shipped ones.")
def reference_check_cmd(input_dir: Path, month: str, out_dir: Path, policy_dir: Path | None) -> None:
    """列出本月运行将遇到的每个参照数据缺口，并生成待填写的 reference_gaps.xlsx。

    List in Chinese every gap the month's run would hit, and write reference_gaps.xlsx to fill them.

    Gaps: counties without a minimum-wage tier, tiers without a usable standard, days without
    the working-day calendar, provinces whose notice has expired or whose parameters are unset.
    The workbook has a sheet per operator table (county_tiers, min_wage, calendar), one row per
    gap with its key and first date needed filled in: fill the value and its source (来源), and
    put the workbook in INPUT_DIR as county_tiers.xlsx (min_wage.xlsx, calendar.xlsx) — it is
    read and validated like any input. Policy gaps take newer parameter files (--policy-dir).

    \b
    示例 / Example:
      audit reference check data/2026-11 --month 2026-11 --out out/gaps
    """
    try:
        parse_month(month)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from None
    result = check_reference(input_dir, month, policy_dir)
    click.echo(format_check(result))
    path = write_workbook(result, Path(out_dir) / WORKBOOK)
    sizes = {"county_tiers": result.gaps.county_tiers.height, "min_wage": result.gaps.min_wage.height,
             "calendar": result.gaps.calendar.height}
    click.echo("")
    click.echo(f"→ {path}（待填：" + "，".join(f"{k} {v} 行" for k, v in sizes.items()) + "）")
    sys.exit(0 if result.empty else 1)


# commands that live beside their subject: fixtures, evaluation, reports, graphs
for _command in (fixtures_group, evaluate_cmd, report_cmd, graph_cmd, outcomes_group, history_cmd, diff_cmd):
    main.add_command(_command)
messages.localise(main)  # help headings, the help option and usage errors in Chinese first


if __name__ == "__main__":
    main()
