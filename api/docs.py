"""The API's documentation page (Swagger UI), served with its scripts from this server: it works
without internet. The assets come from the npm package swagger-ui-dist, copied to
api/static/swagger/ at install time (`make assets`); without them the page says so."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS_DIR = Path(__file__).parent / "static" / "swagger"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")


def _missing_page(openapi_url: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Symbiose API</title>"
        "<h1>Symbiose API</h1><p>The documentation viewer is not installed on this server "
        "(run <code>make assets</code>, which needs npm). The API's description is still "
        f'available: <a href="{openapi_url}">{openapi_url}</a>.</p></html>'
    )


def install_docs(app: FastAPI, prefix: str) -> None:
    """The page at `{prefix}/docs`, its assets under `{prefix}/docs/assets/`."""
    assets_url = f"{prefix}/docs/assets"
    openapi_url = app.openapi_url or f"{prefix}/openapi.json"
    # check_dir=False: the app starts without the assets; they then answer 404.
    app.mount(assets_url, StaticFiles(directory=ASSETS_DIR, check_dir=False), name="api-docs")

    @app.get(f"{prefix}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if not all((ASSETS_DIR / name).is_file() for name in ASSETS):
            return _missing_page(openapi_url)
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{assets_url}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets_url}/swagger-ui.css",
            swagger_favicon_url=f"{assets_url}/favicon-32x32.png",
            swagger_ui_parameters={"defaultModelsExpandDepth": 0},
        )
