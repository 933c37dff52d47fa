# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The endpoint calls of the API: reads, the create that never makes two, update, delete, the wait and the read-back."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError, NovitaError, create_once, delete_by_id, error_name, is_not_found
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import ENDPOINT_SCHEMA
from ansible_collections.novita.cloud.plugins.module_utils.resource import Named

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


class EndpointError(NovitaError):
    """A failure of an endpoint operation that is not one API request's error (those are NovitaAPIError)."""


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

    def find_by_name(self, name, excluded_ids=()):
        """The one endpoint with this name (other than ``excluded_ids``), None if there is none; several are an error (names
        are not unique in the API)."""
        named = Named([e for e in self.list() if str(e.get("id")) not in excluded_ids], name, "endpoints")
        if named.several:
            raise EndpointError("%s; set id to choose the one to manage" % named.several, endpoint_ids=named.ids)
        return named.one

    def limits(self):
        return self.client.get("/endpoint/limit")

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
            return self.find_by_name(name, self.excluded_ids)
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
    model = ENDPOINT_SCHEMA.model_from_api(endpoint)
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
