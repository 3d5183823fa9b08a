"""``/favicon.ico``: browsers ask for it on every page; it is answered, not a 404 in the log."""

from __future__ import annotations

from importlib import resources

from support import Api


def test_favicon_is_the_packaged_icon(api: Api) -> None:
    response = api.as_(None).get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/vnd.microsoft.icon"
    icon = resources.files("minipos.web").joinpath("static/favicon.ico").read_bytes()
    assert response.content == icon
    assert icon[:4] == b"\x00\x00\x01\x00"  # the ICO header: a real icon, not a placeholder
    assert api.as_(None).head("/favicon.ico").status_code == 200
