"""Exposure: with ACCORD_AUTH set, every route of the page refuses a request without the login
(issue 11). The routes are read from the running app, so a route a Gradio upgrade adds is probed
too and must be classified here."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Route

from tests.conftest import GUARD_AUTH as AUTH

# Served to anyone: what the login page itself needs, none of it from the index.
OPEN = {
    "/",  # the login form (checked below: no page config, no document in it)
    "/login",
    "/login/",
    "/logout",
    "/openapi.json",  # FastAPI's description of the routes, no data
    "/favicon.ico",
    "/theme.css",
    "/gradio_api/theme.css",
    "/robots.txt",
    "/manifest.json",
    "/pwa_icon",
    "/pwa_icon/{size}",
    "/static/{path:path}",
    "/assets/{path:path}",
    "/svelte/{path:path}",
    "/gradio_api/app_id",
    "/gradio_api/app_id/",
    "/gradio_api/user",
    "/gradio_api/user/",
    "/gradio_api/startup-events",
}
# Refused (401/403), or unknown without the login (404), but never served.
REFUSED = {401, 403, 404}


def routes(app) -> list[tuple[str, str]]:
    out = []
    for route in app.app.routes:
        inner = getattr(route, "original_router", None)
        for r in inner.routes if inner is not None else [route]:
            # A route to a whole ASGI app (the MCP transport) takes any method: probe POST.
            methods = getattr(r, "methods", None) or (["POST"] if isinstance(r, Route) else [])
            for method in sorted(methods):
                if method != "HEAD":
                    out.append((method, r.path))
    return out


@pytest.fixture
def guarded(guarded_server):
    return guarded_server


def concrete(path: str, data_file: str) -> str:
    """A route's path with its parameters filled in with something worth stealing."""
    path = path.replace("{path_or_url:path}", data_file).replace("{path:path}", data_file)
    path = path.replace("{api_name}", "ask").replace("{url_path:path}", "http://127.0.0.1:1/")
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_refuses_requests_without_the_login(guarded, indexed_dir):
    base = guarded.local_url.rstrip("/")
    catalog = str((indexed_dir / "index" / "catalog.sqlite").resolve())
    served = []
    probed = 0
    paths = set()
    with httpx.Client(timeout=5) as http:
        for method, path in routes(guarded):
            if path in OPEN:
                continue
            probed += 1
            paths.add(path)
            body = {"data": ["Where was the first AI safety summit held?", [], {}]}
            url = base + concrete(path, catalog)
            if method == "POST" and path.endswith("/upload"):
                response = http.post(url, files={"files": ("x.md", b"# Planted\n\nText.\n")})
            else:
                response = http.request(method, url, json=body if method == "POST" else None)
            if response.status_code not in REFUSED:
                served.append((method, path, response.status_code, response.text[:80]))
    assert probed >= 40, probed
    assert {"/mcp", "/v1/models", "/v1/chat/completions"} <= paths  # programs' routes too
    assert not served, served


def test_the_open_routes_carry_nothing_from_the_index(guarded):
    base = guarded.local_url.rstrip("/")
    with httpx.Client(timeout=5) as http:
        for path in ("/", "/openapi.json", "/manifest.json", "/gradio_api/user"):
            text = http.get(base + path).text
            for secret in ("Bletchley", "AI safety institutes", "eu-ai-act", "catalog.sqlite"):
                assert secret not in text, (path, secret)
        assert "auth_required" in http.get(base + "/").text


def test_the_same_routes_work_with_the_login(guarded):
    """The positive control: the refusals above come from the login, not from broken routes."""
    from gradio_client import Client

    base = guarded.local_url.rstrip("/")
    with httpx.Client(timeout=10) as http:
        assert http.post(base + "/login", data={"username": "reader", "password": "wrong"}).is_error
        assert http.get(base + "/config").status_code == 401
        login = http.post(base + "/login", data={"username": AUTH[0], "password": AUTH[1]})
        assert login.status_code == 200, login.text
        assert http.get(base + "/config").status_code == 200
        assert http.get(base + "/gradio_api/info").status_code == 200
    client = Client(guarded.local_url, auth=AUTH, verbose=False)
    assert client.predict(api_name="/documents")
    assert "Bletchley" in client.predict("Where was the first AI safety summit held?", [], {},
                                         api_name="/ask")["text"]  # fmt: skip


def test_the_page_binds_to_loopback_unless_told_otherwise():
    from tests.test_app_client import load_app_module

    assert load_app_module().parse_args([]).host == "127.0.0.1"
    import inspect

    from bot.ui.app import launch

    assert inspect.signature(launch).parameters["host"].default == "127.0.0.1"
