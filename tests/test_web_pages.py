"""Pages: the standalone sign-in, the page shells, static files and the vendored libraries' checksums."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from flowcase.config import Settings
from flowcase.hosts.standalone import StandaloneHost
from flowcase.web.app import create_app
from flowcase.web.pages import all_js_url

TOKEN = "page-test-token-0123456789"
VENDOR = Path(__file__).resolve().parent.parent / "src" / "flowcase" / "web" / "static" / "vendor"


@pytest.fixture
def anonymous() -> TestClient:
    return TestClient(create_app(Settings(env="test"), hosts=[StandaloneHost(None, TOKEN)]), follow_redirects=False)


def test_pages_need_sign_in_and_home_redirects_to_login(anonymous: TestClient) -> None:
    assert anonymous.get("/app/editor").status_code == 401
    r = anonymous.get("/app/")
    assert r.status_code == 303 and r.headers["location"] == "/app/login"


def test_login_with_wrong_token_is_refused(anonymous: TestClient) -> None:
    r = anonymous.post("/app/login", data={"token": "nope", "next": "/app/editor"})
    assert r.status_code == 401
    assert "not the access token" in r.text
    assert "flowcase_local" not in r.cookies


def test_login_sets_strict_httponly_cookie_and_drops_token_from_url(anonymous: TestClient) -> None:
    r = anonymous.get(f"/app/login?token={TOKEN}&next=/app/issue/DEMO-1")
    assert r.status_code == 303
    assert r.headers["location"] == "/app/issue/DEMO-1"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = anonymous.get("/app/issue/DEMO-1")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    context = json.loads(page.text.split('id="flowcase-context">')[1].split("</script>")[0])
    assert context["issueKey"] == "DEMO-1" and context["projectKey"] == "DEMO" and context["mode"] == "standalone"


def test_login_never_redirects_off_site(anonymous: TestClient) -> None:
    r = anonymous.get(f"/app/login?token={TOKEN}&next=//evil.example/")
    assert r.headers["location"] == "/app/"


def test_editor_page_loads_vendored_bpmn_js_and_no_cdn(anonymous: TestClient) -> None:
    anonymous.cookies.set("flowcase_local", TOKEN)
    html = anonymous.get("/app/editor/DEMO-1").text
    assert "/static/vendor/bpmn-js-18.31.1/bpmn-modeler.production.min.js" in html
    assert "atl-paas.net" not in html and "all.js" not in html
    assert anonymous.get("/static/vendor/bpmn-js-18.31.1/bpmn-modeler.production.min.js").status_code == 200
    assert anonymous.get("/static/js/editor.js").status_code == 200


def test_bad_issue_keys_are_refused(anonymous: TestClient) -> None:
    anonymous.cookies.set("flowcase_local", TOKEN)
    assert anonymous.get("/app/issue/not-a-key").status_code == 400
    assert anonymous.get("/app/project/lower").status_code == 400


def test_connect_pages_need_a_jira_token(anonymous: TestClient) -> None:
    assert anonymous.get("/connect/issue-panel?issueKey=DEMO-1&projectKey=DEMO").status_code == 401


def test_all_js_comes_from_the_cdn_for_jira_cloud_and_from_the_site_otherwise() -> None:
    assert all_js_url("https://acme.atlassian.net") == "https://connect-cdn.atl-paas.net/all.js"
    assert all_js_url("http://127.0.0.1:8900/") == "http://127.0.0.1:8900/atlassian-connect/all.js"


def test_vendored_files_match_their_recorded_checksums() -> None:
    record = json.loads((VENDOR / "vendor.json").read_text())
    packages = {p["package"]: p for p in record["packages"]}
    assert {"bpmn-js", "@atlaskit/css-reset", "@atlaskit/reduced-ui-pack"} <= set(packages)
    for package in packages.values():
        assert package["integrity"].startswith("sha512-")
        assert any(path.endswith("LICENSE") for path in package["files"])
        for path, digest in package["files"].items():
            assert hashlib.sha256((VENDOR / path).read_bytes()).hexdigest() == digest, path


def test_bpmn_js_licence_keeps_the_watermark_clause() -> None:
    licence = (VENDOR / "bpmn-js-18.31.1" / "LICENSE").read_text()
    assert "watermark" in licence and "must stay fully visible" in " ".join(licence.split())


def test_static_urls_are_content_hashed_and_follow_the_mount_point() -> None:
    import hashlib

    from flowcase.web.static_urls import FORGE, STATIC, StaticUrls, for_root_path

    digest = hashlib.sha256((STATIC / "css" / "app.css").read_bytes()).hexdigest()[:12]
    assert StaticUrls()("css/app.css") == f"/static/css/app.css?v={digest}"
    assert for_root_path("/flowcase/")("css/app.css") == f"/flowcase/static/css/app.css?v={digest}"
    assert FORGE("css/app.css") == f"./static/css/app.css?v={digest}"
    assert 'data-flowcase-page="./editor.js?v=' in FORGE.page_script("editor.js")
    import pytest

    with pytest.raises(FileNotFoundError):
        StaticUrls()("../app.py")


def test_templates_name_static_files_only_through_the_builder() -> None:
    from pathlib import Path

    templates = Path(__file__).resolve().parents[1] / "src" / "flowcase" / "web" / "templates"
    for template in templates.glob("*.html"):
        assert "/static/" not in template.read_text(encoding="utf-8"), template.name


def test_a_page_script_hash_covers_every_module_it_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowcase.web import static_urls

    js = tmp_path / "js"
    js.mkdir()
    (js / "page.js").write_text("import { a } from './part.js';\nexport { b } from './other.js';\n", encoding="utf-8")
    (js / "part.js").write_text("import { c } from './deep.js';\nexport const a = 1;\n", encoding="utf-8")
    (js / "other.js").write_text("export const b = 2;\n", encoding="utf-8")
    (js / "deep.js").write_text("export const c = 3;\n", encoding="utf-8")
    monkeypatch.setattr(static_urls, "STATIC", tmp_path)
    static_urls.content_hash.cache_clear()
    try:
        assert static_urls._imports("js/page.js") == {"js/part.js", "js/other.js", "js/deep.js"}
        before = static_urls.content_hash("js/page.js")
        static_urls.content_hash.cache_clear()
        (js / "deep.js").write_text("export const c = 4;\n", encoding="utf-8")
        assert static_urls.content_hash("js/page.js") != before  # a module two imports down changed
    finally:
        static_urls.content_hash.cache_clear()


def test_the_editor_modules_are_served_and_bundled_for_forge(tmp_path: Path) -> None:
    from flowcase.web.forge_bundle import build
    from flowcase.web.static_urls import STATIC, _imports

    parts = {"js/editor-history.js", "js/editor-tables.js", "js/editor-problems.js", "js/editor-files.js"}
    assert parts <= _imports("js/editor.js")
    (editor,) = [f for f in build(tmp_path) if f.name == "editor"]
    for part in parts:
        assert (editor / "static" / part).read_bytes() == (STATIC / part).read_bytes()
