# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Endpoint operations on the API and the convergence of one declared endpoint."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
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
STORAGE_PAGE_SIZE = 100


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

    def registry_auths(self):
        """The account's registry credentials (only their ``id`` and ``name`` are kept: the API also sends the password)."""
        data = self.client.get("/repository/auths")
        items = data.get("data") if isinstance(data, dict) else None
        return [dict(id=str(a.get("id")), name=a.get("name")) for a in items or [] if isinstance(a, dict)]

    def network_storages(self, name):
        """The network storages whose name contains ``name`` (the API's filter), every page (``pageNo`` counts from 1)."""
        storages = []
        page = 1
        while True:
            data = self.client.get("/networkstorages/list", {"pageNo": page, "pageSize": STORAGE_PAGE_SIZE, "storageName": name})
            items = [s for s in (data.get("data") if isinstance(data, dict) else None) or [] if isinstance(s, dict)]
            storages.extend(items)
            total = data.get("total") if isinstance(data, dict) else None
            try:
                total = int(total)
            except (TypeError, ValueError):
                total = None
            if not items or total is None or len(storages) >= total:
                return storages
            page += 1

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
                                            % (error_message(exc), name, attempt + 1), failure=exc.to_dict())
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
                                % (error_message(exc), name, error_message(lookup)), failure=exc.to_dict())

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
        if self.params.get("state") != "absent":
            self.params = resolve_names(self.api, self.params)
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
            raise EndpointError("updating endpoint %s failed: %s; %s" % (endpoint_id, error_message(exc), outcome),
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
                raise EndpointError("%s, then creating its replacement failed: %s" % (done, error_message(exc)), replaced_endpoint_id=replaced["id"], **details)
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
            raise EndpointError("%s, then: %s" % (done, error_message(exc)), **details)

    def hidden_env_names(self, endpoint, before=None, after=None):
        """Env names whose values are not shown: the task's secret_envs, and every variable the task does not list in envs.

        The API returns every value in clear and cannot tell a secret from a plain value, so a variable
        the task does not declare plain (in a delete, or a task that leaves envs out) is masked.
        """
        names = set(self.secret_names)
        for envs in ((endpoint or {}).get("envs"), (before or {}).get("envs"), (after or {}).get("envs")):
            if isinstance(envs, dict):
                names.update(str(k) for k in envs)
            elif isinstance(envs, list):
                names.update(str(e.get("key")) for e in envs if isinstance(e, dict))
        return names - set(str(k) for k in (self.params.get("envs") or {}))

    def _finish(self, endpoint, before, after, changed):
        self.result["changed"] = changed
        hidden = self.hidden_env_names(endpoint, before, after)
        self.result["endpoint"] = endpoint_result(endpoint, hidden)
        if self.want_diff:
            secrets_changed = changed_secret_names(before, after, hidden) if before and after else ()
            self.result["diff"] = {
                "before": diff_view(before, hidden) if before else {},
                "after": diff_view(after, hidden, secrets_changed) if after else {},
            }
        return self.result


def resolve_names(api, params):
    """The task's parameters with ``image.auth_name`` and ``volume_mounts[].storage_name`` replaced by IDs.

    A registry credential or network storage is looked up only when the task names one. A network storage's
    cluster fills ``cluster_id`` when the task leaves it out; a different ``cluster_id`` is an error. Unknown and
    ambiguous names fail here, before any write.
    """
    image = params.get("image") or {}
    mounts = params.get("volume_mounts") or []
    if not image.get("auth_name") and not any(m.get("storage_name") for m in mounts):
        return params
    params = copy.deepcopy(params)
    errors = []
    if image.get("auth_name"):
        name = image["auth_name"]
        matches = [a for a in api.registry_auths() if a["name"] == name]
        if len(matches) == 1:
            params["image"]["auth_id"] = matches[0]["id"]
        elif matches:
            errors.append("image.auth_name: %d registry credentials are named %s (IDs: %s); set image.auth_id instead"
                          % (len(matches), name, ", ".join(sorted(a["id"] for a in matches))))
        else:
            errors.append("image.auth_name: no registry credential is named %s" % name)
        params["image"]["auth_name"] = None
    cluster_from = None
    for index, mount in enumerate(params.get("volume_mounts") or []):
        name = mount.get("storage_name")
        if not name:
            continue
        where = "volume_mounts[%d].storage_name" % index
        matches = [st for st in api.network_storages(name) if st.get("storageName") == name]
        mount["storage_name"] = None
        if len(matches) != 1:
            errors.append("%s: %s" % (where, "%d network storages are named %s (IDs: %s); set id instead"
                                      % (len(matches), name, ", ".join(sorted(str(st.get("storageId")) for st in matches)))
                                      if matches else "no network storage is named %s" % name))
            continue
        mount["id"] = str(matches[0].get("storageId"))
        cluster = str(matches[0].get("clusterId") or "")
        if params.get("cluster_id") and params["cluster_id"] != cluster:
            errors.append("%s: network storage %s is in cluster %s, but %s is %s"
                          % (where, name, cluster, "cluster_id" if cluster_from is None else cluster_from, params["cluster_id"]))
            continue
        if not params.get("cluster_id"):
            params["cluster_id"], cluster_from = cluster, "the cluster of volume_mounts[%d]" % index
    if errors:
        raise EndpointError("; ".join(errors), errors=errors)
    return params


def error_message(exc):
    """The human message of a NovitaAPIError or EndpointError."""
    return getattr(exc, "msg", None) or getattr(exc, "message", None) or str(exc)
