"""The edges of ``esma serve`` over real HTTP: ids are ASCII digits, every numeric parameter has a bound and is
refused with 400 beyond it (never a 500 with a traceback), and every answer carries a Content-Security-Policy
as strict as the pages allow (no script at all; the one inline style block allowed by its hash)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.error
import urllib.request
from html import unescape

import pytest
from web_helpers import served


def _get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def server(web_catalog, tmp_path_factory):
    with served(web_catalog, tmp_path_factory.mktemp("edges")) as (base, proc):
        status, _, body = _get(base + "/?format=json")
        assert status == 200, body[-300:]
        e = next(c for c in json.loads(body)["constants"] if c["text"] == "e")
        fam = json.loads(_get(f"{base}/constants/{e['id']}?format=json")[2])["families"][0]
        yield base, {"cid": e["id"], "fid": fam["id"], "rid": fam["representative_id"]}, proc


@pytest.mark.parametrize(
    "path",
    ["/constants/²", "/formulas/²", "/formulas/²/plot.svg", "/families/١", "/formulas/١/plot.svg",
     "/constants/%EF%BC%91", "/formulas/1%C2%B2"],
)
def test_ids_are_ascii_digits(server, path):
    base, _, proc = server
    status, _, body = _get(base + urllib.request.quote(path, safe="/%"))
    assert status in (400, 404) and "Traceback" not in body, (status, body[-300:])
    assert proc.poll() is None


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/constants/{cid}?min_digits=100000000000000000000000", "parameter 'min_digits' must be between 0 and"),
        ("/constants/{cid}?min_digits=10**23", "parameter 'min_digits' must be an integer"),
        ("/constants/{cid}?min_digits=٣", "parameter 'min_digits' must be an integer"),
        ("/constants/{cid}?min_gain=1e300", "parameter 'min_gain' must be between 0 and"),
        ("/constants/{cid}?min_gain=١", "parameter 'min_gain' must be a number"),
        ("/constants/{cid}?page=1_0", "parameter 'page' must be an integer"),
        ("/constants/{cid}?page=10000000000", "parameter 'page' must be between 1 and"),
        ("/families/{fid}?per_page=٢", "parameter 'per_page' must be an integer"),
        ("/formulas/{rid}?digits=5001", "parameter 'digits' must be between 1 and 5000"),
        ("/formulas/{rid}?digits=٣٠٠", "parameter 'digits' must be an integer"),
        ("/formulas/{rid}/plot.svg?digits=1_000", "parameter 'digits' must be an integer"),
        ("/formulas/{rid}/plot.svg?digits=" + "9" * 5000, "parameter 'digits' must be an integer"),
    ],
)
def test_numeric_parameters_beyond_their_bounds_get_400(server, path, message):
    base, ids, proc = server
    status, _, body = _get(base + urllib.request.quote(path.format(**ids), safe="/?=&%"))
    assert status == 400 and message in unescape(body) and "Traceback" not in body, (status, body[-300:])
    assert proc.poll() is None


def _policy(headers: dict[str, str]) -> dict[str, list[str]]:
    csp = {k.lower(): v for k, v in headers.items()}.get("content-security-policy")
    assert csp, "no Content-Security-Policy header"
    return {d.split()[0]: d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d}


def test_every_answer_carries_a_strict_content_security_policy(server):
    base, ids, _ = server
    paths = ["/", "/constants/{cid}", "/families/{fid}", "/formulas/{rid}", "/searches", "/formulas/{rid}/plot.svg",
             "/nowhere", "/constants/{cid}?kind=spiral", "/?format=json", "/assets/math-font.ttf"]
    for path in paths:
        status, headers, body = _get(base + path.format(**ids))
        assert status in (200, 400, 404), (path, status)
        policy = _policy(headers)
        assert policy["default-src"] == ["'none'"], policy
        assert "script-src" not in policy  # no script of any kind: default-src 'none' applies
        assert policy.get("frame-ancestors") == ["'none'"] and policy.get("base-uri") == ["'none'"]
        assert policy.get("form-action") == ["'self'"]
        assert not any("'unsafe-" in s or s == "*" for v in policy.values() for s in v), policy
        if headers.get("Content-Type", "").startswith("text/html"):
            assert policy["font-src"] == ["'self'"]
            # each inline style block is allowed by its hash, nothing else inline: no style attribute
            blocks = re.findall(r"<style>(.*?)</style>", body, flags=re.S)
            assert blocks, path
            for block in blocks:
                digest = base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode("ascii")
                assert f"'sha256-{digest}'" in policy["style-src"], path
            assert not re.search(r"<[^>]*\sstyle\s*=", body), path
            assert "<script" not in body.lower()
