"""The monthly notice (通报) as CSV and as a printable HTML page.

Every value that reaches HTML goes through :func:`html.escape`, so names and any citizen
text stay inert. CSV cells that a spreadsheet would read as a formula are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

COLUMNS: tuple[tuple[str, str], ...] = (
    ("rank", "排名"),
    ("code", "代码"),
    ("name", "名称"),
    ("accepted", "受理"),
    ("resolved", "办结(待评)"),
    ("closed", "已关闭"),
    ("completed", "办结"),
    ("completion_rate", "办结率"),
    ("on_time_rate", "按时办结率"),
    ("satisfaction_rate", "满意率"),
    ("overdue", "超期"),
    ("avg_sign_for_seconds", "平均签收(分)"),
    ("avg_resolve_seconds", "平均办结(时)"),
)
_SECTIONS = (("township", "乡镇/街道"), ("department", "职能部门"))


def fmt(name: str, value: Any) -> str:
    """A cell as text: rates as percentages, times in minutes/hours, None as a dash."""
    if value is None:
        return "—"
    if name.endswith("_rate"):
        return f"{float(value) * 100:.2f}%"
    if name == "avg_sign_for_seconds":
        return f"{float(value) / 60:.1f}"
    if name == "avg_resolve_seconds":
        return f"{float(value) / 3600:.1f}"
    return str(value)


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@") and text != "—" else text


def notice_csv(month: str, sections: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """The notice as CSV: one block per section (townships, departments) with a header."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["month", "section", *[key for key, _ in COLUMNS]])
    for section, _ in _SECTIONS:
        for row in sections.get(section, ()):
            writer.writerow(
                [month, section, *[_cell(fmt(key, row.get(key))) for key, _ in COLUMNS]]
            )
    return buf.getvalue()


def rows_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Plain report rows as CSV (raw numbers, rates as fractions)."""
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell("" if v is None else str(v)) for k, v in row.items()})
    return buf.getvalue()


def notice_html(
    city_name: str,
    month: str,
    sections: Mapping[str, Sequence[Mapping[str, Any]]],
    city_row: Mapping[str, Any] | None,
) -> str:
    """A self-contained printable page (no scripts, no external assets)."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{e(city_name)} {e(month)} 网格化服务管理工作通报</title>",
        "<style>body{font-family:serif;margin:2em}table{border-collapse:collapse;width:100%;"
        "margin-bottom:2em}th,td{border:1px solid #333;padding:4px 6px;text-align:right}"
        "td.t,th.t{text-align:left}@media print{body{margin:0}}</style></head><body>",
        f"<h1>{e(city_name)}网格化服务管理工作通报（{e(month)}）</h1>",
    ]
    if city_row:
        parts.append(
            "<p>全市受理 "
            + e(fmt("accepted", city_row.get("accepted")))
            + " 件，办结 "
            + e(fmt("completed", city_row.get("completed")))
            + " 件，办结率 "
            + e(fmt("completion_rate", city_row.get("completion_rate")))
            + "，按时办结率 "
            + e(fmt("on_time_rate", city_row.get("on_time_rate")))
            + "，满意率 "
            + e(fmt("satisfaction_rate", city_row.get("satisfaction_rate")))
            + "。</p>"
        )
    for section, title in _SECTIONS:
        parts.append(f"<h2>{e(title)}排名</h2><table><thead><tr>")
        for key, label in COLUMNS:
            cls = " class='t'" if key in ("code", "name") else ""
            parts.append(f"<th{cls}>{e(label)}</th>")
        parts.append("</tr></thead><tbody>")
        for row in sections.get(section, ()):
            parts.append("<tr>")
            for key, _ in COLUMNS:
                cls = " class='t'" if key in ("code", "name") else ""
                parts.append(f"<td{cls}>{e(fmt(key, row.get(key)))}</td>")
            parts.append("</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "".join(parts)
