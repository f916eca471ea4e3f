"""``/login``, ``/logout`` and the HTML home page (``/`` when the browser asks for HTML)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from . import backend
from .core import check_csrf, ensure_prelogin, page_error, render, secure_headers, url_with
from geodata.dataset import Dataset

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Only a local path (``/ui/...``), never another site (``//evil``, ``https://...``)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None):
    ensure_prelogin(request)
    user = backend.principal(request)
    if user is not None:
        return RedirectResponse(_safe_next(next) if next else url_with(request, "/"), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next) if next else ""})


async def read_form(request: Request) -> FormData:
    """The posted form, read on the event loop (the only awaiting part), so the handlers that write to the
    database can be plain ``def`` and run in the thread pool."""
    return await request.form()


Form = Annotated[FormData, Depends(read_form)]


def _field(form: FormData, name: str) -> str | None:
    """A text field of the form (a file sent under that name counts as missing)."""
    value = form.get(name)
    return value if isinstance(value, str) else None


@router.post("/login", include_in_schema=False)
def login_submit(request: Request, form: Form):
    from ..deps import start_browser_session

    if not check_csrf(request, _field(form, "csrf_token")):
        ensure_prelogin(request)
        return page_error(request, 400, "csrf_failed")
    token = (_field(form, "token") or "").strip()
    nxt = _field(form, "next")
    target = _safe_next(nxt) if nxt else url_with(request, "/")
    response = RedirectResponse(target, status_code=303)
    principal = start_browser_session(request, response, token)
    if principal is None:
        return render(request, "login.html", {"error": "login_failed", "next": nxt or ""}, status_code=401)
    secure_headers(response)
    return response


@router.post("/logout", include_in_schema=False)
def logout_submit(request: Request, form: Form):
    from ..deps import end_browser_session

    user = backend.principal(request)
    if user is not None:
        request.state.principal = user
        if not check_csrf(request, _field(form, "csrf_token")):
            return page_error(request, 400, "csrf_failed", user=user)
    response = RedirectResponse(url_with(request, "/login"), status_code=303)
    end_browser_session(request, response)
    secure_headers(response)
    return response


def dataset_summary(ds: Dataset) -> dict:
    parks = ds.parks
    counties = ds.counties
    return {
        "province": str(ds.province["name"].iloc[0]) if "name" in ds.province.columns and len(ds.province) else "",
        "parks": int(len(parks)),
        "parks_by_kind": {str(k): int(v) for k, v in parks["kind"].value_counts().sort_index().items()},
        "enterprises": int(len(ds.enterprises)),
        "projects": int(len(ds.projects)),
        "counties": int(len(counties)),
        "less_developed": int(counties["less_developed"].astype(bool).sum()) if "less_developed" in counties else 0,
    }


def home_page(request: Request, user: backend.ViewerPage) -> Response:
    summary = backend.cached(request, "summary", lambda: dataset_summary(backend.dataset(request)))
    return render(request, "home.html", {"summary": summary, "province": summary["province"]}, user=user)


def landing_html(request: Request) -> Response:
    """The hook :mod:`api.routes.ogc` calls for ``/`` when the client prefers HTML: the home page."""
    user = backend.page_user(request, "viewer")
    return user if isinstance(user, Response) else home_page(request, user)


@router.get("/ui", include_in_schema=False)
@router.get("/ui/", include_in_schema=False)
def ui_home(request: Request, user: backend.ViewerPage):
    return home_page(request, user)
