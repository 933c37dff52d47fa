# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the live contract check (tools/live_check.py): shapes, comparison, scrubbing, and runs against emulators."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

LIVE_CHECK_PATH = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools", "live_check.py"))
_SPEC = importlib.util.spec_from_file_location("live_check", LIVE_CHECK_PATH)
live_check = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(live_check)

KEY = "live-check-test-key-8c1f2e"
SECRET = "live-check-test-secret-5d4b9a"
HAS_PROFILES = live_check.emulator_has_profiles()
NO_PROFILES = "the emulator has no profile switch yet ('profile' is not in DEFAULT_CONFIG)"


@pytest.fixture(autouse=True)
def _no_sigterm_handler(monkeypatch):
    """main() would install its SIGTERM handler in the test process."""
    monkeypatch.setattr(live_check, "_install_sigterm_handler", lambda: None)
    monkeypatch.delenv("NOVITA_API_KEY", raising=False)
    monkeypatch.delenv("NOVITA_API_BASE_URL", raising=False)
    monkeypatch.delenv(live_check.SECRET_VALUE_ENV, raising=False)


@pytest.fixture(name="live_emulator")
def fixture_live_emulator():
    """A factory of seeded in-process emulators standing in for the live API; all stopped at the end."""
    started = []

    def start(profile="strict", **config):
        if HAS_PROFILES:
            config["profile"] = profile
        emulator = live_check.load_emulator_module().Emulator(api_key=KEY, **config)
        url = emulator.start(host="127.0.0.1", port=0)
        started.append(emulator)
        live_check.seed_emulator(url)
        return url

    yield start
    for emulator in started:
        emulator.stop()


def answer(status, body=None, transport_error=None):
    raw = b"" if body is None else json.dumps(body).encode("utf-8")
    return live_check.Answer(status, 5, raw, transport_error)


def kinds(findings):
    return [(item["kind"], item["path"]) for item in findings.differences]


# ---------------------------------------------------------------------------------------------- shapes

def test_shape_of_nested_objects_and_arrays():
    value = {"endpoint": {"id": "ab12", "workerConfig": {"minNum": 0, "freeTimeout": "300"}, "ports": [{"port": 8000}],
                          "healthy": True, "ratio": 0.5, "clusterID": None, "envs": []}}
    assert live_check.shape_of(value) == {"endpoint": {
        "id": "string", "workerConfig": {"minNum": "integer", "freeTimeout": "string(numeric)"}, "ports": [{"port": "integer"}],
        "healthy": "boolean", "ratio": "number", "clusterID": "null", "envs": []}}


@pytest.mark.parametrize("text, shape", [("300", "string(numeric)"), ("-2", "string(numeric)"), ("0.07", "string(numeric)"),
                                         (" 42 ", "string(numeric)"), ("", "string"), ("12a", "string"), ("1e5", "string"),
                                         ("serving", "string")])
def test_shape_of_numeric_strings(text, shape):
    assert live_check.shape_of(text) == shape


def test_shape_of_array_merges_items_and_records_mixed_types_sorted():
    value = [{"a": 1, "port": "8000"}, {"a": "x", "b": None, "port": 8000}, {"a": True, "nested": {"k": 1}}, {"nested": {"j": "v"}}]
    assert live_check.shape_of(value) == [{"a": ["boolean", "integer", "string"], "b": "null", "port": ["integer", "string(numeric)"],
                                           "nested": {"k": "integer", "j": "string"}}]
    assert live_check.shape_of([1, "x", 2]) == [["integer", "string"]]
    assert live_check.shape_of([[], [1]]) == [["integer"]]
    assert live_check.shape_of([{"a": 1}, "text"]) == [["object", "string"]]
    assert live_check.shape_of([]) == []


def test_shape_of_never_holds_a_value():
    text = json.dumps(live_check.shape_of({"data": [{"name": "secret-name", "password": "hunter2-password", "size": 100}]}))
    assert "secret-name" not in text and "hunter2-password" not in text and "100" not in text


# ------------------------------------------------------------------------------------------ comparison

def compare(live, emulator):
    findings = live_check.Findings()
    live_check.compare_shapes("req", live_check.shape_of(live), live_check.shape_of(emulator), findings)
    return findings


def test_compare_same_shapes_finds_nothing():
    findings = compare({"endpoint": {"id": "1", "ports": [{"port": "80"}]}}, {"endpoint": {"id": "abc", "ports": [{"port": "8000"}]}})
    assert not findings.differences and not findings.not_comparable


def test_compare_missing_and_extra_fields():
    findings = compare({"endpoint": {"id": "a", "createdAt": 1700000000}}, {"endpoint": {"id": "a", "log": ""}})
    assert findings.differences == [
        {"request": "req", "kind": "missing field", "path": "$.endpoint.createdAt", "live": "integer", "emulator": None},
        {"request": "req", "kind": "extra field", "path": "$.endpoint.log", "live": None, "emulator": "string"},
    ]


def test_compare_type_differs():
    findings = compare({"workerConfig": {"freeTimeout": 300}, "healthy": None}, {"workerConfig": {"freeTimeout": "300"}, "healthy": {"path": "/"}})
    assert kinds(findings) == [("type differs", "$.healthy"), ("type differs", "$.workerConfig.freeTimeout")]
    assert findings.differences[1]["live"] == "integer" and findings.differences[1]["emulator"] == "string(numeric)"


def test_compare_numeric_string_and_string_are_the_same_type():
    assert not compare({"name": "123", "envs": [{"value": "1"}, {"value": "x"}]}, {"name": "chat", "envs": [{"value": "info"}]}).differences
    assert kinds(compare({"port": ["80", 80]}, {"port": ["80"]})) == [("type differs", "$.port[]")]


def test_compare_wrapping_differs():
    findings = compare({"data": [{"id": "x"}]}, {"endpoints": [{"id": "x"}], "total": 1})
    assert findings.differences == [{"request": "req", "kind": "wrapping differs", "path": "$", "live": ["data"], "emulator": ["endpoints", "total"]}]
    assert kinds(compare([{"id": "x"}], {"endpoints": []})) == [("type differs", "$")]


def test_compare_empty_live_array_is_not_comparable():
    findings = compare({"endpoints": [], "total": 0}, {"endpoints": [{"id": "x"}], "total": 2})
    assert not findings.differences
    assert findings.not_comparable == [{"request": "req", "path": "$.endpoints[]", "why": "the live array is empty: no item shape"}]
    assert compare({"data": [{"id": "x"}]}, {"data": []}).not_comparable[0]["path"] == "$.data[]"


def test_compare_optional_field_the_live_data_lacks_is_not_comparable():
    findings = compare({"endpoints": [{"id": "a", "workerConfig": {"minNum": 0}}]},
                       {"endpoints": [{"id": "a", "clusterID": "c", "workerConfig": {"minNum": 0, "cudaVersion": "12.4"}}]})
    assert not findings.differences
    assert [item["path"] for item in findings.not_comparable] == ["$.endpoints[].clusterID", "$.endpoints[].workerConfig.cudaVersion"]


def test_compare_answers_status_and_reason():
    findings = live_check.Findings()
    live = answer(400, {"code": 400, "reason": "SERVERLESS_ENDPOINT_NOT_FOUND", "message": "not found"})
    emulator = answer(404, {"code": 404, "message": "endpoint x not found"})
    live_check.compare_answers("get_unknown", live, emulator, findings)
    assert kinds(findings) == [("status differs", "$"), ("reason differs", "$"), ("missing field", "$.reason")]
    assert findings.differences[0]["live"] == 400 and findings.differences[0]["emulator"] == 404
    assert findings.differences[1]["live"] == {"code": 400, "reason": "SERVERLESS_ENDPOINT_NOT_FOUND"}
    assert findings.differences[1]["emulator"] == {"code": 404, "reason": None}


def test_compare_answers_error_under_error_key():
    assert answer(403, {"error": {"code": "FORBIDDEN", "message": "no"}}).error_fields() == {"code": "FORBIDDEN", "reason": None}


def test_compare_answers_success_against_error_compares_status_only():
    findings = live_check.Findings()
    live_check.compare_answers("list_no_paging", answer(200, {"endpoints": [], "total": 0}), answer(400, {"code": 400, "message": "m"}), findings)
    assert kinds(findings) == [("status differs", "$")]


def test_compare_answers_not_comparable_without_a_live_answer():
    findings = live_check.Findings()
    live_check.compare_answers("limits", answer(None, transport_error="URLError: timed out"), answer(200, {}), findings)
    live_check.compare_answers("get_existing", None, answer(200, {}), findings)
    assert not findings.differences
    assert [item["request"] for item in findings.not_comparable] == ["limits", "get_existing"]


def test_compare_answers_body_kinds():
    findings = live_check.Findings()
    live_check.compare_answers("limits", live_check.Answer(200, 1, b"<html>maintenance</html>"), answer(200, {"minWorkerNum": 0}), findings)
    assert findings.differences == [{"request": "limits", "kind": "type differs", "path": "$", "live": "(text body)", "emulator": {"minWorkerNum": "integer"}}]


def test_paging_differs():
    def listing(*ids, total=3):
        return answer(200, {"endpoints": [{"id": endpoint_id} for endpoint_id in ids], "total": total})

    one_based = {"list_page_0": listing(), "list_page_1": listing("a", "b", "c"), "list_page_size_1000": listing("a", "b", "c"),
                 "list_no_paging": listing("a", "b", "c")}
    clamped = dict(one_based, list_page_0=listing("a", "b", "c"))
    live, emulator = live_check.paging_facts(one_based), live_check.paging_facts(clamped)
    assert live == {"page_0_same_as_page_1": False, "no_paging_same_as_page_1": True, "page_size_1000_holds_total": True, "totals_agree": True}
    findings = live_check.Findings()
    live_check.compare_paging(live, emulator, findings)
    assert findings.differences == [{"request": "paging", "kind": "paging differs", "path": "paging.page_0_same_as_page_1", "live": False, "emulator": True}]
    empty = {name: listing(total=0) for name in live_check.LIST_REQUESTS}
    findings = live_check.Findings()
    live_check.compare_paging(live_check.paging_facts(empty), emulator, findings)
    assert not findings.differences and len(findings.not_comparable) == 3  # totals_agree: 0 everywhere


# ------------------------------------------------------------------------------------------- scrubbing

def test_scrub_replaces_secrets_everywhere():
    report = {"msg": f"Bearer {KEY} rejected", KEY: [SECRET, {"nested": f"x{SECRET}y", "n": 3}], "ok": None, "t": (SECRET,)}
    scrubbed = live_check.scrub(report, [KEY, SECRET, ""])
    text = json.dumps(scrubbed)
    assert KEY not in text and SECRET not in text
    assert scrubbed["msg"] == "Bearer <redacted> rejected"
    assert scrubbed["<redacted>"] == ["<redacted>", {"nested": "x<redacted>y", "n": 3}]


def test_scrub_longest_secret_first():
    assert live_check.scrub("abc-secret-long", ["abc", "abc-secret-long"]) == "<redacted>"


def test_write_report_scrubs_and_never_writes_a_secret(tmp_path):
    path = tmp_path / "sub" / "report.json"
    report = {"differences": [{"live": {"reason": f"key {KEY} invalid"}}], "write_run": {"steps": [{"msg": f"env {SECRET}"}]}}
    live_check.write_report(path, report, [KEY, SECRET])
    text = path.read_text(encoding="utf-8")
    assert KEY not in text and SECRET not in text and "<redacted>" in text


def test_collect_secret_values_from_live_answers():
    data = {"data": [{"id": "auth-1", "name": "hub", "username": "me", "password": "pw-123456"}],
            "endpoints": [{"envs": [{"key": "TOKEN", "value": "tok-abcdef"}, {"key": "A", "value": "1"}], "policy": {"value": "60"}}]}
    assert live_check.collect_secret_values(data, set()) == {"pw-123456", "tok-abcdef"}


def test_safe_base_url_drops_user_info():
    assert live_check.safe_base_url("https://user:pass@api.example.invalid/base?x=1#f") == "https://api.example.invalid/base"


# -------------------------------------------------------------------------------------- write helpers

def request(method, path, **extra):
    return dict({"method": method, "path": path, "status": 200}, **extra)


def test_step_problems():
    reads = [request("GET", "/endpoints"), request("GET", "/endpoint/limit")]
    assert live_check.step_problems("create", {"changed": True}, reads + [request("POST", "/endpoint/create")]) == []
    assert live_check.step_problems("rerun", {"changed": False}, reads) == []
    assert live_check.step_problems("rerun", {"changed": True}, reads + [request("POST", "/endpoint/update")]) == [
        "expected changed=false", "expected 0 write requests, saw 1"]
    assert live_check.step_problems("check_mode", {"changed": True}, reads) == []
    assert live_check.step_problems("update", {"changed": True}, [request("POST", "/endpoint/update")] * 2) == [
        "expected 1 write request (/endpoint/update), saw 2"]
    assert live_check.step_problems("delete", {"changed": True, "failed": True}, []) == [
        "the module failed", "expected 1 write request (/endpoint/delete), saw 0"]
    assert live_check.step_problems("info_after_delete", {"changed": False, "endpoints_count": 1}, reads) == [
        "expected no endpoint with the deleted ID, got 1"]


def test_states_seen_drops_repeats():
    requests = [request("GET", "/endpoint", state=state) for state in ("creating", "creating", "serving")] + [request("GET", "/endpoints")]
    assert live_check.states_seen(requests) == ["creating", "serving"]


def test_recording_proxy_records_without_bodies(live_emulator):
    url = live_emulator()
    proxy = live_check.RecordingProxy(url).start()
    try:
        got = live_check.http_call(proxy.url, KEY, "GET", "/endpoint", {"id": live_check.SEED_ENDPOINTS[0]["id"]})
        assert got.ok and got.data["endpoint"]["name"] == "live-check-full"
        live_check.http_call(proxy.url, KEY, "GET", "/endpoint", {"id": "missing"})
        deleted = live_check.http_call(proxy.url, KEY, "POST", "/endpoint/delete", body={"name": live_check.SEED_ENDPOINTS[1]["id"]})
        assert deleted.ok
        wrong = live_check.http_call(proxy.url, "wrong", "GET", "/endpoints", {"pageSize": 5, "pageNum": 1})
        assert wrong.status in (401, 403)
    finally:
        proxy.stop()
    records = proxy.since(0)
    assert [(item["method"], item["path"], item["status"]) for item in records] == [
        ("GET", "/endpoint", 200), ("GET", "/endpoint", records[1]["status"]), ("POST", "/endpoint/delete", 200), ("GET", "/endpoints", wrong.status)]
    assert records[0]["state"] == "serving" and records[0]["query"] == {"id": "<value>"}
    assert records[1]["status"] in (400, 404) and records[1]["code"] == records[1]["status"]
    assert records[3]["query"] == {"pageSize": "5", "pageNum": "1"}
    assert KEY not in json.dumps(records) and "live-check-full" not in json.dumps(records)


@pytest.mark.parametrize("page_base", [0, 1])
def test_cleanup_by_name_finds_every_page_whatever_the_base(live_emulator, page_base):
    url = live_emulator(page_base=page_base)
    name = "novita-cloud-livecheck-0badc0de"
    filler = [{"name": f"other-{index}"} for index in range(230)]
    live_check.admin_call(url, "POST", "/seed", {"endpoints": filler[:120] + [{"name": name}] + filler[120:] + [{"name": name}]})
    assert len(live_check.list_all_endpoints(url, KEY)) == 234
    section, left = live_check.cleanup_by_name(url, KEY, name)
    assert section == {"listed": True, "found": 2, "already_deleting": 0, "left_behind": 0,
                       "delete_requests": [{"method": "POST", "path": "/endpoint/delete", "status": 200}] * 2}
    assert left == []
    names = [endpoint["name"] for endpoint in live_check.admin_call(url, "GET", "/endpoints")["endpoints"]]
    assert name not in names and len(names) == 232


def test_cleanup_when_the_list_cannot_be_read(live_emulator):
    url = live_emulator()
    section, left = live_check.cleanup_by_name(url, "wrong-key", "anything")
    assert left is None and section["listed"] is False


# ---------------------------------------------------------------------------------------------- runs

def test_missing_key_is_a_clear_error(tmp_path, capsys):
    assert live_check.main(["--report", str(tmp_path / "r.json")]) == 2
    assert "NOVITA_API_KEY is not set" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_unreachable_api_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NOVITA_API_KEY", KEY)
    assert live_check.main(["--base-url", "http://127.0.0.1:9", "--report", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert "no answer from http://127.0.0.1:9" in err and KEY not in err


def run_read_only(monkeypatch, tmp_path, url, *extra):
    monkeypatch.setenv("NOVITA_API_KEY", KEY)
    report_path = tmp_path / "report.json"
    status = live_check.main(["--base-url", url, "--report", str(report_path)] + list(extra))
    text = report_path.read_text(encoding="utf-8")
    return status, json.loads(text), text


@pytest.mark.skipif(not HAS_PROFILES, reason=NO_PROFILES)
@pytest.mark.parametrize("profile", ["strict", "documented"])
def test_read_only_against_the_same_profile_has_no_difference(monkeypatch, tmp_path, capsys, live_emulator, profile):
    status, report, text = run_read_only(monkeypatch, tmp_path, live_emulator(profile), "--profile", profile, "--expect-no-differences")
    assert status == 0
    assert report["differences"] == []
    assert report["profile"] == profile and report["mode"] == "read-only" and report["write_run"] is None
    assert [item["name"] for item in report["requests"]] == [name for name, _path, _query, _key in live_check.READ_REQUESTS]
    assert all(item["live"]["status"] is not None and item["emulator"]["status"] is not None for item in report["requests"])
    by_name = {item["name"]: item for item in report["requests"]}
    assert by_name["get_existing"]["query"] == {"id": live_check.EXISTING_ID}
    assert by_name["get_existing"]["live"]["shape"]["endpoint"]["workerConfig"]["freeTimeout"] == "string(numeric)"
    assert by_name["wrong_key"]["live"]["status"] in (401, 403)
    assert not report["not_comparable"]
    # The key, the registry passwords and env values of the "live" data never reach the report.
    for value in (KEY, "emulator-password-1", "nginx -g", "live-check-full", "cluster-1"):
        assert value not in text
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"live check: 11 requests, 0 differences (profile {profile}); report: {live_check.display_path(tmp_path / 'report.json')}"


@pytest.mark.skipif(not HAS_PROFILES, reason=NO_PROFILES)
def test_read_only_against_another_profile_reports_differences(monkeypatch, tmp_path, live_emulator):
    url = live_emulator("strict")
    status, report, _text = run_read_only(monkeypatch, tmp_path, url, "--profile", "documented")
    assert status == 0  # differences with a real API are findings
    found = {(item["request"], item["kind"]) for item in report["differences"]}
    assert {("get_unknown", "status differs"), ("get_unknown", "reason differs"), ("wrong_key", "status differs"),
            ("list_no_paging", "status differs")} <= found
    status, _report, _text = run_read_only(monkeypatch, tmp_path, url, "--profile", "documented", "--expect-no-differences")
    assert status == 1


@pytest.mark.skipif(not HAS_PROFILES, reason=NO_PROFILES)
def test_empty_account_is_not_comparable_not_different(monkeypatch, tmp_path):
    emulator = live_check.load_emulator_module().Emulator(api_key=KEY, profile="documented")
    url = emulator.start(host="127.0.0.1", port=0)
    try:
        status, report, _text = run_read_only(monkeypatch, tmp_path, url, "--expect-no-differences")
    finally:
        emulator.stop()
    assert status == 0 and report["differences"] == []
    assert {"request": "get_existing", "path": "$", "why": "not sent to the live API (no endpoint listed to read)"} in report["not_comparable"]
    assert {item["path"] for item in report["not_comparable"] if item["request"] == "list_page_1"} == {"$.endpoints[]"}
    assert report["summary"].startswith("live check: 10 requests, 0 differences (profile documented)")


@pytest.mark.skipif(not HAS_PROFILES, reason=NO_PROFILES)
def test_against_emulator_process(monkeypatch, tmp_path):
    monkeypatch.setenv("NOVITA_API_KEY", KEY)
    report_path = tmp_path / "report.json"
    assert live_check.main(["--against-emulator", "documented", "--report", str(report_path), "--expect-no-differences"]) == 0
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["against"] == "emulator process, profile documented" and report["profile"] == "documented"
    assert report["differences"] == [] and report["base_url"].startswith("http://127.0.0.1:")
    assert KEY not in report_path.read_text(encoding="utf-8")


@pytest.mark.skipif(not HAS_PROFILES, reason=NO_PROFILES)
def test_write_run_failed_create_skips_the_rest_and_cleans_up(monkeypatch, tmp_path, live_emulator):
    """The steps' orchestration without ansible: a create that happened but failed, then the cleanup by name."""
    url = live_emulator("documented")
    collections = tmp_path / "collections"
    (collections / "ansible_collections" / "novita" / "cloud").mkdir(parents=True)
    ran = []

    def fake_playbook(run, step, _work_dir, env):
        ran.append(step)
        assert env["NOVITA_API_BASE_URL"].startswith("http://127.0.0.1:") and env["NOVITA_API_BASE_URL"] != url
        assert env[live_check.PLAYBOOK_SECRET_ENV] == SECRET and env["NOVITA_API_KEY"] == KEY
        spec = {"name": run.name, "products": [{"id": "1"}], "rootfsSize": 100, "image": {"image": "nginx:alpine"}, "ports": [{"port": 80}],
                "workerConfig": {"minNum": 0, "maxNum": 1, "freeTimeout": 300, "maxConcurrent": 1, "gpuNum": 1},
                "policy": {"type": "queue", "value": 1}, "volumeMounts": [], "healthy": {"path": "/"},
                "envs": [{"key": live_check.SECRET_ENV_NAME, "value": SECRET}]}
        created = live_check.http_call(env["NOVITA_API_BASE_URL"], KEY, "POST", "/endpoint/create", body={"endpoint": spec})
        live_check.http_call(env["NOVITA_API_BASE_URL"], KEY, "GET", "/endpoint", {"id": created.data["id"]})
        return {"failed": True, "msg": f"timed out; key {KEY}, value {SECRET}"}

    monkeypatch.setattr(live_check.WriteRun, "_run_playbook", fake_playbook)
    monkeypatch.setenv("NOVITA_API_KEY", KEY)
    monkeypatch.setenv(live_check.SECRET_VALUE_ENV, SECRET)
    report_path = tmp_path / "report.json"
    status = live_check.main(["--base-url", url, "--write", "--collections-path", str(collections), "--report", str(report_path),
                              "--expect-no-differences"])
    text = report_path.read_text(encoding="utf-8")
    write_run = json.loads(text)["write_run"]
    assert status == 1 and ran == ["create"]
    create = write_run["steps"][0]
    assert create["status"] == "failed" and create["msg"] == "timed out; key <redacted>, value <redacted>"
    assert [(item["method"], item["path"], item["status"]) for item in create["requests"]] == [("POST", "/endpoint/create", 200), ("GET", "/endpoint", 200)]
    assert create["write_requests"] == 1 and create["states_seen"] == ["serving"]
    assert [step["status"] for step in write_run["steps"][1:]] == ["skipped"] * 6
    assert write_run["cleanup"]["found"] == 1 and write_run["cleanup"]["left_behind"] == 0
    assert write_run["endpoint_name"] not in [item["name"] for item in live_check.admin_call(url, "GET", "/endpoints")["endpoints"]]
    assert KEY not in text and SECRET not in text
    # the disposable credential was saved, and deleted by the cleanup
    assert write_run["credential"]["save"]["status"] == 200 and write_run["credential"]["found"] == 1
    assert write_run["credential_cleanup"] == {"listed": True, "found": 1, "left_behind": 0,
                                               "delete_requests": [{"method": "POST", "path": "/repository/auth/delete", "status": 200}]}
    assert write_run["credential"]["name"] not in [item["name"] for item in live_check.admin_call(url, "GET", "/auths")["auths"]]


# ------------------------------------------------------------------------------------ fail fast, light

def test_a_host_that_does_not_resolve_stops_the_check_before_any_request(tmp_path, monkeypatch, capsys):
    sent = []
    monkeypatch.setattr(live_check, "http_call", lambda *args, **kwargs: sent.append(args))
    monkeypatch.setenv("NOVITA_API_KEY", KEY)
    monkeypatch.setenv("NOVITA_API_BASE_URL", "https://no-such-host.invalid")
    assert live_check.main(["--report", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("live check: cannot resolve no-such-host.invalid, the host of https://no-such-host.invalid (")
    assert "Check this machine's DNS and network connection, or set NOVITA_API_BASE_URL (or --base-url)" in err
    assert sent == [] and not (tmp_path / "r.json").exists()


def test_a_name_service_that_does_not_answer_is_given_up_on(monkeypatch):
    monkeypatch.setattr(live_check.socket, "getaddrinfo", lambda *args: live_check.time.sleep(5))
    started = live_check.time.monotonic()
    with pytest.raises(live_check.CheckError, match=r"cannot resolve api\.example\.com, .*no answer from the name service within 0\.2 s"):
        live_check.check_host_resolves("https://api.example.com", timeout=0.2)
    assert live_check.time.monotonic() - started < 2


def test_behind_a_proxy_the_proxy_host_must_resolve(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.invalid:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert live_check.first_hop("https://api.novita.ai") == ("proxy.example.invalid", "http://proxy.example.invalid:3128")
    with pytest.raises(live_check.CheckError, match=r"cannot resolve proxy\.example\.invalid, the host of the proxy .* \(for https://api\.novita\.ai\)"):
        live_check.check_host_resolves("https://api.novita.ai")
    monkeypatch.setenv("NO_PROXY", "api.novita.ai")
    assert live_check.first_hop("https://api.novita.ai") == ("api.novita.ai", None)


def test_no_answer_to_the_first_read_sends_no_other(tmp_path, monkeypatch, capsys):
    calls = []
    real = live_check.http_call
    monkeypatch.setattr(live_check, "http_call", lambda *args, **kwargs: calls.append(args[3]) or real(*args, **kwargs))
    monkeypatch.setenv("NOVITA_API_KEY", KEY)
    assert live_check.main(["--base-url", "http://127.0.0.1:9", "--report", str(tmp_path / "r.json")]) == 2
    assert calls == ["/endpoints"] and "no answer from http://127.0.0.1:9" in capsys.readouterr().err


def test_write_builds_the_light_venv_only_when_no_ansible_playbook_is_there(monkeypatch):
    found = iter([None, "/x/.tmp/venv-run/bin/ansible-playbook"])
    ran = []
    monkeypatch.setattr(live_check, "find_ansible_playbook", lambda: next(found))
    monkeypatch.setattr(live_check.subprocess, "run", lambda command, **kwargs: ran.append(command) or live_check.subprocess.CompletedProcess(command, 0))
    assert live_check.ensure_ansible_playbook() == "/x/.tmp/venv-run/bin/ansible-playbook"
    root = live_check.ROOT
    assert ran == [["bash", str(root / "tools" / "ensure-venv.sh"), str(root / ".tmp" / "venv-run"), str(root / "tools" / "requirements-run.txt"),
                    str(root / "tools" / "constraints-run.txt")]]
    monkeypatch.setattr(live_check, "find_ansible_playbook", lambda: "/x/.venv/bin/ansible-playbook")
    assert live_check.ensure_ansible_playbook() == "/x/.venv/bin/ansible-playbook" and len(ran) == 1
    monkeypatch.setattr(live_check, "find_ansible_playbook", lambda: None)
    monkeypatch.setattr(live_check.subprocess, "run", lambda command, **kwargs: live_check.subprocess.CompletedProcess(command, 1))
    with pytest.raises(live_check.CheckError, match=r"--write needs ansible-playbook, and building \.tmp/venv-run \(ansible-core\) failed \(exit 1\)"):
        live_check.ensure_ansible_playbook()


def test_the_makefile_live_check_needs_no_venv():
    with open(os.path.join(str(live_check.ROOT), "Makefile"), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    target = lines.index("live-check:")
    assert lines[target + 1].strip() == "@$(PYTHON) tools/live_check.py $(LIVE_CHECK_ARGS)"


# ----------------------------------------------------------------------------------- in-use delete

def fake_steps(run, step, _work_dir, env):
    """The steps' API calls as the modules make them, without ansible: the endpoint uses the disposable credential."""
    url = env["NOVITA_API_BASE_URL"]
    if step == "create":
        spec = {"name": run.name, "products": [{"id": "1"}], "rootfsSize": 100, "ports": [{"port": 80}],
                "image": {"image": "nginx:alpine", "authId": run.credential.auth_id},
                "workerConfig": {"minNum": 0, "maxNum": 1, "freeTimeout": 300, "maxConcurrent": 1, "gpuNum": 1},
                "policy": {"type": "queue", "value": 1}, "volumeMounts": [], "healthy": {"path": "/"}}
        created = live_check.http_call(url, KEY, "POST", "/endpoint/create", body={"endpoint": spec})
        run.created_id = created.data["id"]
        return {"changed": True, "endpoint_id": created.data["id"]}
    if step == "update":
        live_check.http_call(url, KEY, "POST", "/endpoint/update", body={"id": run.created_id})
    if step == "delete":
        live_check.http_call(url, KEY, "POST", "/endpoint/delete", body={"name": run.created_id})
    return {"changed": step in ("update", "check_mode", "delete"), "endpoints_count": 0 if step == "info_after_delete" else None}


@pytest.mark.skipif(not HAS_PROFILES, reason=NO_PROFILES)
@pytest.mark.parametrize("in_use_deletes, status, outcome", [("refuse", 0, "refused: 400 IMAGE_AUTH_IN_USE"), ("allow", 1, "allowed")])
def test_write_run_deletes_the_credential_while_the_endpoint_uses_it(monkeypatch, tmp_path, capsys, live_emulator, in_use_deletes, status, outcome):
    url = live_emulator("documented", in_use_deletes=in_use_deletes)
    collections = tmp_path / "collections"
    (collections / "ansible_collections" / "novita" / "cloud").mkdir(parents=True)
    monkeypatch.setattr(live_check.WriteRun, "_run_playbook", fake_steps)
    monkeypatch.setattr(live_check, "ensure_ansible_playbook", lambda: "/nonexistent/ansible-playbook")
    monkeypatch.setattr(live_check.secrets, "token_urlsafe", lambda size: "pw-2f9c1e7d5b")
    monkeypatch.setenv("NOVITA_API_KEY", KEY)
    report_path = tmp_path / "report.json"
    assert live_check.main(["--base-url", url, "--write", "--collections-path", str(collections), "--report", str(report_path),
                            "--expect-no-differences"]) == status
    saved = [item for item in live_check.admin_call(url, "GET", "/requests")["requests"] if item["path"] == "/repository/auth/save"]
    assert [item["body"] for item in saved] == [{"name": json.loads(report_path.read_text(encoding="utf-8"))["write_run"]["credential"]["name"],
                                                 "username": "novita-cloud-livecheck", "password": "live-check-pw-2f9c1e7d5b"}]
    text = report_path.read_text(encoding="utf-8")
    write_run = json.loads(text)["write_run"]
    step = [item for item in write_run["steps"] if item["name"] == "credential_in_use_delete"][0]
    assert step["outcome"] == outcome and step["expected"] == live_check.EXPECTED_IN_USE_DELETE
    assert step["as_expected"] is (outcome == live_check.EXPECTED_IN_USE_DELETE)
    assert step["problems"] == ([] if status == 0 else ["expected refused: 400 IMAGE_AUTH_IN_USE, saw allowed"])
    assert [(item["method"], item["path"]) for item in step["requests"]] == [("POST", "/repository/auth/delete")]
    assert [item["name"] for item in write_run["steps"]] == list(live_check.WriteRun.STEPS)
    # the endpoint first, then the credential (if it is still there): nothing is left behind
    assert write_run["credential_cleanup"]["left_behind"] == 0
    assert write_run["credential_cleanup"]["found"] == (1 if in_use_deletes == "refuse" else 0)
    assert write_run["credential"]["name"] not in [item["name"] for item in live_check.admin_call(url, "GET", "/auths")["auths"]]
    out = capsys.readouterr().out
    assert f"in-use credential delete {outcome} (expected refused: 400 IMAGE_AUTH_IN_USE)" in out.splitlines()[-1]
    # the credential's random password is in no report and no output
    assert "pw-2f9c1e7d5b" not in text and "pw-2f9c1e7d5b" not in out


def test_the_credential_password_never_reaches_the_report(monkeypatch):
    run = live_check.WriteRun(live_check.parse_args(["--write"]), "http://127.0.0.1:9", KEY, SECRET, "/c")
    assert run.credential.name.startswith("novita-cloud-livecheck-") and run.credential.name != run.name
    check = live_check.CheckRun(live_check.parse_args(["--write"]), print)
    check.write_run = run
    check.extra_secrets.add(run.credential.password)
    assert run.credential.password in check.secret_values
    assert live_check.scrub({"msg": "password " + run.credential.password}, check.secret_values) == {"msg": "password <redacted>"}


@pytest.mark.parametrize("status, body, outcome", [
    (200, {}, "allowed"),
    (400, {"code": 400, "reason": "IMAGE_AUTH_IN_USE", "message": "in use"}, "refused: 400 IMAGE_AUTH_IN_USE"),
    (400, {"code": 400, "message": "in use"}, "refused: 400"),
    (None, None, "no answer (URLError: refused)"),
])
def test_delete_outcome_in_a_few_words(status, body, outcome):
    assert live_check.delete_outcome(answer(status, body, None if status else "URLError: refused")) == outcome
