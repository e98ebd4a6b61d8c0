"""The guidance's tracking forms (Biểu 02/03/04) as printable pages, with their XLSX from the forms API."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from controller.deps import ControllerDep, SessionDep
from controller.errors import InvalidInput
from controller.reports import forms
from controller.reports.forms import FormName
from controller.reports.periods import period_or_current
from controller.web.citizens import CommuneQuery
from controller.web.render import WebRoute, render
from controller.web.security import WebActor, page_scope

router = APIRouter(route_class=WebRoute, include_in_schema=False)

TITLES = {
    FormName.BIEU_02: "Biểu 02: Kế hoạch chuyên đề theo tháng",
    FormName.BIEU_03: "Biểu 03: Sản phẩm, lượt tiếp cận, câu hỏi, buổi đối thoại",
    FormName.BIEU_04: "Biểu 04: Báo cáo kết quả 6 tháng / năm",
}


@router.get("/forms")
def form_page(
    request: Request,
    session: SessionDep,
    controller: ControllerDep,
    actor: WebActor,
    form: str = "bieu-03",
    commune_id: CommuneQuery = None,
    kind: str | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    index: Annotated[int | None, Query(ge=1, le=4)] = None,
) -> Response:
    try:
        name = FormName(form)
    except ValueError:
        raise InvalidInput(f"unknown form {form[:20]!r}", "Không có biểu mẫu này.") from None
    scope = page_scope(session, actor, commune_id)
    commune = scope.commune or (scope.communes[0] if scope.communes else None)
    tz = controller.settings.timezone
    if kind is None and name is FormName.BIEU_04:
        kind = "half"
    period = period_or_current(kind, year, index, controller.clock.now(), ZoneInfo(tz))
    data: forms.Form02 | forms.Form03 | forms.Form04 | None = None
    if commune is not None:
        if name is FormName.BIEU_02:
            data = forms.form02(session, commune.id, period, tz)
        elif name is FormName.BIEU_03:
            data = forms.form03(session, commune.id, period, tz)
        else:
            base = controller.settings.public_base_url or str(request.base_url)
            data = forms.form04(session, commune.id, period, tz, base_url=base)
    args = {"form": name.value, "kind": period.kind.value, "year": period.year, "index": period.index}
    xlsx = (
        f"/api/forms/{name.value}.xlsx?commune_id={commune.id}&kind={period.kind.value}"
        f"&year={period.year}&index={period.index}"
        if commune
        else ""
    )
    return render(
        request,
        "forms.html",
        actor=actor,
        scope=scope,
        commune=commune,
        name=name.value,
        names=[(n.value, TITLES[n]) for n in FormName],
        title=TITLES[name],
        period=period,
        data=data,
        xlsx=xlsx,
        extra_args=args,
        commune_required=True,
    )
