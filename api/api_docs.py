"""`/docs`: Swagger UI served from the installed `swagger-ui-bundle-v2` package, never a CDN.

A dispatch office's network is often the thing that is down when someone
needs the API reference, and FastAPI's default page loads its script and
style from a CDN (a blank page offline). The assets come from the package's
own folder under `/docs/static`; ReDoc, which has no such package, is off.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

STATIC = "/docs/static"


def mount_api_docs(app: FastAPI) -> None:
    """Add `/docs` and its assets; create the app with `docs_url=None, redoc_url=None`."""
    app.mount(STATIC, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon-32x32.png",
        )
