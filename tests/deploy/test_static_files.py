"""Fingerprinted static addresses and the 413 page nginx asks for."""

import hashlib
import re
from pathlib import Path

from flask import url_for

from consult.static_files import file_version

STATIC = Path(__file__).resolve().parents[2] / "consult" / "static"


def test_static_addresses_carry_the_hash_of_the_files_content(app, client):
    digest = hashlib.sha256((STATIC / "css" / "app.css").read_bytes()).hexdigest()[:12]
    with app.test_request_context():
        assert url_for("static", filename="css/app.css") == f"/static/css/app.css?v={digest}"
        # A missing file or one outside the static folder gets no version (and no read).
        assert url_for("static", filename="css/nothing.css") == "/static/css/nothing.css"
        assert file_version(app, "../config.py") is None
        assert file_version(app, "/etc/passwd") is None
    page = client.get("/").get_data(as_text=True)
    links = re.findall(r'href="(/static/[^"]+)"', page)
    assert f"/static/css/app.css?v={digest}" in links
    for link in links:
        assert re.search(r"\?v=[0-9a-f]{12}$", link), link
        # Flask serves the versioned address too (development, or without nginx).
        response = client.get(link)
        assert response.status_code == 200
        response.close()


def test_an_edited_file_gets_a_new_address_in_debug_mode(app, tmp_path):
    (tmp_path / "x.css").write_text("a{}")
    app.static_folder = str(tmp_path)
    app.debug = True
    first = file_version(app, "x.css")
    (tmp_path / "x.css").write_text("b{}")
    assert file_version(app, "x.css") not in (None, first)


def test_the_413_page_for_nginx_is_consults_own(client):
    response = client.get("/errors/413", headers={"Accept-Language": "de"})
    assert response.status_code == 413
    assert "Die hochgeladene Datei ist zu groß" in response.get_data(as_text=True)
    response = client.get("/errors/413", headers={"Accept-Language": "en"})
    assert "The upload is too large" in response.get_data(as_text=True)
