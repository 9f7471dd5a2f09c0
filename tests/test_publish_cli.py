"""``flowcase publish`` against the sandbox: publishes, is idempotent, never shows the token, clear exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowcase.cli import main
from flowcase.sandbox.testing import RunningSandbox

EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "login.yaml")


pytestmark = pytest.mark.sandbox(setup=True)  # the shared `sb` fixture (conftest.py): a site set up for publishing


def invoke(args: list[str], sb: RunningSandbox, token: str | None = None) -> tuple[int, str]:
    env = {"FLOWCASE_JIRA_EMAIL": sb.email, "FLOWCASE_JIRA_TOKEN": token if token is not None else sb.api_token}
    result = CliRunner().invoke(main, args, env=env)
    return result.exit_code, result.output


def test_publish_then_republish(sb: RunningSandbox) -> None:
    args = ["publish", EXAMPLE, "--jira", sb.base_url, "--project", "DEMO", "--story", "DEMO-2", "-q"]
    code, out = invoke(args, sb)
    assert code == 0, out
    match = re.search(r"(\d+) test\(s\): (\d+) created, 0 updated, 0 unchanged", out)
    assert match and match.group(1) == match.group(2) and int(match.group(1)) > 3
    sb.clear_calls()
    code, out = invoke(args, sb)
    assert code == 0, out
    assert f"{match.group(1)} unchanged" in out and "0 created" in out and "0 create call(s)" in out
    assert sb.count_calls("POST", "/rest/api/3/issue/bulk") == 0
    assert sb.api_token not in out


def test_usage_and_service_errors(sb: RunningSandbox, tmp_path: Path) -> None:
    base = ["publish", EXAMPLE, "--project", "DEMO", "--story", "DEMO-1"]
    code, out = invoke([*base, "--jira", f"http://me:{sb.api_token}@127.0.0.1:1"], sb)
    assert code == 2 and "must not carry credentials" in out and sb.api_token not in out
    code, out = invoke([*base, "--jira", sb.base_url + "/?token=x"], sb)
    assert code == 2
    code, out = invoke([*base, "--jira", sb.base_url], sb, token="")
    assert code == 2 and "credentials missing" in out
    code, out = invoke(["publish", EXAMPLE, "--jira", sb.base_url, "--project", "DEMO", "--story", "nope"], sb)
    assert code == 2 and "not an issue key" in out
    code, out = invoke([*base, "--jira", sb.base_url], sb, token="wrong-token-123")
    assert code == 3 and "401" in out and "wrong-token-123" not in out and "Traceback" not in out
    code, out = invoke(["publish", EXAMPLE, "--jira", sb.base_url, "--project", "DEMO", "--story", "DEMO-99999"], sb)
    assert code == 3 and "DEMO-99999 does not exist" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("flowcase: '1'\nid: x\nworkflows: []\n")
    code, out = invoke(["publish", str(bad), "--jira", sb.base_url, "--project", "DEMO", "--story", "DEMO-1"], sb)
    assert code == 1 and "Traceback" not in out


def test_save_model_stores_it_once_and_refuses_to_overwrite_another_version(sb: RunningSandbox, tmp_path: Path) -> None:
    opts = ["--jira", sb.base_url, "--project", "DEMO", "--story", "DEMO-3", "-q", "--save-model"]
    code, out = invoke(["publish", EXAMPLE, *opts], sb)
    assert code == 0 and "DEMO-3: model saved as revision 1" in out, out
    code, out = invoke(["publish", EXAMPLE, *opts], sb)
    assert code == 0 and "already this one (revision 1)" in out
    edited = tmp_path / "login.yaml"
    edited.write_text(Path(EXAMPLE).read_text().replace("name: Sign-in with lockout", "name: Sign-in, edited"))
    code, out = invoke(["publish", str(edited), *opts], sb)
    assert code == 4 and "changed by someone else" in out and "now revision 1" in out
    code, out = invoke(["publish", str(edited), *opts, "--expect-revision", "1"], sb)
    assert code == 0 and "model saved as revision 2" in out


def test_bad_project_settings_are_a_service_error_not_a_usage_error(sb: RunningSandbox) -> None:
    """Settings stored in Jira that Jira would refuse exit 3 as documented (they were caught as usage errors)."""
    import httpx

    url = f"{sb.base_url}/rest/api/3/project/DEMO/properties/flowcase-settings"
    httpx.put(url, json={"labels": ["has space"]}, auth=sb.basic_auth()).raise_for_status()
    try:
        code, out = invoke(["publish", EXAMPLE, "--jira", sb.base_url, "--project", "DEMO", "--story", "DEMO-3"], sb)
    finally:
        httpx.delete(url, auth=sb.basic_auth())
    assert code == 3, out
    assert "project settings:" in out and "Traceback" not in out


def test_the_target_comes_from_the_project_setting_or_the_flag(sb: RunningSandbox) -> None:
    """Plain Jira issues stay the default; a project set to Zephyr Scale (or ``--target``) needs its credentials,
    and says which, before anything is written."""
    import httpx

    url = f"{sb.base_url}/rest/api/3/project/DEMO/properties/flowcase-settings"
    base = ["publish", EXAMPLE, "--jira", sb.base_url, "--project", "DEMO", "--story", "DEMO-3", "-q"]
    httpx.put(url, json={"target": "zephyr"}, auth=sb.basic_auth()).raise_for_status()
    sb.clear_calls()
    try:
        code, out = invoke(base, sb)
        assert code == 3 and "Zephyr Scale needs an API token" in out, out
        assert sb.count_calls("POST", "/rest/api/3/issue/bulk") == 0
        code, out = invoke([*base, "--target", "jira"], sb)  # the flag overrides the project's setting
        assert code == 0 and "test(s)" in out, out
    finally:
        httpx.delete(url, auth=sb.basic_auth())
    code, out = invoke([*base, "--target", "xray"], sb)
    assert code == 3 and "Xray needs a client id and secret" in out, out
    code, out = invoke([*base, "--target", "testrail"], sb)
    assert code == 2
