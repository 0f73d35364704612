"""The interactive API docs, served with their assets so they work offline (ADR 0015).

Swagger UI's files come from the pinned ``swagger-ui-bundle-v2`` package (the official
``swagger-ui-dist`` files, repackaged) and are served under ``<docs>/assets/``. The page has
no inline script or style, so the docs' Content-Security-Policy (``security_headers``) can
allow scripts from 'self' only.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import PathParameter
from litestar.response import File, Response
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # no py.typed

#: the files of the bundle the page uses (nothing else of the package is served)
SWAGGER_UI_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "index.css": "text/css",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
INIT_SCRIPT = "ams-swagger-init.js"
ASSET_HANDLER = "ams-api-docs-asset"

# the page's only script of its own: a file, so no CSP has to allow inline scripts
_INIT_JS = """\
"use strict";
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: "none",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


@get(
    "/assets/{file:str}",
    name=ASSET_HANDLER,
    include_in_schema=False,
    sync_to_thread=False,
    cache_control=CacheControlHeader(public=True, max_age=3600),
)
def api_docs_asset(
    file: Annotated[str, PathParameter(max_length=64)],
) -> File | Response[str]:
    """One of the page's assets (404 for any other name)."""
    if file == INIT_SCRIPT:
        return Response(_INIT_JS, media_type="text/javascript")
    media_type = SWAGGER_UI_FILES.get(file)
    if media_type is None:
        raise NotFoundException
    return File(
        Path(swagger_ui_path) / file, media_type=media_type, content_disposition_type="inline"
    )


class OfflineSwaggerRenderPlugin(OpenAPIRenderPlugin):
    """Swagger UI at the docs root (and ``/swagger``) from assets the app serves itself."""

    def __init__(self, path: str | list[str] | None = None) -> None:
        super().__init__(path=path or ["/", "/swagger"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        def asset(name: str) -> str:
            return html.escape(request.app.route_reverse(ASSET_HANDLER, file=name))

        title = html.escape(str(openapi_schema["info"]["title"]))
        document = html.escape(self.get_openapi_json_route(request))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" sizes="32x32" href="{asset("favicon-32x32.png")}">
<link rel="icon" type="image/png" sizes="16x16" href="{asset("favicon-16x16.png")}">
<link rel="stylesheet" href="{asset("swagger-ui.css")}">
<link rel="stylesheet" href="{asset("index.css")}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{document}"></div>
<script src="{asset("swagger-ui-bundle.js")}"></script>
<script src="{asset(INIT_SCRIPT)}"></script>
</body>
</html>
""".encode()

    def receive_router(self, router: Router) -> None:
        """Serve the assets next to the page (no OAuth2 redirect page: sign-in is by token)."""
        router.register(api_docs_asset)
