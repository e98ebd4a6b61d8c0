"""Report and broadcast-log exports: CSV (UTF-8 with BOM, so Excel reads Vietnamese) and XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from controller.reports.summary import Dimension, ReportSummary, SummaryRow
from controller.schemas import BroadcastLogEntry

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"

FIGURE_HEADERS = (
    "Lượt phát kế hoạch",
    "Lượt phát đã xác nhận",
    "Số phút đã phát",
    "Số bản tin đã phát",
    "Tỷ lệ hoàn thành (%)",
)

LOG_HEADERS = (
    "Mã lượt phát",
    "Xã/phường",
    "Thôn/tổ",
    "Cụm loa",
    "Bản tin",
    "Chuyên đề",
    "Giờ theo lịch",
    "Bắt đầu",
    "Kết thúc",
    "Thời lượng (giây)",
    "Trạng thái",
)


def summary_headers(summary: ReportSummary) -> list[str]:
    headers = ["Mã", summary.group_by.label_vi]
    if summary.group_by is Dimension.CLUSTER:
        headers += ["Xã/phường", "Thôn/tổ"]
    return headers + list(FIGURE_HEADERS)


def summary_cells(summary: ReportSummary, row: SummaryRow) -> list[str | int | float]:
    """One row as exported: communes by their code, clusters by their id, the total row as “Tổng cộng”."""
    code = "" if row.key == "total" else row.code or row.key
    cells: list[str | int | float] = [code, row.label]
    if summary.group_by is Dimension.CLUSTER:
        cells += [row.commune_name or "", row.village_name or ""]
    return [
        *cells,
        row.planned_plays,
        row.confirmed_plays,
        row.confirmed_minutes,
        row.bulletins_broadcast,
        row.completion_rate,
    ]


def summary_csv(summary: ReportSummary) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow([f"Báo cáo kết quả phát thanh: {summary.scope_label}", summary.period_label])
    writer.writerow(summary_headers(summary))
    for row in summary.rows:
        writer.writerow(summary_cells(summary, row))
    writer.writerow(summary_cells(summary, summary.total))
    return buf.getvalue()


def summary_file_name(summary: ReportSummary, extension: str) -> str:
    """A Vietnamese file name: “Báo cáo Quý II năm 2026 - Xã An Bình - theo cụm loa.xlsx”."""
    name = f"Báo cáo {summary.period_label} - {summary.scope_label} - theo {summary.group_by.label_vi.lower()}"
    safe = "".join(ch if ch.isalnum() or ch in " -_()," else "-" for ch in name)
    return f"{safe}.{extension}"


def content_disposition(file_name: str) -> str:
    """`attachment` with the UTF-8 name (RFC 6266/5987) and an unaccented fallback for old clients."""
    ascii_name = unicodedata.normalize("NFKD", file_name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = ascii_name.encode("ascii", "ignore").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def summary_xlsx(summary: ReportSummary) -> bytes:
    """One sheet: a title, the period, a header row, one row per item and a total row. Figures are numbers."""
    wb = Workbook()
    ws = wb.active
    ws.title = f"Theo {summary.group_by.label_vi.lower()}"[:31].replace("/", "-")
    ws.append([f"BÁO CÁO KẾT QUẢ PHÁT THANH PHỔ BIẾN, GIÁO DỤC PHÁP LUẬT: {summary.scope_label}"])
    ws.append([f"Kỳ báo cáo: {summary.period_label} (số liệu từ xác nhận phát của cụm loa)"])
    ws.append([])
    headers = summary_headers(summary)
    ws.append(headers)
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in summary.rows:
        ws.append(summary_cells(summary, row))
    ws.append(summary_cells(summary, summary.total))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    ws["A1"].font = Font(bold=True, size=13)
    widths = [14, 36] + [18] * (len(headers) - 2)
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _local(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S") if value else ""


def log_cells(entry: BroadcastLogEntry, tz: ZoneInfo) -> list[str | float]:
    return [
        entry.play_id,
        entry.commune_name,
        entry.village_name or "",
        entry.agent_id,
        entry.title,
        entry.topic,
        _local(entry.scheduled_at, tz),
        _local(entry.started_at, tz),
        _local(entry.ended_at, tz),
        round(entry.duration_played_s, 1) if entry.duration_played_s is not None else "",
        entry.status,
    ]


def log_csv(entries: Sequence[BroadcastLogEntry], timezone: str) -> str:
    tz = ZoneInfo(timezone)
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow(LOG_HEADERS)
    for entry in entries:
        writer.writerow(log_cells(entry, tz))
    return buf.getvalue()
