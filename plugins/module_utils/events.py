# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Endpoint events: what changed between two reads of the endpoint list, and drift from declarations.

``EndpointWatcher.poll`` reads the endpoint list once (``NovitaClient.list_all``: every page, with the client's retries,
``Retry-After`` and pace) and compares it with what the previous poll saw. It keeps one snapshot per endpoint (its model,
state and worker count), so its memory follows the number of endpoints, not the number of polls. The first poll is the
baseline: it emits nothing unless ``emit_initial`` is set. Drift is the module's check-mode comparison: the declaration's
options laid over the endpoint's model (``Schema.apply_options``) differ from the model, and the diff is the module's
(``diff_views``, hidden env values masked). Every text of an event goes through the client's scrubber and the hidden env
values of the endpoints the poll saw, so no event holds the API key, a ``secret_envs`` value or a masked env value.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.novita.cloud.plugins.module_utils.api import (
    KEY_MISSING_MESSAGE,
    MASK,
    NovitaClient,
    NovitaConfigError,
    NovitaError,
    Scrubber,
    error_name,
    novita_argument_spec,
)
from ansible_collections.novita.cloud.plugins.module_utils.converge import NameLookups, resolve_names
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import (
    ENDPOINT_SCHEMA,
    declaration_argument_spec,
    diff_views,
    endpoint_result,
    env_value,
    hidden_env_names,
    hidden_env_values,
)
from ansible_collections.novita.cloud.plugins.module_utils.fleet import in_item, item_argument_errors, validate_fleet
from ansible_collections.novita.cloud.plugins.module_utils.resource import Named

STATE_CHANGED, SCALED, CONFIG_CHANGED, DRIFT = "state_changed", "scaled", "config_changed", "drift"
APPEARED, DELETED, POLL_ERROR = "appeared", "deleted", "poll_error"
EVENT_TYPES = (STATE_CHANGED, SCALED, CONFIG_CHANGED, DRIFT, APPEARED, DELETED, POLL_ERROR)
# The settings whose change is ``scaled``; a change of any other setting is ``config_changed``.
SCALING_SETTINGS = ("worker_config",)
DEFAULT_POLL_ERROR_AFTER = 3
ENDPOINTS_PATH = "/endpoints"


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------------
# the source's options


def source_argument_spec():
    """The options of the event source: the modules' connection options (with their environment variables), then its own."""
    spec = novita_argument_spec()
    spec.pop("trace_requests")
    spec.update(
        interval=dict(type="float", default=30.0),
        names=dict(type="list", elements="str"),
        name_match=dict(type="str"),
        declarations=dict(type="path"),
        emit_initial=dict(type="bool", default=False),
        poll_error_after=dict(type="int", default=DEFAULT_POLL_ERROR_AFTER),
    )
    return spec


def source_settings(args):
    """The source's options from a rulebook's arguments, converted and checked as a module's are; NovitaConfigError naming
    every problem (never a value of ``api_key``)."""
    result = ArgumentSpecValidator(source_argument_spec()).validate(dict(args or {}))
    settings = result.validated_parameters
    problems = []
    if result.unsupported_parameters:
        problems.append("unknown option %s; the source takes %s" % (", ".join(sorted(map(str, result.unsupported_parameters))),
                                                                    ", ".join(sorted(source_argument_spec()))))
    problems += [error.msg if hasattr(error, "msg") else str(error) for error in result.errors if not isinstance(error, UnsupportedError)]
    if not problems:
        problems = _setting_problems(settings)
    if problems:
        raise NovitaConfigError("%d problems in the options of novita.cloud.endpoint_events: %s" % (len(problems), "; ".join(problems))
                                if len(problems) > 1 else problems[0], errors=problems)
    return settings


def _setting_problems(settings):
    problems = [] if (settings.get("api_key") or "").strip() else [KEY_MISSING_MESSAGE.replace("api_key option", "api_key argument")]
    for name, minimum in (("interval", 0.1), ("timeout", 1), ("retries", 0), ("retry_timeout", 0), ("poll_error_after", 1)):
        if settings[name] < minimum:
            problems.append("%s: %r is not allowed; it must be at least %s" % (name, settings[name], minimum))
    if settings.get("name_match") is not None:
        try:
            re.compile(settings["name_match"])
        except re.error as exc:
            problems.append("name_match: %r is not a valid regular expression: %s" % (settings["name_match"], exc))
    return problems


def watcher_from_settings(settings, declarations_data=None, client=None, clock=utc_now):
    """The watcher for ``source_settings``; ``declarations_data`` is the content of the declarations file, if any."""
    scope = Scope(settings.get("names"), settings.get("name_match"))
    declarations = declarations_from(declarations_data, scope) if settings.get("declarations") else []
    if client is None:
        client = NovitaClient(settings["api_key"], settings["api_base_url"], settings["timeout"], settings["validate_certs"],
                              retries=settings["retries"], retry_timeout=settings["retry_timeout"])
    return EndpointWatcher(client, scope, declarations, emit_initial=settings["emit_initial"], poll_error_after=settings["poll_error_after"],
                           clock=clock)


# ---------------------------------------------------------------------------
# what to watch


class Scope:
    """The endpoints a watcher reports on: every one, or those named in ``names`` or whose name ``name_match`` (a regular
    expression, matched at the start of the name as ``re.match`` does) matches."""

    def __init__(self, names=None, name_match=None):
        self.names = set(str(name) for name in names or ())
        self.pattern = re.compile(name_match) if name_match is not None else None
        self.everything = not self.names and self.pattern is None

    def covers(self, name):
        name = "" if name is None else str(name)
        return self.everything or name in self.names or bool(self.pattern is not None and self.pattern.match(name))


def declarations_from(data, scope):
    """The declarations of a declarations file (a list of endpoint declarations, or a mapping whose ``endpoints`` key holds
    one: the fleet module's ``endpoints`` shape), validated as the fleet validates them; NovitaConfigError with every problem."""
    items = data.get("endpoints") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise NovitaConfigError("declarations: the file must hold a list of endpoint declarations, or a mapping with that list under"
                                " endpoints (the shape of novita.cloud.novita_endpoint_fleet's endpoints option)")
    problems = item_argument_errors(items)
    if problems:
        raise NovitaConfigError("declarations: %s" % "; ".join(problems), errors=problems)
    validator = ArgumentSpecValidator(declaration_argument_spec())
    declared = [validator.validate(copy.deepcopy(item)).validated_parameters for item in items]
    fleet_problems, item_problems = validate_fleet({"endpoints": declared, "concurrency": 1})
    problems = [str(p) for p in fleet_problems] + [in_item(i, p) for i in sorted(item_problems) for p in item_problems[i]]
    problems += ["endpoints[%d].name: %s is outside the names and name_match the source watches" % (index, item["name"])
                 for index, item in enumerate(declared) if item.get("name") and not scope.covers(item["name"])]
    if problems:
        raise NovitaConfigError("declarations: %s" % "; ".join(problems), errors=problems)
    return declared


def declared_secret_values(declarations):
    """The ``secret_envs`` values of the declarations, as the API holds them (strings)."""
    return [env_value(value) for item in declarations for value in (item.get("secret_envs") or {}).values()]


# ---------------------------------------------------------------------------
# one endpoint as a poll saw it


def _state_of(api):
    state = api.get("state")
    if isinstance(state, dict):
        return {"state": str(state.get("state") or ""), "error": str(state.get("error") or ""), "message": str(state.get("message") or "")}
    return {"state": "" if state is None else str(state), "error": "", "message": ""}


class Snapshot:
    """What a watcher keeps of an endpoint between polls: its settings (the model), state, workers and URL."""

    __slots__ = ("id", "name", "model", "state", "workers", "url")

    def __init__(self, api):
        self.id = str(api.get("id"))
        self.name = api.get("name")
        self.model = ENDPOINT_SCHEMA.model_from_api(api)
        self.state = _state_of(api)
        workers = api.get("workers")
        self.workers = copy.deepcopy(workers) if isinstance(workers, list) else []
        self.url = api.get("url")

    def api(self):
        """The parts of the API object ``endpoint_result`` reads besides the settings."""
        return {"id": self.id, "url": self.url, "state": dict(self.state), "workers": self.workers}

    def scaling(self):
        """The worker count and the worker settings."""
        return dict([("workers", len(self.workers))] + [(key, copy.deepcopy(self.model[key])) for key in SCALING_SETTINGS])

    def settings(self):
        return dict((key, value) for key, value in self.model.items() if key not in SCALING_SETTINGS)


def _changed_part(before, after):
    """The top-level keys of two views that differ, each side restricted to them."""
    keys = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
    return dict((key, before.get(key)) for key in keys), dict((key, after.get(key)) for key in keys)


# ---------------------------------------------------------------------------
# the watcher


class EndpointWatcher:
    """Reads the endpoint list on each ``poll`` and returns the events since the previous poll (see the module docstring).

    ``declarations``: validated declarations (``declarations_from``) to compare the endpoints with. ``poll_error_after``:
    a ``poll_error`` is emitted when this many polls in a row failed (once per run of failures); a failed poll changes no
    snapshot, so the first poll that succeeds again reports everything that changed meanwhile.
    """

    def __init__(self, client, scope=None, declarations=(), emit_initial=False, poll_error_after=DEFAULT_POLL_ERROR_AFTER, clock=utc_now):
        self.client = client
        self.scope = scope or Scope()
        self.declarations = list(declarations)
        self.emit_initial = emit_initial
        self.poll_error_after = poll_error_after
        self.clock = clock
        self.snapshots = None  # id -> Snapshot; None until the baseline poll
        self.drift = {}  # declared name -> what its last drift event said (None: in sync)
        self.failures = 0
        self.echo = Scrubber()  # the hidden env values of the endpoints of the last poll
        self._resolved = None
        client.add_secrets(*declared_secret_values(self.declarations))

    def poll(self):
        """One poll: the events, oldest change first; never raises for an API error (see ``poll_error_after``)."""
        now = self.clock()
        try:
            listed = self.client.list_all(ENDPOINTS_PATH, "endpoints")
            declarations = self._declarations()
        except NovitaError as exc:
            return self._failed(exc, now)
        self.failures = 0
        current = self._snapshots([item for item in listed if isinstance(item, dict) and item.get("id") is not None])
        events = self._changes(current, now) if self.snapshots is not None else []
        if self.snapshots is None and self.emit_initial:
            events = [self._event(APPEARED, snap, now, endpoint=self._result(snap)) for snap in current.values()]
        events += self._drift_events(current, declarations, now, emit=self.snapshots is not None or self.emit_initial)
        self.snapshots = current
        return [self._scrubbed(event) for event in events]

    # -- reads

    def _declarations(self):
        """The declarations with registry credential and storage names replaced by IDs (looked up at the first poll only)."""
        if self._resolved is None:
            lookups = NameLookups(self.client)
            resolved = []
            for params in self.declarations:
                problems = []
                resolved.append((resolve_names(lookups, params, problems), [str(p) for p in problems]))
            self._resolved = resolved
        return self._resolved

    def _snapshots(self, listed):
        """Snapshots of the endpoints in scope, by ID; the hidden env values of all of them go into ``echo``."""
        snapshots = {}
        values = []
        for api in listed:
            if not self.scope.covers(api.get("name")):
                continue
            snapshots[str(api["id"])] = Snapshot(api)
            values.extend(hidden_env_values(self._plain_names(api.get("name")), api))
        self.echo = Scrubber(*values)
        return snapshots

    def _failed(self, exc, now):
        self.failures += 1
        if self.failures != self.poll_error_after:
            return []
        error = {"message": exc.msg, "status": getattr(exc, "status", None), "reason": error_name(exc) or None,
                 "auth_failure": bool(getattr(exc, "auth_failure", False)), "failed_polls": self.failures}
        return [self._scrubbed(self._event(POLL_ERROR, None, now, error=error))]

    # -- comparisons

    def _changes(self, current, now):
        events = []
        for endpoint_id, snap in current.items():
            before = self.snapshots.get(endpoint_id)
            if before is None:
                events.append(self._event(APPEARED, snap, now, endpoint=self._result(snap)))
            else:
                events.extend(self._transitions(before, snap, now))
        events.extend(self._event(DELETED, snap, now, endpoint=self._result(snap))
                      for endpoint_id, snap in self.snapshots.items() if endpoint_id not in current)
        return events

    def _transitions(self, before, after, now):
        """state_changed, scaled and config_changed between two snapshots of one endpoint."""
        events = []
        endpoint = self._result(after)
        if before.state != after.state:
            events.append(self._event(STATE_CHANGED, after, now, before.state, after.state, endpoint=endpoint))
        if before.scaling() != after.scaling():
            old, new = _changed_part(before.scaling(), after.scaling())
            events.append(self._event(SCALED, after, now, old, new, endpoint=endpoint))
        if before.settings() != after.settings():
            hidden = self._hidden(after.name, before.model, after.model)
            diff = diff_views(before.model, after.model, hidden)
            old, new = _changed_part(diff[0], diff[1])
            new.pop("env_changes", None)
            events.append(self._event(CONFIG_CHANGED, after, now, old, new, {"before": diff[0], "after": diff[1]}, endpoint))
        return events

    def _drift_events(self, current, declarations, now, emit):
        by_name = {}
        for snap in current.values():
            by_name.setdefault(snap.name, []).append(snap)
        events = []
        for params, problems in declarations:
            found = self._drift_of(params, problems, by_name.get(params["name"], []))
            key = None if found is None else (found[0].id if found[0] is not None else None, found[1], found[2])
            said = self.drift.get(params["name"])
            self.drift[params["name"]] = key
            if key is not None and key != said and emit:
                events.append(self._drift_event(params, found, now))
        return events

    def _drift_of(self, params, problems, snaps):
        """What differs between a declaration and the endpoints with its name: None when nothing does, else
        ``(snapshot or None, diff, error)``."""
        if problems or len(snaps) > 1:
            named = Named([{"id": s.id, "name": s.name} for s in snaps], params["name"], "endpoints")
            return (None, None, "; ".join(problems) or "%s; drift cannot be told" % named.several)
        snap = snaps[0] if snaps else None
        before = snap.model if snap is not None else None
        if params.get("state") == "absent":
            after = None
        else:
            after = ENDPOINT_SCHEMA.apply_options(before if before is not None else ENDPOINT_SCHEMA.create_base(), params)
        if before == after:
            return None
        hidden = self._hidden(params["name"], before, after, params)
        views = diff_views(before, after, hidden)
        return (snap, {"before": views[0], "after": views[1]}, None)

    def _drift_event(self, params, found, now):
        snap, diff, error = found
        if diff is None:
            return self._event(DRIFT, snap, now, name=params["name"], error={"message": error})
        old, new = _changed_part(diff["before"], diff["after"])
        new.pop("env_changes", None)
        return self._event(DRIFT, snap, now, old, new, diff, self._result(snap) if snap is not None else None, name=params["name"])

    # -- what is shown

    def _declared(self, name):
        found = [params for params in self.declarations if params.get("name") == name]
        return found[0] if found else {}

    def _plain_names(self, name):
        """The env names whose values events show: those the endpoint's declaration gives in ``envs``."""
        return list((self._declared(name).get("envs") or {}).keys())

    def _hidden(self, name, before, after, params=None):
        params = params if params is not None else self._declared(name)
        return hidden_env_names(self._plain_names(name), (params.get("secret_envs") or {}).keys(), (before or {}).get("envs"),
                                (after or {}).get("envs"))

    def _result(self, snap):
        return endpoint_result(snap.api(), self._hidden(snap.name, snap.model, None), model=snap.model)

    def _event(self, kind, snap, now, old=None, new=None, diff=None, endpoint=None, name=None, error=None):
        return {"novita": {"type": kind, "id": snap.id if snap is not None else None,
                           "name": name if name is not None else (snap.name if snap is not None else None),
                           "from": old, "to": new, "diff": diff, "endpoint": endpoint, "error": error, "observed_at": now}}

    def _scrubbed(self, value):
        """``value`` with every secret the client knows and every hidden env value of the last poll masked, in every string."""
        if isinstance(value, dict):
            return dict((self._scrubbed(key), self._scrubbed(item)) for key, item in value.items())
        if isinstance(value, list):
            return [self._scrubbed(item) for item in value]
        if isinstance(value, str) and value != MASK:
            return self.echo.scrub(self.client.scrub(value))
        return value
