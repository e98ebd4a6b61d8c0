"""Biểu 02/03/04 as XLSX workbooks (openpyxl): the same figures as the forms API, one sheet each."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from controller.reports.forms import Form02, Form03, Form04, FormHeader


def _sheet(title: str, header: FormHeader, form_name: str) -> tuple[Workbook, Any]:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append([form_name])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"{header.commune_name} — {header.period_label}"])
    ws.append([])
    return wb, ws


def _table(ws: Any, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    ws.append(list(headers))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        ws.append(list(row))
    for column in ws.columns:
        ws.column_dimensions[column[0].column_letter].width = 18


def _bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


FORM02_HEADERS = (
    "Tháng",
    "Chuyên đề",
    "Số bản tin kế hoạch",
    "Lượt phát kế hoạch",
    "Lượt phát đã xác nhận",
    "Số buổi theo chương trình",
    "Chương trình",
    "Bản tin",
)


def form02_xlsx(form: Form02) -> bytes:
    wb, ws = _sheet("Biểu 02", form.header, "Biểu 02: Kế hoạch chuyên đề theo tháng")
    rows = [
        (
            r.month,
            r.topic_name,
            r.bulletins_planned,
            r.planned_plays,
            r.confirmed_plays,
            r.scheduled_sessions,
            "; ".join(r.programmes),
            "; ".join(r.titles),
        )
        for r in form.rows
    ]
    _table(ws, FORM02_HEADERS, rows)
    return _bytes(wb)


FORM03_HEADERS = (
    "Bản tin",
    "Chuyên đề",
    "Thời lượng (giây)",
    "Lượt phát đã xác nhận",
    "Số ngày phát",
    "Lượt xem trang",
    "Lượt nghe lại",
    "Công khai",
)


def form03_xlsx(form: Form03) -> bytes:
    wb, ws = _sheet("Biểu 03", form.header, "Biểu 03: Sản phẩm, lượt tiếp cận, câu hỏi, buổi đối thoại")
    rows = [
        (
            p.title,
            p.topic_name,
            p.duration_s,
            p.confirmed_plays,
            p.broadcast_days,
            p.views,
            p.listens,
            "Có" if p.public else "Không",
        )
        for p in form.products
    ]
    _table(ws, FORM03_HEADERS, rows)
    ws.append(["Tổng cộng", "", "", form.total_confirmed_plays, "", form.total_views, form.total_listens, ""])
    ws.append([])
    q = form.questions
    for label, value in (
        ("Câu hỏi nhận được", q.received),
        ("Câu hỏi đã trả lời", q.answered),
        ("Trong đó trả lời tại buổi đối thoại", q.answered_at_session),
        ("Câu hỏi đã công khai", q.published),
        ("Buổi phát trực tiếp / đối thoại", "chưa ghi nhận" if form.live_sessions is None else form.live_sessions),
    ):
        ws.append([label, value])
    return _bytes(wb)


def form04_xlsx(form: Form04) -> bytes:
    wb, ws = _sheet("Biểu 04", form.header, "Biểu 04: Báo cáo kết quả (6 tháng / năm)")
    total = form.broadcasts.total
    q = form.questions
    ws.append(["I. Số liệu"])
    for label, value in (
        ("Lượt phát kế hoạch", total.planned_plays),
        ("Lượt phát đã xác nhận", total.confirmed_plays),
        ("Số phút đã phát", total.confirmed_minutes),
        ("Số bản tin đã phát", total.bulletins_broadcast),
        ("Tỷ lệ hoàn thành (%)", total.completion_rate),
        ("Bản tin đang công khai", form.bulletins_public),
        ("Lượt xem trang", form.total_views),
        ("Lượt nghe lại", form.total_listens),
        ("Câu hỏi nhận được", q.received),
        ("Câu hỏi đã trả lời", q.answered),
        ("Câu hỏi đã công khai", q.published),
    ):
        ws.append([label, value])
    ws.append([])
    ws.append(["Theo chuyên đề"])
    _table(
        ws,
        ("Chuyên đề", "Lượt phát kế hoạch", "Lượt phát đã xác nhận", "Số phút đã phát", "Số bản tin đã phát"),
        [
            (r.label, r.planned_plays, r.confirmed_plays, r.confirmed_minutes, r.bulletins_broadcast)
            for r in form.broadcasts.rows
        ],
    )
    ws.append([])
    for section in ("II. Đánh giá của cán bộ", "III. Khó khăn, vướng mắc", "IV. Đề xuất, kiến nghị"):
        ws.append([section])
        ws.append([""])
    ws.append(["V. Minh chứng"])
    for label, url in form.evidence:
        ws.append([label, url])
    return _bytes(wb)
