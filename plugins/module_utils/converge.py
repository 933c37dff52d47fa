# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Endpoint operations on the API and the convergence of one declared endpoint."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import (
    build_payload,
    changed_secret_names,
    check_limits,
    create_base,
    diff_view,
    endpoint_result,
    immutable_changes,
    merge_api,
    model_from_api,
    apply_options,
    validate_model,
)

SERVING_STATE = "serving"
FAILED_STATES = ("failed", "error")
POLL_FIRST_DELAY = 1.0
POLL_MAX_DELAY = 5.0


class EndpointError(Exception):
    """A failure to report to the user; ``details`` go into the module result next to ``msg``."""

    def __init__(self, msg, **details):
        super(EndpointError, self).__init__(msg)
        self.msg = msg
        self.details = details


class EndpointAPI:
    """The v1 endpoint calls, in the shapes the API uses (wrapped create and get, delete by ``name``)."""

    def __init__(self, client, sleep=time.sleep, clock=time.monotonic):
        self.client = client
        self._sleep = sleep
        self._clock = clock

    def get(self, endpoint_id):
        """The endpoint with this ID, or None when the API does not know it."""
        try:
            data = self.client.get("/endpoint", {"id": endpoint_id})
        except NovitaAPIError as exc:
            if exc.status == 404:
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

    def create(self, body):
        """Create the endpoint and return ``(id, adopted)``, never making two endpoints with one name.

        The create request itself is never repeated blindly. After a failure that leaves open whether the
        API created the endpoint (a timeout, a dropped connection, an unreadable reply, a 5xx), the endpoint
        list is read again: an endpoint with the name is adopted (``adopted`` is True); only when none exists
        is the create sent again, within the client's retry policy. A 429 is a refusal, so it is waited out
        and the create repeated.
        """
        name = body.get("name")
        attempt = 0
        while True:
            try:
                data = self.client.post("/endpoint/create", {"endpoint": body})
            except NovitaAPIError as exc:
                if not exc.transient or not name:
                    raise
                exc.attempts = attempt + 1
                if exc.ambiguous:
                    found = self._find_after_ambiguous_create(name, exc)
                    if found is not None:
                        return str(found["id"]), True
                delay = self.client.retry_delay(attempt, exc.retry_after)
                if delay is None:
                    if exc.ambiguous:
                        raise EndpointError("%s; no endpoint named %s exists, so none was created (gave up after %d attempts)"
                                            % (_message(exc), name, attempt + 1), failure=exc.to_dict())
                    raise
                self.client.pause(delay)
                attempt += 1
                continue
            endpoint_id = data.get("id") if isinstance(data, dict) else None
            if not endpoint_id:
                raise EndpointError("Novita API accepted the create request for %s but returned no endpoint ID (response: %r)" % (name, data))
            return str(endpoint_id), False

    def _find_after_ambiguous_create(self, name, exc):
        try:
            return self.find_by_name(name)
        except NovitaAPIError as lookup:
            raise EndpointError("%s; whether endpoint %s was created is unknown: looking it up failed too: %s. Check before running again"
                                % (_message(exc), name, _message(lookup)), failure=exc.to_dict())

    def update(self, body):
        """Send the full replacement; repeating it is harmless, so transient failures are retried."""
        self.client.post("/endpoint/update", body, retry=True)

    def delete(self, endpoint_id):
        """Delete by ID (the API's key is ``name``), retried on transient failures; an endpoint already gone counts as deleted."""
        try:
            self.client.post("/endpoint/delete", {"name": endpoint_id}, retry=True)
        except NovitaAPIError as exc:
            if exc.status != 404:
                raise

    def wait(self, endpoint_id, timeout, gone=False):
        """Poll until the endpoint serves (or, with ``gone``, until it no longer exists); returns the last read."""
        deadline = self._clock() + timeout
        delay = POLL_FIRST_DELAY
        goal = "be deleted" if gone else "serve"
        while True:
            endpoint = self.get(endpoint_id)
            if endpoint is None:
                if gone:
                    return None
                raise EndpointError("endpoint %s disappeared while waiting for it to serve" % endpoint_id, endpoint_id=endpoint_id)
            state = endpoint.get("state") if isinstance(endpoint.get("state"), dict) else {}
            if not gone:
                if state.get("state") == SERVING_STATE:
                    return endpoint
                if state.get("state") in FAILED_STATES:
                    raise EndpointError("endpoint %s reports state %s: %s" % (endpoint_id, state.get("state"), _state_text(state)),
                                        endpoint_id=endpoint_id, endpoint_state=state)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise EndpointError("timed out waiting for endpoint %s to %s; last state: %s" % (endpoint_id, goal, _state_text(state)),
                                    endpoint_id=endpoint_id, endpoint_state=state)
            self._sleep(min(delay, remaining))
            delay = min(delay * 2, POLL_MAX_DELAY)


def _state_text(state):
    text = str(state.get("state") or "unknown")
    extra = [str(state[k]) for k in ("error", "message") if state.get(k)]
    return text + (" (%s)" % "; ".join(extra) if extra else "")


class EndpointConverger:
    """Brings one endpoint to the state a task declares, within the request budget:

    by id 1 read, by name the list pages; the limits only when a write is coming; then the one write
    and the wait polls. Check mode makes the same reads and no write.
    """

    def __init__(self, api, params, check_mode=False, want_diff=False):
        self.api = api
        self.params = params
        self.check_mode = check_mode
        self.want_diff = want_diff
        self.secret_names = set(str(k) for k in (params.get("secret_envs") or {}))
        self.result = {"changed": False, "endpoint": {}}

    def run(self):
        """Converge and return the module result."""
        params = self.params
        if params.get("id"):
            current = self.api.get(params["id"])
        else:
            current = self.api.find_by_name(params["name"])
        if params.get("state") == "absent":
            return self._absent(current)
        if current is None:
            if params.get("id"):
                raise EndpointError("no endpoint with id %s exists; to create an endpoint, give name without id" % params["id"])
            return self._create(None)
        current_model = model_from_api(current)
        immutable = immutable_changes(current_model, params)
        if immutable and not params.get("recreate"):
            fields = "; ".join("%s from %r to %r" % change for change in immutable)
            raise EndpointError("endpoint %s cannot change %s: it is set at creation only. Set recreate=true to delete the endpoint and create it anew"
                                % (current.get("id"), fields), endpoint_id=current.get("id"))
        if immutable:
            return self._create(current, current_model)
        return self._update(current, current_model)

    # -- the three outcomes

    def _absent(self, current):
        if current is None:
            return self._finish({}, None, None, changed=False)
        endpoint_id = current["id"]
        before = model_from_api(current)
        self._finish(current, before, None, changed=True)
        if self.check_mode:
            return self.result
        self.api.delete(endpoint_id)
        if self.params.get("wait", True):
            self._after_write("deleted endpoint %s" % endpoint_id, endpoint_id, self.api.wait, endpoint_id, self.params["wait_timeout"], gone=True)
        return self.result

    def _update(self, current, current_model):
        desired = apply_options(current_model, self.params)
        if desired == current_model:
            return self._finish(current, current_model, desired, changed=False)
        self._validate(desired, creating=False)
        endpoint_id = current["id"]
        body = dict(id=endpoint_id, **build_payload(desired, for_create=False))
        expected = merge_api(current, body)
        if self.check_mode:
            return self._finish(expected, current_model, desired, changed=True)
        try:
            self.api.update(body)
        except NovitaAPIError as exc:
            outcome = ("it may or may not have been applied (an update replaces the whole endpoint, never a part of it); run the task again to converge"
                       if exc.ambiguous else "it was not applied")
            raise EndpointError("updating endpoint %s failed: %s; %s" % (endpoint_id, _message(exc), outcome),
                                endpoint_id=endpoint_id, failure=exc.to_dict())
        self.result["changed"] = True
        final = expected
        if self.params.get("wait", True):
            final = self._after_write("updated endpoint %s" % endpoint_id, endpoint_id,
                                      self.api.wait, endpoint_id, self.params["wait_timeout"])
        return self._finish(final, current_model, desired, changed=True)

    def _create(self, replaced, replaced_model=None):
        """Create the endpoint; with ``replaced``, first delete that one (``recreate``), keeping its settings."""
        if replaced is None:
            desired = apply_options(create_base(), self.params)
        else:
            base = dict(replaced_model)
            if base["app_name"] == replaced.get("id"):
                base["app_name"] = ""  # the API's default (the ID) goes with the old endpoint
            desired = apply_options(base, self.params)
        self._validate(desired, creating=True)
        body = build_payload(desired, for_create=True)
        expected = merge_api({"id": None, "state": None}, body)
        if self.check_mode:
            return self._finish(expected, replaced_model, desired, changed=True)
        done = ""
        if replaced is not None:
            old_id = replaced["id"]
            self.api.delete(old_id)
            self.result["changed"] = True
            done = "deleted endpoint %s to recreate it" % old_id
            self._after_write(done, old_id, self.api.wait, old_id, self.params["wait_timeout"], gone=True)
            self.result["replaced_endpoint_id"] = old_id
        try:
            new_id, adopted = self.api.create(body)
        except (NovitaAPIError, EndpointError) as exc:
            if done:
                details = dict(exc.details) if isinstance(exc, EndpointError) else dict(failure=exc.to_dict())
                raise EndpointError("%s, then creating its replacement failed: %s" % (done, _message(exc)), replaced_endpoint_id=replaced["id"], **details)
            raise
        self.result["changed"] = True
        if adopted:
            self.result.setdefault("warnings", []).append(
                "the create request for %s got no clear reply; the endpoint it created (%s) was found by name and adopted" % (body.get("name"), new_id))
        final = dict(expected, id=new_id)
        if self.params.get("wait", True):
            done = ("%s; created endpoint %s" % (done, new_id)) if done else "created endpoint %s" % new_id
            final = self._after_write(done, new_id, self.api.wait, new_id, self.params["wait_timeout"])
        return self._finish(final, replaced_model, desired, changed=True)

    # -- helpers

    def _validate(self, desired, creating):
        errors = validate_model(desired, creating)
        if not errors:
            errors = check_limits(desired, self.api.limits(), creating)
        if errors:
            raise EndpointError("; ".join(errors), errors=errors)

    def _after_write(self, done, endpoint_id, func, *args, **kwargs):
        """Run a step that follows a write; if it fails, the message says what was already done."""
        try:
            return func(*args, **kwargs)
        except (NovitaAPIError, EndpointError) as exc:
            details = dict(exc.details) if isinstance(exc, EndpointError) else dict(failure=exc.to_dict())
            details["endpoint_id"] = endpoint_id
            raise EndpointError("%s, then: %s" % (done, _message(exc)), **details)

    def _finish(self, endpoint, before, after, changed):
        self.result["changed"] = changed
        self.result["endpoint"] = endpoint_result(endpoint, self.secret_names)
        if self.want_diff:
            secrets_changed = changed_secret_names(before, after, self.secret_names) if before and after else ()
            self.result["diff"] = {
                "before": diff_view(before, self.secret_names) if before else {},
                "after": diff_view(after, self.secret_names, secrets_changed) if after else {},
            }
        return self.result


def _message(exc):
    return getattr(exc, "msg", None) or getattr(exc, "message", None) or str(exc)
