"""The error answers each route documents in the OpenAPI, and the body they all share."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import RootModel
from starlette.exceptions import HTTPException

from controller.schemas import ErrorPublic, FieldErrorsPublic

DESCRIPTIONS_VI = {
    400: "Nội dung gửi lên không đọc được",
    401: "Cần đăng nhập (HTTP Basic, mã truy cập Bearer hoặc phiên đăng nhập)",
    403: "Không có quyền, hoặc yêu cầu đến từ trang web khác",
    404: "Không tìm thấy",
    409: "Trùng hoặc xung đột với dữ liệu đã có",
    422: "Dữ liệu chưa hợp lệ",
    429: "Đăng nhập sai quá nhiều lần: hãy đợi (xem Retry-After)",
}


class InvalidPublic(RootModel[ErrorPublic | FieldErrorsPublic]):
    """A 422: either a field that does not fit the schema, or a value the service refused."""


def errors(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error status codes, all with the shared JSON error body.

    `descriptions` override the default text per code, e.g. `errors(409, e409="conflicts listed in issues")`.
    The JSON content is spelled out because a route answering text (a YAML file) still errs in JSON.
    """
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        model: type[Any] = InvalidPublic if code == 422 else ErrorPublic
        out[code] = {
            "model": model,
            "description": descriptions.get(f"e{code}", DESCRIPTIONS_VI.get(code, HTTPStatus(code).phrase)),
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
    return out


AUTHENTICATED = (400, 401, 403, 404, 422, 429)
"""What any signed-in route can answer: an unreadable body, no login, no right, nothing there, bad data,
too many failed logins."""

PARSE_ERROR_VI = "Nội dung gửi lên không đọc được. Hãy gửi JSON hợp lệ."


def install_http_error_handler(app: FastAPI) -> None:
    """HTTPExceptions get the shared body too, in Vietnamese (FastAPI's own body-parse error is English)."""

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        detail = str(exc.detail)
        message_vi = PARSE_ERROR_VI if exc.status_code == 400 and "parsing the body" in detail else detail
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": message_vi, "error": detail},
            headers=getattr(exc, "headers", None),
        )
