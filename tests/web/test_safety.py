"""Safe by default: a hostile catalog renders as text, the catalog is never written, an old schema is refused
with one line, a broken record gives a one-line 500 (never a traceback), and serving off loopback warns."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess

import pytest
from starlette.testclient import TestClient
from web_helpers import run_esma, served

from esma.cli.web import create_app

HOSTILE = {
    "constant": '<script>alert("constant")</script>',
    "lhs": "<img src=x onerror=alert(1)>",
    "closed_form": r"}</mtext><script>alert(2)</script>\href{javascript:alert(3)}{x}\text{",
    "status_reason": "<b onmouseover=alert(4)>bold</b>",
    "value": "<iframe src=//evil.example></iframe>",
    "version": "<script>alert(5)</script>",
    "certificate": {"format": "<script>alert(6)</script>", "base": {"theorem": "</pre><script>alert(7)</script>"}},
}
# what must never reach a page as markup
RAW = ("<script", "<img", "<iframe", "<b onmouseover", '="javascript:', "=javascript:")


def doctor(db) -> dict[str, int]:
    """Rewrite texts of the catalog through SQL, as a received catalog might hold them; returns the ids."""
    con = sqlite3.connect(db)
    try:
        tan_id = con.execute("SELECT id FROM constants WHERE text = 'tan(1)'").fetchone()[0]
        e_id = con.execute("SELECT id FROM constants WHERE text = 'e'").fetchone()[0]
        con.execute("UPDATE constants SET text = ? WHERE id = ?", (HOSTILE["constant"], tan_id))
        victim = con.execute("SELECT min(id) FROM conjectures WHERE constant_id = ?", (e_id,)).fetchone()[0]
        con.execute(
            "UPDATE conjectures SET lhs = ?, closed_form = ?, status_reason = ?, value = ?, polynomials = '[]', "
            "certificate = ? WHERE id = ?",
            (HOSTILE["lhs"], HOSTILE["closed_form"], HOSTILE["status_reason"], HOSTILE["value"],
             json.dumps(HOSTILE["certificate"]), victim),
        )
        tan_formula = con.execute("SELECT min(id) FROM conjectures WHERE constant_id = ?", (tan_id,)).fetchone()[0]
        con.execute("UPDATE searches SET esma_version = ?", (HOSTILE["version"],))
        con.commit()
    finally:
        con.close()
    return {"e": e_id, "tan": tan_id, "victim": victim, "tan_formula": tan_formula}


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_hostile_catalog_texts_render_as_text(catalog_copy):
    ids = doctor(catalog_copy)
    with TestClient(create_app(str(catalog_copy))) as client:
        families = [client.get(f"/formulas/{ids[k]}?format=json").json()["family"]["id"]
                    for k in ("victim", "tan_formula")]
        urls = ["/", f"/constants/{ids['e']}", f"/constants/{ids['tan']}", f"/formulas/{ids['victim']}",
                f"/formulas/{ids['tan_formula']}", *(f"/families/{f}" for f in families), "/searches"]
        seen = ""
        for url in urls:
            r = client.get(url)
            assert r.status_code == 200, (url, r.text[-500:])
            low = r.text.lower()
            for raw in RAW:
                assert raw not in low, (url, raw)
            seen += r.text
        # and each hostile text is there, escaped, for the reader to see
        assert "&lt;script&gt;alert(&#34;constant&#34;)&lt;/script&gt;" in seen
        assert "&lt;img src=x onerror=alert(1)&gt;" in seen
        assert "&lt;b onmouseover=alert(4)&gt;bold&lt;/b&gt;" in seen
        assert "&lt;iframe src=//evil.example&gt;&lt;/iframe&gt;" in seen
        assert "&lt;script&gt;alert(5)&lt;/script&gt;" in seen
        # the certificate: escaped JSON, its DESIGN 8 field names highlighted
        formula = client.get(f"/formulas/{ids['victim']}").text
        key = '<span class="cert-key">&#34;format&#34;</span>'
        assert f"{key}: &#34;&lt;script&gt;alert(6)&lt;/script&gt;&#34;" in formula
        assert '<span class="cert-key">&#34;theorem&#34;</span>' in formula
        # JSON carries the texts as they are (JSON is data, not markup)
        doc = client.get(f"/formulas/{ids['victim']}?format=json").json()
        assert doc["conjecture"]["lhs"] == HOSTILE["lhs"] and doc["certificate"] == HOSTILE["certificate"]
        assert client.get(f"/constants/{ids['tan']}?format=json").json()["constant"]["text"] == HOSTILE["constant"]


def test_the_export_of_a_hostile_catalog_escapes_it_too(catalog_copy, tmp_path):
    from esma.cli.web.commands import export_html

    doctor(catalog_copy)
    out = tmp_path / "hostile.html"
    export_html(str(catalog_copy), out, all_formulas=True)
    low = out.read_text(encoding="utf-8").lower()
    for raw in RAW:
        assert raw not in low, raw
    assert "&lt;img src=x onerror=alert(1)&gt;" in low


def test_serving_never_writes_the_catalog(catalog_copy):
    before = _digest(catalog_copy)
    with TestClient(create_app(str(catalog_copy))) as client:
        for url in ("/", "/constants/1", "/families/1", "/formulas/1", "/formulas/2?digits=50", "/searches"):
            assert client.get(url).status_code in (200, 404)
    assert _digest(catalog_copy) == before
    assert not catalog_copy.with_name(catalog_copy.name + "-journal").exists()


def test_the_web_catalog_is_opened_read_only(catalog_copy):
    from esma.db import Catalog

    with Catalog.open_read_only(catalog_copy) as cat:
        assert cat.get(1) is not None
        with pytest.raises(Exception, match=r"readonly|read-only|read only"):
            cat.start_search("pi", {"x": 1}, chunks_total=1, esma_version="0")


def test_an_older_schema_is_refused_with_one_line(catalog_copy, tmp_path):
    from esma.db import downgrade, make_engine

    engine = make_engine(str(catalog_copy))
    downgrade(engine, "0001")
    engine.dispose()
    before = _digest(catalog_copy)
    with pytest.raises(ValueError, match=r"older schema 0001.*run any esma command on it once to migrate"):
        create_app(str(catalog_copy))
    for args in (["serve", "--port", "9"], ["export", "--format", "html", "--output", str(tmp_path / "x.html")]):
        res = run_esma(*args, "--db", str(catalog_copy), cwd=tmp_path)
        assert res.returncode == 2, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1 and "run any esma command" in res.stderr
    assert _digest(catalog_copy) == before  # refused, not migrated


def test_a_missing_catalog_is_bad_input(tmp_path):
    for args in (["serve"], ["export", "--format", "html", "--output", str(tmp_path / "x.html")]):
        res = run_esma(*args, "--db", str(tmp_path / "nothing.sqlite"), cwd=tmp_path)
        assert res.returncode == 2 and res.stderr.count("\n") == 1 and "nothing.sqlite" in res.stderr
    assert not (tmp_path / "nothing.sqlite").exists()  # a read-only open creates nothing


def test_a_broken_record_is_skipped_not_a_500(catalog_copy, capsys):
    con = sqlite3.connect(catalog_copy)
    con.execute("UPDATE conjectures SET terms = 'not json' WHERE id = 2")
    con.commit()
    con.close()
    with TestClient(create_app(str(catalog_copy)), raise_server_exceptions=False) as client:
        r = client.get("/formulas/2")
        assert r.status_code == 404 and "Traceback" not in r.text
        doc = client.get("/formulas/2?format=json").json()
        assert doc["error"]["status"] == 404 and "\n" not in doc["error"]["message"]
        assert client.get("/formulas/3").status_code == 200  # the rest still serves
    # the server's log (stderr) says which formula was skipped and why, once
    assert capsys.readouterr().err.count("esma: formula #2 skipped: its terms are not a list of integers\n") == 1


def test_serving_off_loopback_warns_on_stderr(web_catalog, tmp_path):
    with served(web_catalog, tmp_path, host="0.0.0.0") as (base, proc):
        import urllib.request

        with urllib.request.urlopen(base + "/?format=json", timeout=10) as r:
            assert json.load(r)["constants"]
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert "warning: serving on 0.0.0.0, not loopback" in err


def test_bad_port_is_a_usage_error(web_catalog, tmp_path):
    res = run_esma("serve", "--db", str(web_catalog), "--port", "70000", cwd=tmp_path)
    assert res.returncode == 2 and "70000" in res.stderr


@pytest.mark.parametrize(("option", "value"), [("--plot-timeout", "0.1"), ("--plot-timeout", "601"),
                                               ("--plot-workers", "0"), ("--plot-workers", "17")])
def test_plot_pool_options_beyond_their_bounds_are_usage_errors(web_catalog, tmp_path, option, value):
    res = run_esma("serve", "--db", str(web_catalog), option, value, cwd=tmp_path)
    assert res.returncode == 2 and option in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_the_plot_pool_refuses_settings_beyond_its_bounds(web_catalog):
    with pytest.raises(ValueError, match=r"Argument 'workers' must be an integer between 1 and 16, not 0"):
        create_app(str(web_catalog), plot_workers=0)
    with pytest.raises(ValueError, match=r"Argument 'timeout' must be a number of seconds between 0.5 and 600"):
        create_app(str(web_catalog), plot_timeout=float("nan"))
