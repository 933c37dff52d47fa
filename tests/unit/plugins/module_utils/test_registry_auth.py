# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json

import pytest

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError, NovitaListError
from ansible_collections.novita.cloud.plugins.module_utils.endpoint_api import EndpointAPI
from ansible_collections.novita.cloud.plugins.module_utils.module import ProblemsError, fail
from ansible_collections.novita.cloud.plugins.module_utils.registry_auth import (
    RegistryAuthConverger,
    RegistryAuthError,
    registry_auth_argument_spec,
    registry_auths_info,
    validate_options,
)
from ansible_collections.novita.cloud.tests.unit.helpers import HUB_PASSWORD, NEW_PASSWORD, OTHER_PASSWORD, FakeClient, auths, failure_of, using

GET_AUTHS, LIST_ENDPOINTS, GET_ENDPOINT = ("GET", "/repository/auths"), ("LIST", "/endpoints"), ("GET", "/endpoint")
SAVE, DELETE, UPDATE = ("POST", "/repository/auth/save"), ("POST", "/repository/auth/delete"), ("POST", "/endpoint/update")


def params(**given):
    values = dict((key, None) for key in registry_auth_argument_spec())
    values.update(state="present", repoint_endpoints=False, force=False, wait=True, wait_timeout=60)
    values.update(given)
    return values


def converger(client, check_mode=False, want_diff=False, **given):
    task = params(**given)
    return RegistryAuthConverger(client, task, check_mode=check_mode, want_diff=want_diff, problems=validate_options(task),
                                 endpoint_api=EndpointAPI(client, sleep=lambda s: None))


def converge(client, check_mode=False, want_diff=False, **given):
    return converger(client, check_mode, want_diff, **given).run()


def everything(result):
    return json.dumps(result, sort_keys=True)


# ---------------------------------------------------------------- create and idempotence

def test_create_saves_then_finds_the_new_id_by_listing_again():
    client = FakeClient(auths=auths())
    result = converge(client, name="ghcr", username="ci-bot", password=NEW_PASSWORD)
    assert result["changed"] is True and result["action"] == "created"
    assert result["registry_auth"] == {"id": "auth-new1", "name": "ghcr", "username": "ci-bot"}
    assert client.calls == [GET_AUTHS, SAVE, GET_AUTHS]
    assert client.bodies == [("/repository/auth/save", {"name": "ghcr", "username": "ci-bot", "password": NEW_PASSWORD})]


def test_rerun_is_one_read_and_no_write():
    client = FakeClient(auths=auths())
    result = converge(client, want_diff=True, name="hub", username="bot", password=HUB_PASSWORD)
    assert result["changed"] is False and result["action"] == "unchanged"
    assert client.calls == [GET_AUTHS]
    assert result["registry_auth"] == {"id": "a1", "name": "hub", "username": "bot"}
    assert result["diff"]["before"] == result["diff"]["after"] == {"name": "hub", "username": "bot", "password": "********"}
    assert result["diff"]["before_header"] == result["diff"]["after_header"] == "registry credential hub (a1)"


def test_options_left_out_keep_the_credential_values():
    client = FakeClient(auths=auths())
    assert converge(client, name="hub")["changed"] is False
    assert converge(client, name="hub", username="bot")["changed"] is False
    assert converge(client, name="hub", password=HUB_PASSWORD)["changed"] is False
    assert client.writes() == []


def test_create_in_check_mode_makes_the_same_read_and_no_write():
    client = FakeClient(auths=auths())
    result = converge(client, check_mode=True, want_diff=True, name="ghcr", username="ci-bot", password=NEW_PASSWORD)
    assert result["changed"] is True and result["action"] == "created"
    assert result["registry_auth"] == {"id": None, "name": "ghcr", "username": "ci-bot"}
    assert client.calls == [GET_AUTHS] and client.writes() == []
    assert result["diff"] == {"before": {}, "after": {"name": "ghcr", "username": "ci-bot", "password": "********"},
                              "before_header": "registry credential ghcr", "after_header": "registry credential ghcr"}


def test_create_needs_username_and_password_and_writes_nothing_without():
    client = FakeClient(auths=auths())
    with pytest.raises(ProblemsError) as error:
        converge(client, name="ghcr", username="ci-bot")
    assert error.value.msg == "password is required to create a registry credential"
    assert client.writes() == []


def test_a_save_that_lists_no_new_credential_is_an_error():
    class Forgetful(FakeClient):
        def _apply(self, path, body):
            return {} if path == "/repository/auth/save" else super(Forgetful, self)._apply(path, body)

    client = Forgetful(auths=auths())
    with pytest.raises(RegistryAuthError) as error:
        converge(client, name="ghcr", username="ci-bot", password=NEW_PASSWORD)
    assert error.value.msg == ("Novita API accepted saving registry credential ghcr, but listing the credentials again shows no new one"
                               " with that name")


def test_an_ambiguous_save_that_went_through_is_adopted_not_repeated():
    timeout = NovitaAPIError("no reply", method="POST", path="/repository/auth/save", transient=True, ambiguous=True)
    client = FakeClient(auths=auths(), faults={"/repository/auth/save": [(timeout, True)]})
    task = converger(client, name="ghcr", username="ci-bot", password=NEW_PASSWORD)
    result = task.run()
    assert result["changed"] is True and result["registry_auth"]["id"] == "auth-new1"
    assert client.count(*SAVE) == 1 and client.auth_ids("ghcr") == ["auth-new1"]
    assert task.warnings == ["saving registry credential ghcr got no clear reply; the credential it saved (auth-new1) was found by name and adopted"]


def test_an_ambiguous_save_that_did_not_go_through_is_sent_again():
    timeout = NovitaAPIError("no reply", method="POST", path="/repository/auth/save", transient=True, ambiguous=True)
    client = FakeClient(auths=auths(), faults={"/repository/auth/save": [(timeout, False)]})
    result = converge(client, name="ghcr", username="ci-bot", password=NEW_PASSWORD)
    assert result["registry_auth"]["id"] == "auth-new1"
    assert client.calls == [GET_AUTHS, SAVE, GET_AUTHS, SAVE, GET_AUTHS]


class TwoRuns(FakeClient):
    """Runs A and B save one credential name at the same moment. This client receives A's save first; B's save (with the
    ``rival`` user name and password, and the ``rival_created`` createdAt if given) lands right after it. ``as_run_b``
    then replays B: its first list read sees the credentials as they were before both saves, its save was already made,
    and (``settled_late``) its list after the save sees both new credentials, as when both runs list before either deletes."""

    def __init__(self, endpoints=(), auths=(), rival=("bot", NEW_PASSWORD), created=None, rival_created=None, **kwargs):
        super(TwoRuns, self).__init__(endpoints, auths=auths, **kwargs)
        self.rival = rival
        self.created_stamps = (created, rival_created)
        self.replayed = []
        self.skip_save = False

    def get(self, path, query=None):
        if path == "/repository/auths" and self.replayed:
            self._record(("GET", path))
            return {"data": copy.deepcopy(self.replayed.pop(0))}
        return super(TwoRuns, self).get(path, query)

    def _apply(self, path, body):
        if path != "/repository/auth/save":
            return super(TwoRuns, self)._apply(path, body)
        if self.skip_save:
            self.skip_save = False
            return {}
        before = copy.deepcopy(self.auths)
        super(TwoRuns, self)._apply(path, body)
        super(TwoRuns, self)._apply(path, dict(body, username=self.rival[0], password=self.rival[1]))
        for auth, stamp in zip(self.auths[-2:], self.created_stamps):
            if stamp is not None:
                auth["createdAt"] = stamp
        self.before, self.after_saves = before, copy.deepcopy(self.auths)
        return {}

    def as_run_b(self, settled_late=True):
        self.replayed = [self.before] + ([self.after_saves] if settled_late else [])
        self.skip_save = True
        self.calls, self.bodies = [], []


def test_two_runs_saving_one_credential_at_once_leave_one_and_both_report_it():
    client = TwoRuns(auths=auths())
    task = converger(client, name="ghcr", username="bot", password=NEW_PASSWORD)
    result = task.run()
    # Both new credentials have this run's values: it keeps the first by ID and deletes the other (its own or B's).
    assert result["changed"] is True and result["action"] == "created"
    assert result["registry_auth"]["id"] == "auth-new1" and result["duplicate_deleted_ids"] == ["auth-new2"]
    assert client.auth_ids("ghcr") == ["auth-new1"]
    assert client.calls == [GET_AUTHS, SAVE, GET_AUTHS, LIST_ENDPOINTS, DELETE]
    assert task.warnings == ["saved registry credential ghcr; another run saved one with the name at the same time (new IDs: auth-new1,"
                             " auth-new2), and auth-new1 is kept, the first by ID; this run deleted auth-new2"]
    # Run B listed before both saves and lists again after them, before A's delete: same rule, same credential kept.
    client.as_run_b()
    task = converger(client, name="ghcr", username="bot", password=NEW_PASSWORD)
    result = task.run()
    assert result["changed"] is True and result["registry_auth"]["id"] == "auth-new1"
    assert client.auth_ids("ghcr") == ["auth-new1"]
    # Every later run is one read and no write.
    client.calls = []
    result = converge(client, name="ghcr", username="bot", password=NEW_PASSWORD)
    assert result["changed"] is False and client.calls == [GET_AUTHS]


def test_the_oldest_by_created_at_is_kept_whatever_the_ids():
    client = TwoRuns(auths=auths(), created="2025-03-01T10:00:02Z", rival_created="2025-03-01T10:00:01Z")
    task = converger(client, name="ghcr", username="bot", password=NEW_PASSWORD)
    result = task.run()
    assert result["registry_auth"]["id"] == "auth-new2" and result["duplicate_deleted_ids"] == ["auth-new1"]
    assert client.auth_ids("ghcr") == ["auth-new2"]
    assert "auth-new2 is kept, the oldest" in task.warnings[0]


def test_a_run_whose_values_lost_the_race_deletes_its_own_and_fails_and_a_rerun_converges():
    client = TwoRuns(auths=auths(), rival=("someone-else", OTHER_PASSWORD))
    result = converge(client, name="ghcr", username="bot", password=NEW_PASSWORD)
    # A's credential is the first by ID: A keeps it; B's (other values) is B's to delete.
    assert result["registry_auth"]["id"] == "auth-new1" and "duplicate_deleted_ids" not in result
    assert client.count(*DELETE) == 0
    client.as_run_b()
    task = converger(client, name="ghcr", username="someone-else", password=OTHER_PASSWORD)
    error = failure_of(task, RegistryAuthError)
    assert error.msg == ("saved registry credential ghcr; another run saved one with the name at the same time (new IDs: auth-new1,"
                         " auth-new2), and auth-new1 is kept, the first by ID, which has another user name or password: this run"
                         " deleted the one it saved (auth-new2). Run the task again to replace auth-new1 with this task's values")
    assert task.result["changed"] is True and task.result["duplicate_deleted_ids"] == ["auth-new2"]
    assert client.auth_ids("ghcr") == ["auth-new1"]
    client.calls = []
    result = converge(client, name="ghcr", username="someone-else", password=OTHER_PASSWORD)
    assert result["action"] == "replaced" and client.auth_ids("ghcr") == ["auth-new3"]


def test_a_new_duplicate_an_endpoint_already_uses_is_not_deleted():
    client = TwoRuns([using("ep1", "chat", auth_id="auth-new2")], auths=auths())
    task = converger(client, name="ghcr", username="bot", password=NEW_PASSWORD)
    error = failure_of(task, RegistryAuthError)
    assert error.msg == ("saved registry credential ghcr; another run saved one with the name at the same time (new IDs: auth-new1,"
                         " auth-new2), and auth-new1 is kept, the first by ID; then endpoint chat (ep1) already uses auth-new2, so"
                         " nothing was deleted: point them at one of the credentials and delete the others")
    assert task.result["changed"] is True and client.count(*DELETE) == 0


def test_a_rerun_with_two_identical_credentials_adopts_the_first_by_id_with_a_warning():
    twin = {"id": "a10", "name": "hub", "username": "bot", "password": HUB_PASSWORD}
    client = FakeClient(auths=[twin] + auths())
    task = converger(client, name="hub", username="bot", password=HUB_PASSWORD)
    result = task.run()
    assert result["changed"] is False and result["registry_auth"]["id"] == "a1" and client.writes() == []
    assert task.warnings == ["2 registry credentials are named hub, with the same user name and password (IDs: a1, a10); this run manages"
                             " a1, the first by ID, and leaves a10 alone: delete it if nothing uses it"]
    # A new password replaces the one managed; the rerun after finishes with the other (see the interrupted replace).
    result = converge(client, name="hub", username="bot", password=NEW_PASSWORD)
    assert result["action"] == "replaced" and result["replaced_auth_id"] == "a1"
    result = converge(client, name="hub", username="bot", password=NEW_PASSWORD)
    assert result["action"] == "replaced" and result["replaced_auth_id"] == "a10"
    assert client.auth_ids("hub") == ["auth-new1"]
    assert converge(client, name="hub", username="bot", password=NEW_PASSWORD)["changed"] is False


# ---------------------------------------------------------------- replace (rotation)

def test_rotation_is_refused_before_any_write_naming_the_endpoints_that_use_it():
    client = FakeClient([using("ep1", "chat"), using("ep2", "embed", auth_id="a2"), using("ep3", "batch")], auths=auths())
    with pytest.raises(ProblemsError) as error:
        converge(client, name="hub", password=NEW_PASSWORD)
    assert error.value.msg == ("registry credential hub (a1) is used by endpoints chat (ep1), batch (ep3); changing its username or password"
                               " saves a new credential with a new ID and deletes this one, which would break them: set repoint_endpoints=true"
                               " to point them at the new one")
    assert client.calls == [GET_AUTHS, LIST_ENDPOINTS] and client.writes() == []


def test_rotation_of_an_unused_credential_saves_the_new_one_then_deletes_the_old():
    client = FakeClient([using("ep2", "embed", auth_id="a2")], auths=auths())
    result = converge(client, want_diff=True, name="hub", password=NEW_PASSWORD)
    assert result["changed"] is True and result["action"] == "replaced"
    assert client.calls == [GET_AUTHS, LIST_ENDPOINTS, SAVE, GET_AUTHS, DELETE]
    assert client.bodies == [("/repository/auth/save", {"name": "hub", "username": "bot", "password": NEW_PASSWORD}),
                             ("/repository/auth/delete", {"id": "a1"})]
    assert result["registry_auth"] == {"id": "auth-new1", "name": "hub", "username": "bot"}
    assert result["replaced_auth_id"] == "a1" and result["used_by"] == [] and "repointed_endpoints" not in result
    assert result["diff"] == {"before": {"name": "hub", "username": "bot", "password": "********"},
                              "after": {"name": "hub", "username": "bot", "password": "******** (changed)"},
                              "before_header": "registry credential hub (a1)", "after_header": "registry credential hub (auth-new1)"}
    assert client.auth_ids("hub") == ["auth-new1"]


def test_a_new_username_alone_is_a_replace_and_the_password_is_not_marked_changed():
    client = FakeClient(auths=auths())
    result = converge(client, want_diff=True, name="hub", username="bot-2")
    assert result["action"] == "replaced" and client.bodies[0][1] == {"name": "hub", "username": "bot-2", "password": HUB_PASSWORD}
    assert result["diff"]["after"] == {"name": "hub", "username": "bot-2", "password": "********"}


def test_rotation_with_repoint_sends_the_whole_endpoint_with_only_the_new_auth_id():
    endpoint = using("ep1", "chat")
    client = FakeClient([endpoint, using("ep2", "embed", auth_id="a2")], auths=auths())
    result = converge(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    assert result["changed"] is True and result["action"] == "replaced"
    assert client.calls == [GET_AUTHS, LIST_ENDPOINTS, SAVE, GET_AUTHS, GET_ENDPOINT, UPDATE, GET_ENDPOINT, DELETE]
    sent = [body for path, body in client.bodies if path == "/endpoint/update"]
    # The update call replaces the endpoint: every setting goes back as it was (create-only fields are never sent), only authId is new.
    assert sent == [{
        "id": "ep1", "name": "chat",
        "image": {"image": "ghcr.io/team/server:2", "authId": "auth-new1", "command": "serve --port 8000"},
        "ports": [{"port": 8000}],
        "workerConfig": {"minNum": 1, "maxNum": 3, "freeTimeout": 120, "maxConcurrent": 4, "gpuNum": 2, "requestTimeout": 90,
                         "cudaVersion": "12.4"},
        "policy": {"type": "concurrency", "value": 5},
        "healthy": {"path": "/ready"},
        "envs": [{"key": "LOG_LEVEL", "value": "debug"}, {"key": "TOKEN", "value": "env-secret-value"}],
        "volumeMounts": [{"type": "network", "id": "ns-1", "mountPath": "/models"}, {"type": "local", "size": 30, "mountPath": "/workspace"}],
        "clusterID": "cluster-1",
    }]
    assert client.endpoints["ep1"]["image"]["authId"] == "auth-new1"
    assert client.endpoints["ep2"]["image"]["authId"] == "a2"
    assert client.auth_ids("hub") == ["auth-new1"]
    assert result["replaced_auth_id"] == "a1"
    assert result["repointed_endpoints"] == result["used_by"] == [{"id": "ep1", "name": "chat"}]


def test_repoint_without_wait_deletes_the_old_credential_right_after_the_updates():
    client = FakeClient([using("ep1", "chat"), using("ep3", "batch")], auths=auths())
    converge(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True, wait=False)
    assert client.calls == [GET_AUTHS, LIST_ENDPOINTS, SAVE, GET_AUTHS, GET_ENDPOINT, UPDATE, GET_ENDPOINT, UPDATE, DELETE]


def test_the_wait_after_a_repoint_ignores_a_stale_read():
    client = FakeClient([using("ep1", "chat")], auths=auths())
    stale = dict(using("ep1", "chat"), state={"state": "serving"})
    client.states = {"ep1": ["serving", stale, {"state": "updating"}]}
    converge(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    # The read the update is built from, then the stale read, the update in progress and serving.
    assert client.count(*GET_ENDPOINT) == 4


def test_rotation_in_check_mode_makes_the_same_reads_and_no_write():
    client = FakeClient([using("ep1", "chat")], auths=auths())
    result = converge(client, check_mode=True, want_diff=True, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    assert result["changed"] is True and result["action"] == "replaced"
    assert client.calls == [GET_AUTHS, LIST_ENDPOINTS] and client.writes() == []
    assert result["registry_auth"] == {"id": None, "name": "hub", "username": "bot"}
    assert result["repointed_endpoints"] == [{"id": "ep1", "name": "chat"}] and result["replaced_auth_id"] == "a1"
    assert result["diff"]["after"]["password"] == "******** (changed)"
    assert result["diff"]["before_header"] == "registry credential hub (a1)" and result["diff"]["after_header"] == "registry credential hub"


def test_a_failure_part_of_the_way_says_what_was_done_and_a_rerun_finishes_the_replace():
    refused = NovitaAPIError("Novita API returned HTTP 400 on POST /endpoint/update: bad request", status=400, method="POST",
                             path="/endpoint/update")
    client = FakeClient([using("ep1", "chat"), using("ep3", "batch")], auths=auths(),
                        faults={"/endpoint/update": [None, (refused, False)]})
    task = converger(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    error = failure_of(task, RegistryAuthError)
    assert error.msg == (
        "saved registry credential hub (auth-new1) to replace a1; repointed endpoint chat (ep1); then updating endpoint batch (ep3) to it"
        " failed: Novita API returned HTTP 400 on POST /endpoint/update: bad request; it was not applied. Not done: endpoint batch (ep3)"
        " still uses a1, which was not deleted")
    assert task.result["changed"] is True and task.result["registry_auth"]["id"] == "auth-new1"
    assert error.details["failure"]["status"] == 400
    assert sorted(client.auth_ids("hub")) == ["a1", "auth-new1"]
    assert client.endpoints["ep1"]["image"]["authId"] == "auth-new1" and client.endpoints["ep3"]["image"]["authId"] == "a1"
    assert client.count(*DELETE) == 0

    # Two credentials are named hub now, one with the task's values: the rerun repoints the rest and deletes the old one.
    client.calls = []
    task = converger(client, name="hub", username="bot", password=NEW_PASSWORD, repoint_endpoints=True)
    result = task.run()
    assert result["action"] == "replaced" and result["replaced_auth_id"] == "a1"
    assert result["registry_auth"] == {"id": "auth-new1", "name": "hub", "username": "bot"}
    assert result["repointed_endpoints"] == [{"id": "ep3", "name": "batch"}]
    assert client.calls == [GET_AUTHS, LIST_ENDPOINTS, GET_ENDPOINT, UPDATE, GET_ENDPOINT, DELETE]
    assert client.auth_ids("hub") == ["auth-new1"] and client.endpoints["ep3"]["image"]["authId"] == "auth-new1"
    assert "a replace was interrupted after its save?" in task.warnings[0]


def test_a_failed_delete_of_the_old_credential_says_the_new_one_is_in_use():
    broken = NovitaAPIError("Novita API returned HTTP 400 on POST /repository/auth/delete: locked", status=400, method="POST",
                            path="/repository/auth/delete")
    client = FakeClient([using("ep1", "chat")], auths=auths(), faults={"/repository/auth/delete": [(broken, False)]})
    with pytest.raises(RegistryAuthError) as error:
        converge(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    assert error.value.msg == (
        "saved registry credential hub (auth-new1) to replace a1; repointed endpoint chat (ep1); then deleting the old registry credential hub"
        " (a1) failed: Novita API returned HTTP 400 on POST /repository/auth/delete: locked. Not done: a1 was not deleted (two credentials"
        " are named hub now; run the task again to finish the replace)")


def test_a_wait_that_times_out_keeps_the_old_credential():
    client = FakeClient([using("ep1", "chat")], auths=auths())
    client.states = {"ep1": ["serving", "failed"]}
    with pytest.raises(RegistryAuthError) as error:
        converge(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    assert error.value.msg.startswith("saved registry credential hub (auth-new1) to replace a1; repointed endpoint chat (ep1); then endpoint"
                                      " ep1 reports state failed")
    assert error.value.msg.endswith("Not done: a1 was not deleted; run the task again to finish the replace")
    assert error.value.details["endpoint_id"] == "ep1" and client.count(*DELETE) == 0


# ---------------------------------------------------------------- duplicate names

def test_several_credentials_with_the_name_fail_before_any_write_listing_their_ids():
    client = FakeClient(auths=auths({"id": "a3", "name": "hub", "username": "bot", "password": "third-one"},
                                    {"id": "a4", "name": "hub", "username": "x", "password": "fourth-one"}))
    with pytest.raises(ProblemsError) as error:
        converge(client, name="hub", username="bot", password=HUB_PASSWORD)
    assert error.value.msg.startswith("name: 3 registry credentials are named hub (IDs: a1, a3, a4); the module cannot tell which to manage.")
    assert error.value.details["auth_ids"] == ["a1", "a3", "a4"] and client.calls == [GET_AUTHS]


def test_two_with_the_name_and_neither_matching_the_task_fail():
    client = FakeClient(auths=auths({"id": "a3", "name": "hub", "username": "bot", "password": "third-one"}))
    with pytest.raises(ProblemsError) as error:
        converge(client, name="hub", username="bot", password=NEW_PASSWORD)
    assert "one of them must have exactly the task's username and password to be kept" in error.value.msg
    assert client.writes() == []


# ---------------------------------------------------------------- delete

def test_delete_of_a_missing_credential_is_one_read_and_unchanged():
    client = FakeClient(auths=auths())
    result = converge(client, want_diff=True, name="nothing", state="absent")
    assert result["changed"] is False and result["action"] == "unchanged" and result["registry_auth"] == {}
    assert client.calls == [GET_AUTHS]


def test_a_check_mode_teardown_refusal_says_an_earlier_simulated_delete_leaves_the_endpoint():
    client = FakeClient([using("ep1", "chat")], auths=auths())
    task = converger(client, check_mode=True, name="hub", state="absent")
    error = failure_of(task, ProblemsError)
    assert error.msg.endswith("or set force=true to delete it anyway (check mode: if an earlier task of this play deletes chat (ep1), that"
                              " delete was only simulated, so the endpoint still exists here; a run without --check deletes it first and"
                              " then this one)")
    assert client.writes() == []


def test_delete_is_refused_while_an_endpoint_uses_the_credential():
    client = FakeClient([using("ep1", "chat")], auths=auths())
    task = converger(client, name="hub", state="absent")
    error = failure_of(task, ProblemsError)
    assert error.msg == ("registry credential hub (a1) is used by endpoint chat (ep1); deleting it would leave them pointing at a"
                         " credential that no longer exists: point them at another credential first, or set force=true to delete"
                         " it anyway")
    assert task.result["used_by"] == [{"id": "ep1", "name": "chat"}] and task.result["changed"] is False
    assert client.writes() == []


def test_forced_delete_deletes_and_warns_naming_the_endpoints():
    client = FakeClient([using("ep1", "chat")], auths=auths())
    task = converger(client, want_diff=True, name="hub", state="absent", force=True)
    result = task.run()
    assert result["changed"] is True and result["action"] == "deleted"
    assert result["deleted_auth_ids"] == ["a1"] and result["used_by"] == [{"id": "ep1", "name": "chat"}]
    assert result["registry_auth"] == {"id": "a1", "name": "hub", "username": "bot"}
    assert result["diff"] == {"before": {"name": "hub", "username": "bot", "password": "********"}, "after": {},
                              "before_header": "registry credential hub (a1)", "after_header": "registry credential hub (a1)"}
    assert client.calls == [GET_AUTHS, LIST_ENDPOINTS, DELETE] and client.auth_ids("hub") == []
    assert task.warnings == ["deleted registry credential hub (a1) although endpoint chat (ep1) uses it (force=true): they still refer to"
                             " the deleted ID and cannot pull a private image until they are pointed at another credential"]


def test_a_forced_delete_the_api_refuses_as_in_use_says_who_uses_it():
    message = "registry auth a1 is in use by endpoint ep1"
    client = FakeClient([using("ep1", "chat")], auths=auths(), faults={"/repository/auth/delete": [
        (NovitaAPIError("Novita API returned HTTP 400 IMAGE_AUTH_IN_USE on POST /repository/auth/delete: " + message, status=400,
                        method="POST", path="/repository/auth/delete", api_code=400, api_reason="IMAGE_AUTH_IN_USE", api_message=message), False)]})
    task = converger(client, name="hub", state="absent", force=True)
    error = failure_of(task, RegistryAuthError)
    assert error.msg == ("the API refused to delete registry credential hub (a1) because it is in use (IMAGE_AUTH_IN_USE: registry auth a1 is in"
                         " use by endpoint ep1); endpoints that use it: chat (ep1). It was not deleted. force=true cannot override that"
                         " refusal. Point those endpoints at another credential or delete them first, then run the task again")
    assert client.auth_ids("hub") == ["a1"] and task.result["changed"] is False
    assert "warnings" not in task.result or not any("deleted registry credential" in w for w in task.result["warnings"])


def test_delete_in_check_mode_writes_nothing():
    client = FakeClient(auths=auths())
    result = converge(client, check_mode=True, name="hub", state="absent")
    assert result["changed"] is True and result["action"] == "deleted" and result["deleted_auth_ids"] == ["a1"]
    assert client.writes() == []


def test_delete_removes_every_credential_with_the_name():
    client = FakeClient(auths=auths({"id": "a3", "name": "hub", "username": "x", "password": "third-one"}))
    result = converge(client, name="hub", state="absent")
    assert result["deleted_auth_ids"] == ["a1", "a3"] and client.auth_ids("hub") == [] and client.auth_ids("other") == ["a2"]
    assert client.bodies == [("/repository/auth/delete", {"id": "a1"}), ("/repository/auth/delete", {"id": "a3"})]


# ---------------------------------------------------------------- validation and secrets

def test_lengths_and_empty_values_are_refused_before_any_request_naming_the_option_never_the_value():
    client = FakeClient(auths=auths())
    secret = "p" * 1025
    with pytest.raises(ProblemsError) as error:
        converge(client, name="n" * 256, username="u" * 512, password=secret)
    assert error.value.details["errors"] == ["name: 256 characters is longer than the allowed 255",
                                             "username: 512 characters is longer than the allowed 511",
                                             "password: 1025 characters is longer than the allowed 1024"]
    assert client.calls == []
    with pytest.raises(ProblemsError) as error:
        converge(client, name="", username="", password="")
    assert error.value.details["errors"] == ["name: must not be empty", "username: must not be empty", "password: must not be empty"]
    assert client.calls == []


def test_limits_themselves_are_allowed():
    assert validate_options(params(name="n" * 255, username="u" * 511, password="p" * 1024)) == []


class StubModule:
    """Receives what ``fail`` hands to Ansible, without Ansible's own no_log masking: what the collection itself lets out."""

    def __init__(self):
        self.failed = None
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)

    def fail_json(self, **kwargs):
        self.failed = kwargs


def test_passwords_never_reach_a_result_a_diff_or_an_error_even_when_the_api_echoes_them():
    echo = NovitaAPIError("Novita API returned HTTP 400 on POST /repository/auth/save: invalid body {\"password\": \"%s\"}" % NEW_PASSWORD,
                          status=400, method="POST", path="/repository/auth/save",
                          api_message="invalid body {\"password\": \"%s\", \"other\": \"%s\"}" % (NEW_PASSWORD, OTHER_PASSWORD))
    client = FakeClient([using("ep1", "chat")], auths=auths(), faults={"/repository/auth/save": [(echo, False)]})
    task = converger(client, want_diff=True, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    error = failure_of(task, NovitaAPIError)
    module = StubModule()
    fail(module, client, error, task.result)
    assert module.failed["msg"] == 'Novita API returned HTTP 400 on POST /repository/auth/save: invalid body {"password": "********"}'
    assert module.failed["failure"]["api_message"] == 'invalid body {"password": "********", "other": "********"}'
    text = everything(module.failed)
    for secret in (NEW_PASSWORD, HUB_PASSWORD, OTHER_PASSWORD):
        assert secret not in text

    client = FakeClient([using("ep1", "chat")], auths=auths())
    for task in (dict(name="hub", password=NEW_PASSWORD, repoint_endpoints=True), dict(name="new", username="u", password=NEW_PASSWORD),
                 dict(name="other", state="absent")):
        for check_mode in (True, False):
            result = converge(client, check_mode=check_mode, want_diff=True, **task)
            for secret in (NEW_PASSWORD, HUB_PASSWORD, OTHER_PASSWORD):
                assert secret not in everything(result)


def test_the_env_values_of_an_endpoint_being_repointed_are_masked_in_errors():
    echo = NovitaAPIError("Novita API returned HTTP 400 on POST /endpoint/update: bad env TOKEN=env-secret-value", status=400,
                          method="POST", path="/endpoint/update", api_message="bad env TOKEN=env-secret-value")
    client = FakeClient([using("ep1", "chat")], auths=auths(), faults={"/endpoint/update": [(echo, False)]})
    task = converger(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    error = failure_of(task, RegistryAuthError)
    module = StubModule()
    fail(module, client, error, task.result)
    assert "env-secret-value" not in everything(module.failed) and "bad env TOKEN=********" in module.failed["msg"]


# ---------------------------------------------------------------- bad reads, unclear writes, stale lists

GATEWAY_ERROR = {"code": 500, "message": "internal error"}


@pytest.mark.parametrize("reply", [GATEWAY_ERROR, {"data": [], "total": 3}, {"data": "none"}, {"data": [auths()[0], "x"]}],
                         ids=["error-body-at-200", "short-of-total", "data-not-a-list", "item-not-an-object"])
def test_a_bad_credential_list_saves_nothing_rather_than_a_second_credential(reply):
    client = FakeClient(auths=auths(), bad_replies={"/repository/auths": reply})
    with pytest.raises(NovitaListError) as error:
        converge(client, name="hub", username="bot", password=HUB_PASSWORD)
    assert "GET https://api.example.invalid/gpu-instance/openapi/v1/repository/auths cannot be trusted" in error.value.msg
    assert client.writes() == []


def test_a_bad_endpoint_list_deletes_nothing_and_replaces_nothing():
    client = FakeClient([using("ep1", "chat")], auths=auths(), bad_replies={"/endpoints": GATEWAY_ERROR})
    with pytest.raises(NovitaListError):
        converge(client, name="hub", state="absent")
    with pytest.raises(NovitaListError):
        converge(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    assert client.writes() == [] and client.auth_ids("hub") == ["a1"]


def test_a_save_whose_follow_up_list_fails_reports_changed():
    client = FakeClient(auths=auths(), fail_reads={"/repository/auths": 1})
    task = converger(client, name="ghcr", username="ci-bot", password=NEW_PASSWORD)
    error = failure_of(task, RegistryAuthError)
    assert error.msg == ("saved registry credential ghcr, then listing the credentials to find its ID failed: Novita API returned"
                         " HTTP 503 on GET /repository/auths. Run the task again to find it")
    assert task.result["changed"] is True and task.result["action"] == "created"
    assert client.auth_ids("ghcr") == ["auth-new1"]


def test_a_save_with_no_clear_reply_whose_lookup_fails_says_it_may_have_been_saved():
    timeout = NovitaAPIError("no reply within the 30 s timeout", method="POST", path="/repository/auth/save", transient=True, ambiguous=True)
    client = FakeClient(auths=auths(), fail_reads={"/repository/auths": 1}, faults={"/repository/auth/save": [(timeout, True)]})
    task = converger(client, name="ghcr", username="ci-bot", password=NEW_PASSWORD)
    error = failure_of(task, RegistryAuthError)
    assert error.msg.startswith("no reply within the 30 s timeout; registry credential ghcr may or may not have been saved: listing")
    assert task.result["changed"] is True and client.count(*SAVE) == 1


def test_repointed_endpoints_lists_only_the_updates_done():
    refused = NovitaAPIError("Novita API returned HTTP 400 on POST /endpoint/update: bad request", status=400, method="POST",
                             path="/endpoint/update")
    client = FakeClient([using("ep1", "chat"), using("ep3", "batch")], auths=auths(), faults={"/endpoint/update": [None, (refused, False)]})
    task = converger(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    with pytest.raises(RegistryAuthError):
        task.run()
    assert task.result["repointed_endpoints"] == [{"id": "ep1", "name": "chat"}]
    assert task.result["used_by"] == [{"id": "ep1", "name": "chat"}, {"id": "ep3", "name": "batch"}]
    # A save that fails repoints nothing.
    broken = NovitaAPIError("Novita API returned HTTP 400 on POST /repository/auth/save: no", status=400, method="POST",
                            path="/repository/auth/save")
    client = FakeClient([using("ep1", "chat")], auths=auths(), faults={"/repository/auth/save": [(broken, False)]})
    task = converger(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    with pytest.raises(NovitaAPIError):
        task.run()
    assert "repointed_endpoints" not in task.result and task.result["changed"] is False


def test_a_repoint_update_with_no_clear_reply_that_took_effect_goes_on():
    unclear = NovitaAPIError("Novita API returned HTTP 502 on POST /endpoint/update", status=502, method="POST", path="/endpoint/update",
                             transient=True, ambiguous=True)
    client = FakeClient([using("ep1", "chat")], auths=auths(), faults={"/endpoint/update": [(unclear, True)]})
    task = converger(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    result = task.run()
    assert result["changed"] is True and result["repointed_endpoints"] == [{"id": "ep1", "name": "chat"}]
    assert client.auth_ids("hub") == ["auth-new1"] and client.endpoints["ep1"]["image"]["authId"] == "auth-new1"
    assert task.warnings == ["the update of endpoint chat (ep1) got no clear reply (Novita API returned HTTP 502 on POST /endpoint/update);"
                             " reading it back shows it uses auth-new1, so it was applied"]


def test_a_repoint_update_with_no_clear_reply_not_read_back_reports_changed():
    unclear = NovitaAPIError("Novita API returned HTTP 502 on POST /endpoint/update", status=502, method="POST", path="/endpoint/update",
                             transient=True, ambiguous=True)
    # The interrupted replace left both credentials: this run saves nothing, its only write is the update.
    client = FakeClient([using("ep1", "chat")], auths=auths({"id": "a9", "name": "hub", "username": "bot", "password": NEW_PASSWORD}),
                        faults={"/endpoint/update": [(unclear, False)]})
    task = converger(client, name="hub", username="bot", password=NEW_PASSWORD, repoint_endpoints=True)
    error = failure_of(task, RegistryAuthError)
    assert ("updating endpoint chat (ep1) to it failed: Novita API returned HTTP 502 on POST /endpoint/update; it may or may not have been"
            " applied (an update replaces the whole endpoint, never a part of it), so changed is true") in error.msg
    assert task.result["changed"] is True and task.result["repointed_endpoints"] == []
    assert client.count(*DELETE) == 0


def test_a_delete_with_no_clear_reply_that_went_through_counts_as_done():
    unclear = NovitaAPIError("no reply within the 30 s timeout", method="POST", path="/repository/auth/delete", transient=True, ambiguous=True)
    client = FakeClient(auths=auths(), faults={"/repository/auth/delete": [(unclear, True)]})
    task = converger(client, name="hub", state="absent")
    result = task.run()
    assert result["changed"] is True and result["deleted_auth_ids"] == ["a1"] and client.auth_ids("hub") == []
    assert task.warnings == ["the delete of registry credential hub (a1) got no clear reply (no reply within the 30 s timeout); listing the"
                             " credentials shows it is gone"]
    client = FakeClient(auths=auths(), faults={"/repository/auth/delete": [(unclear, False)]})
    task = converger(client, name="hub", state="absent")
    error = failure_of(task, RegistryAuthError)
    assert error.msg == ("deleting registry credential hub (a1) failed: no reply within the 30 s timeout; it is still listed, so it was"
                         " not deleted")
    assert task.result["changed"] is False


class StaleList(FakeClient):
    """The endpoint list shows each endpoint as ``listed`` holds it (a read from before its last update); GET by ID is current."""

    def __init__(self, endpoints=(), auths=(), listed=(), **kwargs):
        super(StaleList, self).__init__(endpoints, auths=auths, **kwargs)
        self.listed = [copy.deepcopy(e) for e in listed]

    def list_all(self, path, items_key, query=None, page_param="pageNum", key=None):
        if path != "/endpoints":
            return super(StaleList, self).list_all(path, items_key, query, page_param, key)
        self._record(("LIST", path))
        return copy.deepcopy(self.listed)


def test_a_repoint_builds_the_update_from_a_read_by_id_not_from_a_stale_list():
    current = using("ep1", "chat")
    current["workerConfig"] = dict(current["workerConfig"], maxNum=5)
    client = StaleList([current], auths=auths(), listed=[using("ep1", "chat")])
    converge(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    sent = [body for path, body in client.bodies if path == "/endpoint/update"]
    assert len(sent) == 1 and sent[0]["workerConfig"]["maxNum"] == 5 and sent[0]["image"]["authId"] == "auth-new1"
    assert client.endpoints["ep1"]["workerConfig"]["maxNum"] == 5


def test_an_endpoint_that_no_longer_uses_the_credential_when_read_by_id_is_not_updated():
    client = StaleList([using("ep1", "chat", auth_id="a2")], auths=auths(), listed=[using("ep1", "chat")])
    task = converger(client, name="hub", password=NEW_PASSWORD, repoint_endpoints=True)
    result = task.run()
    assert client.count(*UPDATE) == 0 and result["repointed_endpoints"] == [] and client.auth_ids("hub") == ["auth-new1"]
    assert task.warnings == ["endpoint chat (ep1) was listed as using a1, but read by ID it uses a2, so it was not updated"]


# ---------------------------------------------------------------- the info helper

def test_info_lists_all_or_by_name_without_passwords_and_with_usage_on_request():
    client = FakeClient([using("ep1", "chat"), using("ep2", "embed", auth_id="a2"), using("ep3", "batch")], auths=auths())
    assert registry_auths_info(client) == [{"id": "a1", "name": "hub", "username": "bot"}, {"id": "a2", "name": "other", "username": "someone"}]
    assert client.calls == [GET_AUTHS]
    assert registry_auths_info(client, name="hub", used_by=True) == [
        {"id": "a1", "name": "hub", "username": "bot", "used_by": [{"id": "ep1", "name": "chat"}, {"id": "ep3", "name": "batch"}]}]
    client.calls = []
    assert registry_auths_info(client, name="nothing", used_by=True) == []
    assert client.calls == [GET_AUTHS]
    assert client.scrub("a %s b" % OTHER_PASSWORD) == "a ******** b"
