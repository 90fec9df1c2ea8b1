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

from audit.app.cycle_cli import diff_cmd, history_cmd, outcomes_group
from audit.app.graph_cli import graph_cmd
from audit.app.pipeline import EXIT_BUSY, EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, EXIT_INVALID, run_audit
from audit.app.reference_check import WORKBOOK, check_reference, format_check, write_workbook
from audit.loader import InputError, load_inputs
from audit.masking import MaskedFormatter, mask
from audit.policy import Policy, PolicyError
from audit.rundir import parse_month
from audit.validation import validate, write_validation
from audit.workspace import WorkspaceBusy, WorkspaceError
from fixtures.cli import evaluate_cmd, fixtures_group
from reports.cli import report_cmd

EPILOG = """\b
Exit codes: 0 clean (no findings), 1 findings, 2 invalid input, 3 run error,
4 workspace busy (another process is writing the workspace).
"""
VALIDATE_EPILOG = """\b
Exit codes: 0 every data contract met, 1 some not met (the rows are kept and flagged; the
failed expectations are listed), 2 invalid input, 3 run error.
"""


class AuditGroup(click.Group):
    """Turns domain errors into the documented exit codes, with a message and no traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
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


def _debug() -> bool:
    return os.environ.get("AUDIT_DEBUG") == "1"


@click.group(cls=AuditGroup, epilog=EPILOG)
@click.version_option(package_name="jianxi-audit")
def main() -> None:
    """就业见习补贴资金审计 — audit of employment-internship subsidy funds.

    \b
    Example:
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
              help="Where to write normalised/*.parquet, quarantine.csv and the validation summary.")
def validate_cmd(input_dir: Path, out_dir: Path) -> None:
    """Read, normalise and validate the input tables, without running the rules.

    Exits 1 when an input fails a data contract (great-expectations): every failed expectation
    is printed with the rows that fail it.

    \b
    Example:
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
@click.option("--month", required=True, help="The audited month, YYYY-MM: everything recorded up to its end is audited.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The run's output directory.")
@click.option("--si-as-of", default=None, help="Last month the social-insurance extract is complete for (default: --month).")
@click.option("--policy-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Use these parameter files instead of the shipped ones.")
@click.option("--no-render", is_flag=True, help="Write findings only; skip reports, exit lists and graphs.")
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the monthly cycle's history in this directory (created if new): statuses, outcomes, "
                   "the 摘牌 workflow, bans, and an outcomes form per county.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def run_cmd(input_dir: Path, month: str, out_dir: Path, si_as_of: str | None, policy_dir: Path | None,
            no_render: bool, workspace: Path | None, quiet: bool) -> None:
    """Run the monthly audit: validate, run every rule, write findings and reports.

    \b
    Example:
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


def format_summary(summary: dict) -> str:
    lines = [f"审计月份 {summary['audit_month']}  (社保数据截至 {summary['si_as_of']})", ""]
    lines.append(f"{'family':<22}{'findings':>9}{'persons':>9}{'units':>7}{'claims':>8}{'amount_at_risk':>17}")
    for row in summary.get("by_family", []):
        lines.append(
            f"{row['family']:<22}{row['findings']:>9}{row['persons']:>9}{row['units']:>7}{row['claims']:>8}"
            f"{row['amount_at_risk']:>17,.2f}"
        )
    if summary.get("coverage"):
        lines.append("")
        lines.extend(coverage_lines(summary["coverage"]))
    if summary.get("rules_skipped"):
        lines.append("")
        lines.append("未运行的规则 / rules skipped:")
        for rid, why in summary["rules_skipped"].items():
            lines.append(f"  {rid}: {why}")
    return "\n".join(lines)


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


@main.group("policy")
def policy_group() -> None:
    """Inspect the policy parameters (law) and detection thresholds (judgement).

    \b
    Example:
      audit policy show 江西 --date 2024-03-01
    """


@policy_group.command("show")
@click.argument("province")
@click.option("--date", "when", default=None, help="Date the parameters are in force on (YYYY-MM-DD; default today).")
@click.option("--policy-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None)
def policy_show(province: str, when: str | None, policy_dir: Path | None) -> None:
    """Print the parameters in force for PROVINCE (name or code) on a date, with their sources.

    \b
    Example:
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
        click.echo(f"  {det.name:<44} {det.value!s:<8} {det.unit:<12} {det.description}")


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
    """The reference data a month's run needs: minimum wages, county tiers, the working-day calendar.

    \b
    Example:
      audit reference check fixtures/demo --month 2024-06 --out out/gaps
    """


@reference_group.command("check", epilog="""\b
Exit codes: 0 nothing missing, 1 gaps listed, 2 invalid input.
""")
@click.argument("input_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--month", required=True, help="The month the run is for, YYYY-MM.")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where to write reference_gaps.xlsx.")
@click.option("--policy-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The parameter files the run will use instead of the shipped ones.")
def reference_check_cmd(input_dir: Path, month: str, out_dir: Path, policy_dir: Path | None) -> None:
    """List in Chinese every gap the month's run would hit, and write reference_gaps.xlsx to fill them.

    Gaps: counties without a minimum-wage tier, tiers without a usable standard, days without
    the working-day calendar, provinces whose notice has expired or whose parameters are unset.
    The workbook has a sheet per operator table (county_tiers, min_wage, calendar), one row per
    gap with its key and first date needed filled in: fill the value and its source (来源), and
    put the workbook in INPUT_DIR as county_tiers.xlsx (min_wage.xlsx, calendar.xlsx) — it is
    read and validated like any input. Policy gaps take newer parameter files (--policy-dir).

    \b
    Example:
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


if __name__ == "__main__":
    main()
