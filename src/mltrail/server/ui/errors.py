"""Errors on UI routes go through the server's one error handler (``server.errors``).

Page routes are marked ``html_errors``: an error they raise answers with the status and
message the API would give, drawn as the UI's error page (the message escaped like any other
text). JSON routes need no mark: their errors answer as the API's, ``{"error_code",
"message"}``.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from mltrail.server.errors import html_error_pages
from mltrail.server.ui.templating import render


def error_page(request: Request, status: int, message: str) -> Response:
    if status == 404:
        title = "Not found"
    else:
        title = "Something went wrong" if status >= 500 else "Bad request"
    context = {"title": title, "message": message, "status": status}
    return render(request, "error.html", context, status_code=status)


html_errors = html_error_pages(error_page)
