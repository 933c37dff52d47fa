# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Endpoint operations on the API and the convergence of one declared endpoint."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime
import re
import time

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError, NovitaError, create_once, delete_by_id, error_name, is_not_found, raise_problems
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import (
    apply_options,
    build_payload,
    check_limits,
    create_base,
    diff_header,
    diff_views,
    endpoint_result,
    env_value,
    hidden_env_names,
    hidden_env_values,
    immutable_changes,
    model_from_api,
    validate_model,
)

SERVING_STATE = "serving"
FAILED_STATES = ("failed", "error")
# States that say the endpoint is on its way somewhere: never "settled", whatever else the read shows.
TRANSITIONAL_STATES = ("pending", "creating", "initializing", "updating", "deleting", "terminating")
# An endpoint with min_num 0 may never report serving (no worker runs): its wait ends when its settings read back,
# it reports no error and the same non-transitional state holds for this many reads in a row.
ZERO_WORKER_STABLE_READS = 3
POLL_FIRST_DELAY = 1.0
# Reads of an endpoint whose update got no clear reply, to tell an applied update from a stale read.
READ_BACK_READS = 3
POLL_MAX_DELAY = 5.0
APP_NAME_TAKEN = "SERVERLESS_APP_NAME_IS_EXIST"


# What a converger did (or, in check mode, would do) to its endpoint: the ``action`` of its result.
CREATED, UPDATED, RECREATED, DELETED, UNCHANGED = "created", "updated", "recreated", "deleted", "unchanged"
# The action of a run that failed before its write: nothing was done; ``planned`` says what it was about to do.
NONE = "none"


class EndpointError(NovitaError):
    """A failure of an endpoint operation that is not one API request's error (those are NovitaAPIError)."""


class ProblemsError(EndpointError):
    """The problems a run found before any write (``errors`` lists them); nothing was written."""


class EndpointAPI:
    """The v1 endpoint calls, in the shapes the API uses (wrapped create and get, delete by ``name``)."""

    def __init__(self, client, sleep=time.sleep, clock=time.monotonic):
        self.client = client
        self._sleep = sleep
        self._clock = clock
        # Endpoints a create must never be taken to have made (the one a recreate replaces has the same name).
        self.excluded_ids = set()

    def pause(self, seconds):
        self._sleep(seconds)

    def get(self, endpoint_id):
        """The endpoint with this ID, or None when the API does not know it."""
        try:
            data = self.client.get("/endpoint", {"id": endpoint_id})
        except NovitaAPIError as exc:
            # Not found comes as a 404 or as a 400 whose reason is SERVERLESS_ENDPOINT_NOT_FOUND.
            if is_not_found(exc):
                return None
            raise
        endpoint = data.get("endpoint") if isinstance(data, dict) else None
        return endpoint if isinstance(endpoint, dict) and endpoint else None

    def list(self):
        return self.client.list_all("/endpoints", "endpoints")

    def find_by_name(self, name):
        """The one endpoint with this name, None if there is none; several are an error (names are not unique in the API)."""
        matches = [e for e in self.list() if e.get("name") == name]
        if len(matches) > 1:
            ids = sorted(str(e.get("id")) for e in matches)
            raise EndpointError("%d endpoints are named %s (IDs: %s); set id to choose the one to manage" % (len(matches), name, ", ".join(ids)),
                                endpoint_ids=ids)
        return matches[0] if matches else None

    def limits(self):
        return self.client.get("/endpoint/limit")

    def registry_auths(self):
        """The account's registry credentials (only their ``id`` and ``name`` are kept: the API also sends the password)."""
        items = self.client.read_list("/repository/auths", "data")
        # The passwords came with the list: never in a message from now on.
        self.client.add_secrets(*[str(a["password"]) for a in items if a.get("password")])
        return [dict(id=str(a.get("id")), name=a.get("name")) for a in items]

    def network_storages(self, name):
        """The network storages whose name contains ``name`` (the API's filter), every page, checked by the pager."""
        return self.client.list_all("/networkstorages/list", "data", query={"storageName": name}, page_param="pageNo",
                                    key=lambda storage: storage.get("storageId"))

    def create(self, body):
        """Create the endpoint and return ``(id, adopted)``, never making two endpoints with one name.

        The create is sent once (see ``create_once``): after a failure that leaves open whether the API created the
        endpoint, the list is read again and an endpoint with the name is adopted (``adopted`` is True); only when none
        exists is the create sent again. A create without a name cannot be looked up: its transient failures are final.
        """
        name = body.get("name")

        def gave_up(exc, attempts):
            return EndpointError("%s; no endpoint named %s exists, so none was created (gave up after %d attempts)"
                                 % (exc.msg, name, attempts), failure=exc.to_dict())

        data, found = create_once(self.client, lambda: self._send_create(body), (lambda exc: self._find_after_ambiguous_create(name, exc))
                                  if name else None, gave_up)
        if found is not None:
            return str(found["id"]), True
        endpoint_id = data.get("id") if isinstance(data, dict) else None
        if not endpoint_id:
            raise EndpointError("Novita API accepted the create request for %s but returned no endpoint ID (response: %s)"
                                % (name, self.client.scrub(repr(data))))
        return str(endpoint_id), False

    def _send_create(self, body):
        try:
            return self.client.post("/endpoint/create", {"endpoint": body})
        except NovitaAPIError as exc:
            if _names_reason(exc, APP_NAME_TAKEN):
                raise EndpointError("app_name: %s is already used by another endpoint of this account (%s); app names are unique per account:"
                                    " choose another app_name, or leave it out to use the endpoint ID. Nothing was created"
                                    % (body.get("appName"), APP_NAME_TAKEN), failure=exc.to_dict())
            raise

    def _find_after_ambiguous_create(self, name, exc):
        try:
            matches = [e for e in self.list() if e.get("name") == name and str(e.get("id")) not in self.excluded_ids]
            if len(matches) > 1:
                self.find_by_name(name)  # raises, naming them
            return matches[0] if matches else None
        except NovitaAPIError as lookup:
            unknown = EndpointError("%s; whether endpoint %s was created is unknown: looking it up failed too: %s. Check before running again"
                                    % (exc.msg, name, lookup.msg), failure=exc.to_dict())
            unknown.outcome_unknown = True
            raise unknown

    def update(self, body):
        """Send the full replacement; repeating it is harmless, so transient failures are retried."""
        self.client.post("/endpoint/update", body, retry=True)

    def delete(self, endpoint_id):
        """Delete by ID (the API's key is ``name``), retried on transient failures; an endpoint already gone counts as deleted."""
        delete_by_id(self.client, "/endpoint/delete", {"name": endpoint_id})

    def wait(self, endpoint_id, timeout, gone=False, expect=None, previous=None, warnings=None):
        """Poll until the endpoint is ready (or, with ``gone``, until it no longer exists); returns the last read.

        Ready means: no error, and the state is ``serving``, and, when ``expect`` (option -> value of the model) is
        given, the read shows those settings. ``previous`` holds the same options' values before the write: a read that
        still shows them is stale (the API may report the old ``serving`` endpoint for a moment after an update) and the
        wait goes on. An endpoint with ``min_num`` 0 may run no worker and never report ``serving``: it is ready once its
        settings read back, it reports no error and the same state that is not a transition (pending, creating, ...)
        holds for ``ZERO_WORKER_STABLE_READS`` reads; a warning then names the state. Any state the module does not know
        is "not ready yet"; ``failed``, ``error`` or a non-empty ``state.error`` fails at once.
        """
        deadline = self._clock() + timeout
        delay = POLL_FIRST_DELAY
        readiness = None if gone else _Readiness(endpoint_id, expect, previous, warnings)
        while True:
            endpoint = self.get(endpoint_id)
            if endpoint is None:
                if gone:
                    return None
                raise EndpointError("endpoint %s disappeared while waiting for it to serve" % endpoint_id, endpoint_id=endpoint_id)
            state = endpoint.get("state") if isinstance(endpoint.get("state"), dict) else {}
            if readiness is not None and readiness.ready(endpoint, state):
                return endpoint
            remaining = deadline - self._clock()
            if remaining <= 0:
                stale = not gone and settings_read_back(endpoint, expect, previous) is False
                raise EndpointError("timed out waiting for endpoint %s to %s; last state: %s%s"
                                    % (endpoint_id, "be deleted" if gone else "serve", _state_text(state),
                                       ", still showing the settings before the update" if stale else ""),
                                    endpoint_id=endpoint_id, endpoint_state=state)
            self._sleep(min(delay, remaining))
            delay = min(delay * 2, POLL_MAX_DELAY)


class _Readiness:
    """Tells, read after read, whether an endpoint being waited for is ready (see ``EndpointAPI.wait``)."""

    def __init__(self, endpoint_id, expect, previous, warnings):
        self.endpoint_id = endpoint_id
        self.expect = expect
        self.previous = previous
        self.warnings = warnings
        self.stable_state, self.stable_reads = None, 0

    def ready(self, endpoint, state):
        """Whether this read shows the endpoint ready; an endpoint that reports a failure raises."""
        state_name = str(state.get("state") or "").strip().lower()
        if state_name in FAILED_STATES or state.get("error"):
            raise EndpointError("endpoint %s reports state %s: it failed; look at the endpoint's log in the Novita console, fix the cause"
                                " and run the task again" % (self.endpoint_id, _state_text(state)),
                                endpoint_id=self.endpoint_id, endpoint_state=state)
        settled = settings_read_back(endpoint, self.expect, self.previous)
        if settled is not False and state_name == SERVING_STATE:
            if settled is None:
                self._warn("endpoint %s serves, but reads back %s differently from what was sent" % (self.endpoint_id, ", ".join(sorted(self.expect))))
            return True
        return self._settled_without_workers(endpoint, state, state_name, settled)

    def _settled_without_workers(self, endpoint, state, state_name, settled):
        """An endpoint with min_num 0 whose settings read back is ready once one state that is no transition held long enough."""
        if settled is not True or not _zero_workers(endpoint) or state_name in TRANSITIONAL_STATES:
            self.stable_state, self.stable_reads = None, 0
            return False
        self.stable_reads = self.stable_reads + 1 if state_name == self.stable_state else 1
        self.stable_state = state_name
        if self.stable_reads < ZERO_WORKER_STABLE_READS:
            return False
        self._warn("endpoint %s has min_num 0 and reports state %s, not serving; its settings read back and the state held"
                   " for %d reads, so the wait ended" % (self.endpoint_id, _state_text(state), self.stable_reads))
        return True

    def _warn(self, text):
        if self.warnings is not None:
            self.warnings.append(text)


def settings_read_back(endpoint, expect, previous):
    """Whether a read shows the settings a write sent: True; False while it still shows the ones before (a stale read);
    None when it shows neither (the API stored something else). Without ``expect`` there is nothing to compare: True."""
    if not expect:
        return True
    model = model_from_api(endpoint)
    if all(model.get(key) == value for key, value in expect.items()):
        return True
    if previous is None or any(model.get(key) == previous.get(key) for key in expect):
        return False
    return None


def _zero_workers(endpoint):
    worker_config = endpoint.get("workerConfig") if isinstance(endpoint.get("workerConfig"), dict) else {}
    try:
        return int(worker_config.get("minNum")) == 0
    except (TypeError, ValueError):
        return False


def _names_reason(exc, reason):
    """Whether an API error names this reason: its error name, or failing one, its message."""
    return reason in str(error_name(exc) or exc.api_message or "")


def _state_text(state):
    text = str(state.get("state") or "unknown")
    extra = [str(state[k]) for k in ("error", "message") if state.get(k)]
    return text + (" (%s)" % "; ".join(extra) if extra else "")


class EndpointConverger:
    """Brings one endpoint to the state a task declares, within the request budget:

    by id 1 read, by name the list pages; the limits only when a write is coming; then the one write
    and the wait polls. Check mode makes the same reads and no write.
    """

    def __init__(self, api, params, check_mode=False, want_diff=False, problems=()):
        self.api = api
        self.params = params
        self.check_mode = check_mode
        self.want_diff = want_diff
        # Problems found so far (``problems``: the task's own, see ``validate_options``). The run goes on with its reads
        # to find the rest (names that do not resolve, create-only changes, account limits) and reports them all
        # together before any write.
        self.problems = list(problems)
        self._names_resolved = True
        self._replaced_id = None  # with recreate: the endpoint the diff's before side is about
        self.secret_names = set(str(k) for k in (params.get("secret_envs") or {}))
        self.result = {"changed": False, "action": UNCHANGED, "endpoint": {}}
        # Error replies may quote a request body, which carries every env value: the client scrubs the task's
        # secret values, and (once the endpoint is read) the values of variables the task does not declare plain.
        self.api.client.add_secrets(*[env_value(v) for v in (params.get("secret_envs") or {}).values()])

    def run(self):
        """Converge and return the module result.

        Every problem found before the first write is reported together, in one error: the task's own (given to
        the constructor), names that do not resolve, create-only changes without ``recreate``, the values the
        endpoint would have outside the account's limits. Nothing is written when there is one.
        """
        if self.params.get("state") == "absent":
            self._stop_on_problems()
            return self._absent(self._lookup())
        try:
            return self._present()
        except NovitaError as exc:
            if not self.problems or isinstance(exc, ProblemsError):
                raise
            # A read failed, so the rest cannot be checked; the problems found so far are still the answer.
            self.problems.append("the checks that need the API could not be made: %s" % exc.msg)
            self._stop_on_problems(**exc.details)
            raise

    def _lookup(self):
        params = self.params
        if params.get("id"):
            current = self.api.get(params["id"])
        elif params.get("name"):
            current = self.api.find_by_name(params["name"])
        else:
            current = None  # an empty name is one of the problems already
        if current is not None:
            self.api.client.add_echoed(*hidden_env_values(self.params.get("envs"), current))
        return current

    def _present(self):
        found = len(self.problems)
        self.params = resolve_names(self.api, self.params, self.problems)
        self._names_resolved = len(self.problems) == found
        params = self.params
        current = self._lookup()
        if current is None:
            if params.get("id"):
                self.problems.append("id: no endpoint with id %s exists; to create an endpoint, give name without id" % params["id"])
                self._stop_on_problems()
            return self._create(None)
        current_model = model_from_api(current)
        if not params.get("id") and self._needs_write(current_model):
            # The list may lag behind the last write: a full replace is built from a read by ID, never from the list.
            current = self._read_fresh(current)
            current_model = model_from_api(current)
        immutable = immutable_changes(current_model, params)
        if immutable and not params.get("recreate"):
            self.problems.extend("%s: endpoint %s cannot change %s from %r to %r: it is set at creation only; set recreate=true to"
                                 " delete the endpoint and create it anew" % (option, current.get("id"), option, old, new)
                                 for option, old, new in immutable)
            # What the update would be, checked too: every problem shows now, not after recreate=true is added.
            self._plan(RECREATED)
            self._validate(apply_options(current_model, params), creating=False)
        if immutable:
            return self._create(current, current_model)
        return self._update(current, current_model)

    def _read_back(self, endpoint_id, expect, previous):
        """Whether the endpoint shows the settings of an update whose answer was lost. A read that still shows the settings
        before may be stale (see ``EndpointAPI.wait``): it is read again, up to ``READ_BACK_READS`` times in all."""
        for attempt in range(READ_BACK_READS):
            if attempt:
                self.api.pause(POLL_FIRST_DELAY)
            try:
                shown = settings_read_back(self.api.get(endpoint_id) or {}, expect, previous)
            except NovitaError:
                return False
            if shown is not False:
                return shown is True
        return False

    def _needs_write(self, current_model):
        return bool(immutable_changes(current_model, self.params)) or apply_options(current_model, self.params) != current_model

    def _read_fresh(self, listed):
        """The endpoint the list showed, read again by ID; it must still exist."""
        fresh = self.api.get(listed["id"])
        if fresh is None:
            raise EndpointError("endpoint %s (%s) is in the endpoint list, but reading it by ID finds nothing: it was deleted meanwhile."
                                " Nothing was written; run the task again" % (listed.get("name"), listed["id"]))
        self.api.client.add_echoed(*hidden_env_values(self.params.get("envs"), fresh))
        return fresh

    def _plan(self, action):
        """What the run is about to do: ``planned``, while ``action`` stays ``none`` until it is done (or simulated)."""
        self.result["action"] = NONE
        self.result["planned"] = action

    def _done(self, action=None):
        """A write was accepted (or, in check mode, simulated): the action is what was planned."""
        self.result["action"] = action or self.result.pop("planned", self.result["action"])
        self.result.pop("planned", None)
        if not self.check_mode:
            self.result["changed"] = True

    # -- the three outcomes

    def _absent(self, current):
        if current is None:
            return self._finish(None, None, None, None, changed=False)
        endpoint_id = current["id"]
        before = model_from_api(current)
        self._plan(DELETED)
        # changed becomes true once the delete was accepted, not before: a refused delete changed nothing.
        self._finish(current, before, before, None, changed=self.check_mode)
        if self.check_mode:
            self._done()
            return self.result
        self.api.delete(endpoint_id)
        self._done()
        if self.params.get("wait", True):
            self._after_write("deleted endpoint %s" % endpoint_id, endpoint_id, self.api.wait, endpoint_id, self.params["wait_timeout"], gone=True)
        return self.result

    def _update(self, current, current_model):
        desired = apply_options(current_model, self.params)
        if desired == current_model and not self.problems:
            return self._finish(current, current_model, current_model, desired, changed=False)
        self._plan(UPDATED)
        self._validate(desired, creating=False)
        endpoint_id = current["id"]
        body = dict(id=endpoint_id, **build_payload(desired, for_create=False))
        if self.check_mode:
            self._done()
            return self._finish(current, desired, current_model, desired, changed=True)
        keys = [key for key in desired if desired[key] != current_model.get(key)]
        expect = dict((key, desired[key]) for key in keys)
        previous = dict((key, current_model.get(key)) for key in keys)
        self._send_update(endpoint_id, body, expect, previous)
        self._done()
        # Without a wait the result is the endpoint as sent; with one, as the API reads it back.
        final, final_model = current, desired
        if self.params.get("wait", True):
            final = self._after_write("updated endpoint %s" % endpoint_id, endpoint_id,
                                      self.api.wait, endpoint_id, self.params["wait_timeout"], expect=expect, previous=previous,
                                      warnings=self.result.setdefault("warnings", []))
            final_model = None
        return self._finish(final, final_model, current_model, desired, changed=True)

    def _send_update(self, endpoint_id, body, expect, previous):
        """Send the full replacement. When its answer is unclear, the endpoint is read back: showing the new settings, the
        update took effect and the run goes on; otherwise it fails, ``changed`` true, saying the update may have been applied."""
        try:
            self.api.update(body)
            return
        except NovitaAPIError as exc:
            if not exc.ambiguous:
                raise EndpointError("updating endpoint %s failed: %s; it was not applied" % (endpoint_id, exc.msg),
                                    failure=exc.to_dict())
            error = exc
        if self._read_back(endpoint_id, expect, previous):
            self.result.setdefault("warnings", []).append("the update of endpoint %s got no clear reply (%s); reading it back shows it"
                                                          " was applied" % (endpoint_id, error.msg))
            return
        self._done()
        raise EndpointError("updating endpoint %s failed: %s; it may or may not have been applied (an update replaces the whole endpoint,"
                            " never a part of it), so changed is true; run the task again to converge" % (endpoint_id, error.msg),
                            endpoint_id=endpoint_id, failure=error.to_dict())

    def _create(self, replaced, replaced_model=None):
        """Create the endpoint; with ``replaced`` (``recreate``), replace that one, keeping its settings (see ``_recreate``)."""
        if replaced is None:
            desired = apply_options(create_base(), self.params)
        else:
            base = dict(replaced_model)
            if base["app_name"] == replaced.get("id"):
                base["app_name"] = ""  # the API's default (the ID) goes with the old endpoint
            desired = apply_options(base, self.params)
        self._plan(CREATED if replaced is None else RECREATED)
        self._replaced_id = replaced["id"] if replaced is not None else None
        self._validate(desired, creating=True)
        body = build_payload(desired, for_create=True)
        if self.check_mode:
            self._done()
            return self._finish({"id": None, "state": None}, desired, replaced_model, desired, changed=True)
        if replaced is None:
            return self._create_new(body, desired, None, "")
        return self._recreate(replaced, replaced_model, body, desired)

    def _recreate(self, replaced, replaced_model, body, desired):
        """Replace an endpoint without ever losing it.

        Where the API allows two at once (the new endpoint does not take the old one's app name), the replacement is created
        first and the old endpoint deleted after; a refused create leaves the old one untouched. Otherwise the old one is
        deleted first, and when the create is then refused, the old endpoint is created again with its complete settings;
        if even that fails, the failure carries its complete declaration (secret values masked) to restore it by hand.
        """
        old_id = replaced["id"]
        if not body.get("appName") or body["appName"] != replaced_model.get("app_name"):
            self.api.excluded_ids = set([old_id])  # the old endpoint has the name too: never take it for the new one
            try:
                result = self._create_new(body, desired, replaced_model, "", refused=" the old endpoint %s is untouched" % old_id)
            finally:
                self.api.excluded_ids = set()
            done = "created endpoint %s to replace endpoint %s" % (result["endpoint"].get("id"), old_id)
            self._after_write(done, old_id, self._delete_replaced, old_id, self.params.get("wait", True))
            return result
        # The app name must be free before the create: this deletion is waited for even with wait=false.
        self._delete_replaced(old_id, True)
        done = "deleted endpoint %s to recreate it" % old_id
        try:
            return self._create_new(body, desired, replaced_model, done)
        except NovitaError as exc:
            if "endpoint_id" in exc.details:
                raise  # the replacement exists; what failed came after
            if getattr(exc, "outcome_unknown", False):
                raise EndpointError("%s, then creating its replacement failed: %s" % (done, exc.msg), **exc.details)
            self._restore(replaced_model, done, exc)

    def _delete_replaced(self, old_id, wait):
        self.api.delete(old_id)
        self.result["changed"] = True
        self.result["replaced_endpoint_id"] = old_id
        if wait:
            self._after_write("deleted endpoint %s to recreate it" % old_id, old_id, self.api.wait, old_id, self.params["wait_timeout"], gone=True)

    def _restore(self, replaced_model, done, exc):
        """The replacement was refused after the old endpoint was deleted: create the old one again, with every setting it had."""
        old_body = build_payload(replaced_model, for_create=True)
        try:
            restored_id, dummy = self.api.create(old_body)
        except NovitaError as again:
            self._done(DELETED)  # what happened in the end: the endpoint is gone
            hidden = self.hidden_env_names(None, replaced_model, None)
            raise EndpointError("%s, then creating its replacement failed: %s; restoring the old endpoint failed too: %s. Its complete"
                                " declaration is in lost_endpoint (secret values masked): create it again from there"
                                % (done, exc.msg, again.msg), lost_endpoint=endpoint_result(None, hidden, model=replaced_model),
                                **exc.details)
        self._done(RECREATED)  # deleted and created again, with its old settings and a new ID
        self.result["restored_endpoint_id"] = restored_id
        raise EndpointError("%s, then creating its replacement failed: %s; the old endpoint was created again with its complete settings"
                            " as %s (a new ID). Fix the cause and run the task again" % (done, exc.msg, restored_id),
                            restored_endpoint_id=restored_id, **exc.details)

    def _create_new(self, body, desired, replaced_model, done, refused=""):
        """Send the create, settle concurrent creates of the name, wait; ``done`` says what the run did before."""
        try:
            new_id, adopted = self.api.create(body)
        except NovitaError as exc:
            if refused:
                raise EndpointError("creating the replacement failed: %s; nothing was changed:%s" % (exc.msg, refused), **exc.details)
            raise
        self._done()
        warnings = self.result.setdefault("warnings", [])
        if adopted:
            warnings.append("the create request for %s got no clear reply; the endpoint it created (%s) was found by name and adopted"
                            % (body.get("name"), new_id))
        done = ("%s; created endpoint %s" % (done, new_id)) if done else "created endpoint %s" % new_id
        if body.get("name") and not adopted:
            kept = self._after_write(done, new_id, self._settle_duplicates, body["name"], new_id, warnings)
            if kept is not None:
                return self._adopt_rival(kept, done, replaced_model, desired, warnings)
        final, final_model = {"id": new_id, "state": None}, desired
        if self.params.get("wait", True):
            final = self._after_write(done, new_id, self.api.wait, new_id, self.params["wait_timeout"], warnings=warnings)
            final_model = None
        return self._finish(final, final_model, replaced_model, desired, changed=True)

    def _adopt_rival(self, kept, done, replaced_model, desired, warnings):
        """Another run created the same name first: its endpoint is kept (and converged), this run's copy is gone."""
        action = self.result["action"]
        kept_model = model_from_api(kept)
        if apply_options(kept_model, self.params) != kept_model:
            result = self._update(kept, kept_model)
        else:
            final = kept
            if self.params.get("wait", True):
                final = self._after_write("%s, deleted it again and adopted %s" % (done, kept["id"]), kept["id"],
                                          self.api.wait, kept["id"], self.params["wait_timeout"], warnings=warnings)
            result = self._finish(final, None, replaced_model, desired, changed=True)
        result["changed"] = True
        result["action"] = action
        return result

    def _settle_duplicates(self, name, new_id, warnings):
        """After a create, make concurrent creates of one name converge to one endpoint; returns the endpoint to adopt, or None.

        Every run that created an endpoint reads the list once more. If other endpoints have the same name, all runs
        apply one rule: the endpoint created first (by ``createdAt``, then by ID) is kept. A run whose own endpoint is
        not that one deletes its own and adopts the kept one. The run whose endpoint was created later always sees the
        earlier one, so the rule holds even when the first run has already finished. Without a readable ``createdAt``
        on every one of them, nothing tells which to keep: all are kept and the run fails naming them.
        """
        same = [e for e in self.api.list() if e.get("name") == name and str(e.get("id")) not in self.api.excluded_ids]
        others = [e for e in same if str(e.get("id")) != new_id]
        if not others:
            return None
        if not any(str(e.get("id")) == new_id for e in same):
            own = self.api.get(new_id)
            same = same + ([own] if own is not None else [])
        self.api.client.add_echoed(*[v for e in others for v in hidden_env_values(self.params.get("envs"), e)])
        stamps = dict((str(e.get("id")), created_at(e.get("createdAt"))) for e in same)
        other_ids = ", ".join(sorted(str(e.get("id")) for e in others))
        if any(stamp is None for stamp in stamps.values()):
            raise EndpointError("endpoint %s is also named %s (another run created it at the same time?); the API gives no creation time"
                                " to choose which to keep, so both were kept: delete one of them"
                                % (other_ids, name), endpoint_id=new_id, duplicate_endpoint_ids=sorted(str(e.get("id")) for e in others))
        keep = min(same, key=lambda e: (stamps[str(e.get("id"))], str(e.get("id"))))
        if str(keep.get("id")) == new_id:
            warnings.append("endpoint %s is also named %s: another run created it at the same time, after this one; this run keeps %s and"
                            " the other run deletes its own" % (other_ids, name, new_id))
            return None
        self.api.delete(new_id)
        if self.params.get("wait", True):
            self.api.wait(new_id, self.params["wait_timeout"], gone=True)
        warnings.append("another run created endpoint %s with the same name %s first, at the same time as this run; this run deleted the"
                        " endpoint it had created (%s) and adopted %s" % (keep.get("id"), name, new_id, keep.get("id")))
        self.result["duplicate_deleted_id"] = new_id
        return keep

    # -- helpers

    def _validate(self, desired, creating):
        """Check the endpoint the task would produce, against the account's limits too; raise with every problem found.
        Nothing was written yet, so the failure carries no ``endpoint_id``."""
        self.problems.extend(validate_model(desired, creating, storages_resolved=self._names_resolved))
        try:
            self.problems.extend(check_limits(desired, self.api.limits(), creating))
        except NovitaError as exc:
            if not self.problems:
                raise
            self.problems.append("the account's limits could not be read to check the values against them: %s" % exc.msg)
        self._stop_on_problems()

    def _stop_on_problems(self, **details):
        """Raise one error listing every problem found, if there is one (see ``raise_problems``); nothing was written."""
        raise_problems(self.problems, ProblemsError, **details)

    def _after_write(self, done, endpoint_id, func, *args, **kwargs):
        """Run a step that follows a write; if it fails, the message says what was already done."""
        try:
            return func(*args, **kwargs)
        except NovitaError as exc:
            details = dict(exc.details, endpoint_id=endpoint_id)
            raise EndpointError("%s, then: %s" % (done, exc.msg), **details)

    def hidden_env_names(self, endpoint, before=None, after=None):
        """Env names whose values are not shown (``hidden_env_names``): every variable of the endpoint, the model before
        and after, and the task's ``secret_envs``, except the ones the task declares plain in ``envs``."""
        return hidden_env_names(self.params.get("envs"), self.secret_names, (endpoint or {}).get("envs"),
                                (before or {}).get("envs"), (after or {}).get("envs"))

    def _finish(self, endpoint, model, before, after, changed):
        """The result: ``endpoint`` is the API object (its ``id``, ``state``... are returned), ``model`` its settings
        (None: read them from ``endpoint``); ``before`` and ``after`` are the models for the diff."""
        self.result["changed"] = changed
        if not self.result.get("warnings"):
            self.result.pop("warnings", None)
        hidden = self.hidden_env_names(endpoint, before, after)
        self.result["endpoint"] = endpoint_result(endpoint, hidden, model=model)
        if self.want_diff:
            before_view, after_view = diff_views(before, after, hidden)
            endpoint_id = (endpoint or {}).get("id")
            self.result["diff"] = {
                "before": before_view,
                "after": after_view,
                "before_header": diff_header((before or after or {}).get("name") or self.params.get("name"), self._replaced_id or endpoint_id),
                "after_header": diff_header((after or before or {}).get("name") or self.params.get("name"), endpoint_id),
            }
        return self.result


def resolve_names(api, params, problems=None):
    """The task's parameters with ``image.auth_name`` and ``volume_mounts[].storage_name`` replaced by IDs.

    A registry credential or network storage is looked up only when the task names one. A network storage's
    cluster fills ``cluster_id`` when the task leaves it out; a different ``cluster_id`` is an error. Unknown and
    ambiguous names are errors, found before any write: added to ``problems`` when it is given, else raised.
    """
    image = params.get("image") or {}
    mounts = params.get("volume_mounts") or []
    if not image.get("auth_name") and not any(m.get("storage_name") for m in mounts):
        return params
    params = copy.deepcopy(params)
    errors = []
    if image.get("auth_name"):
        _resolve_auth_name(api, params, errors)
    cluster_from = None
    for index, mount in enumerate(params.get("volume_mounts") or []):
        if mount.get("storage_name"):
            cluster_from = _resolve_storage_name(api, params, index, mount, cluster_from, errors)
    if errors and problems is None:
        raise EndpointError("; ".join(errors), errors=errors)
    if errors:
        problems.extend(errors)
    return params


def _resolve_auth_name(api, params, errors):
    """Replace ``image.auth_name`` by the ID of the one registry credential with that name."""
    name = params["image"]["auth_name"]
    matches = [a for a in api.registry_auths() if a["name"] == name]
    if len(matches) == 1:
        params["image"]["auth_id"] = matches[0]["id"]
    elif matches:
        errors.append("image.auth_name: %d registry credentials are named %s (IDs: %s); set image.auth_id instead"
                      % (len(matches), name, ", ".join(sorted(a["id"] for a in matches))))
    else:
        errors.append("image.auth_name: no registry credential is named %s" % name)
    params["image"]["auth_name"] = None


def _resolve_storage_name(api, params, index, mount, cluster_from, errors):
    """Replace a mount's ``storage_name`` by the ID of the one network storage with that name, and fill ``cluster_id`` from
    its cluster; returns what set ``cluster_id`` (for the message when a later mount disagrees)."""
    name = mount["storage_name"]
    where = "volume_mounts[%d].storage_name" % index
    matches = [st for st in api.network_storages(name) if st.get("storageName") == name]
    mount["storage_name"] = None
    if len(matches) != 1:
        errors.append("%s: %s" % (where, "%d network storages are named %s (IDs: %s); set id instead"
                                  % (len(matches), name, ", ".join(sorted(str(st.get("storageId")) for st in matches)))
                                  if matches else "no network storage is named %s" % name))
        return cluster_from
    mount["id"] = str(matches[0].get("storageId"))
    cluster = str(matches[0].get("clusterId") or "")
    if params.get("cluster_id") and params["cluster_id"] != cluster:
        errors.append("%s: network storage %s is in cluster %s, but %s is %s"
                      % (where, name, cluster, "cluster_id" if cluster_from is None else cluster_from, params["cluster_id"]))
        return cluster_from
    if not params.get("cluster_id"):
        params["cluster_id"], cluster_from = cluster, "the cluster of volume_mounts[%d]" % index
    return cluster_from


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_ISO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def created_at(value):
    """Seconds since the epoch of a ``createdAt`` value: ISO 8601 (UTC when no offset is given), or epoch seconds or milliseconds
    (a number or a numeric string); None when it is missing or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        # More than 10^11 seconds is beyond the year 5000: such a number counts milliseconds.
        return number / 1000.0 if abs(number) > 1e11 else number
    match = _ISO_TIME.match(text)
    if not match:
        return None
    day, clock, fraction, zone = match.groups()
    try:
        when = datetime.datetime.strptime(day + "T" + clock, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    offset = 0
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    seconds = (when.replace(tzinfo=datetime.timezone.utc) - _EPOCH).total_seconds() - offset
    return seconds + (float(fraction) if fraction else 0.0)


def fail(module, client, exc, result=None, **extra):
    """End the module run with ``exc``: the message, the failure details and the partial result, every message scrubbed of
    the API key and the secret values the client has learnt (including ones learnt after the error was made)."""
    details = dict(result or {})
    details.update(exc.details)
    details.update(extra)
    if details.get("changed") is False and details.get("action") not in (None, UNCHANGED, NONE):
        # Nothing was written: the action says so, and ``planned`` what the run was about to do.
        details["planned"] = details["action"]
        details["action"] = NONE
    msg, failure = client.scrub_failure(exc.msg, details.get("failure") if isinstance(details.get("failure"), dict) else None)
    if isinstance(details.get("failure"), dict):
        details["failure"] = failure
    warn(module, client, details.pop("warnings", None))
    details.pop("msg", None)
    module.fail_json(msg=msg, **client.add_trace(details))


def warn(module, client, warnings):
    """Hand the run's warnings to Ansible (``module.warn``; a ``warnings`` key in the result is deprecated), scrubbed."""
    for text in warnings or ():
        module.warn(client.scrub(text))
