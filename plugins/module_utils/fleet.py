# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Convergence of a fleet of declared endpoints: one list read, one limits read, the single-endpoint converger for each.

Every declaration goes through ``EndpointConverger`` (validation, full-payload updates, check mode,
diff, secret masking, duplicate-name safety are the single-endpoint behaviour). Only where the
converger reads the endpoint list and the limits differs: both come from one read shared by the fleet.

A run has two phases. The plan runs every converger in check mode, sequentially, against the
shared reads: it makes no write, and its only requests are the limits (once, when some change is
predicted) and the read by ID of each endpoint to be updated. Any failure there (a value outside
the limits, a create-only field without ``recreate``, several endpoints with a declared name)
stops the run before any write. The
execution then converges only the declarations the plan found changed, and the exclusive
deletions, on a bounded pool of threads; one failure does not stop the others. Each endpoint to update
is read by ID again right before its write: the plan's read may have been the one stale read that can
follow another write, so the full replace is built from the second.

A declaration's ``action`` says what was done: ``none`` with ``planned`` (what it was to do) for a
change that was not made, because the plan stopped the run, or the declaration failed before its write.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re
import threading
import time

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaError, Problem, problem_in
from ansible_collections.novita.cloud.plugins.module_utils.converge import EndpointConverger, NameLookups
from ansible_collections.novita.cloud.plugins.module_utils.endpoint_api import EndpointAPI
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import (
    ENDPOINT_SCHEMA,
    check_wait_timeout,
    declaration_argument_spec,
    diff_view,
    endpoint_result,
    hidden_env_names,
    validate_options,
)
from ansible_collections.novita.cloud.plugins.module_utils.module import DELETED, NONE, UNCHANGED, NovitaModule, closest_option, reported
from ansible_collections.novita.cloud.plugins.module_utils.resource import diff_header
from ansible_collections.novita.cloud.plugins.module_utils.secrets import SecretsModule, endpoint_secret_values

MIN_CONCURRENCY = 1
MAX_CONCURRENCY = 16
# Names no team owns: an ``exclusive_match`` that matches all of them is taken to match every name, and refused with
# ``exclusive`` (an empty pattern, ``.*``, ``^``, ``.+``, ``(?:)``...).
SCOPE_PROBES = ("a", "Z", "0", "-", "zz-other-team-9")
# What a declaration's result carries over from the converger's result, and from its error when it failed.
RESULT_KEYS = ("replaced_endpoint_id", "restored_endpoint_id", "duplicate_deleted_id")
FAILURE_KEYS = ("failure", "restored_endpoint_id", "lost_endpoint")


def fleet_argument_spec():
    """The fleet module's own options (connection options come from api.py)."""
    return dict(
        endpoints=dict(type="list", elements="dict", required=True, options=declaration_argument_spec()),
        exclusive=dict(type="bool", default=False),
        exclusive_match=dict(type="str"),
        concurrency=dict(type="int", default=4),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )


# ansible-core's messages for a value of the wrong type or outside the choices, which name the option and its parent
# options apart.
# The type is "str" (ansible-core 2.19 and later) or "<class 'str'>" (2.16).
_CORE_TYPE_ERROR = re.compile(r"^argument '(?P<name>[^']+)' is of type (?:<class '[^']*'>|\S+?)(?: found in '(?P<context>[^']+)'\.)?"
                              r" and we were unable to convert to (?P<type>\w+): (?P<why>.*)$", re.S)
_CORE_CHOICES_ERROR = re.compile(r"^value of (?P<name>\S+) must be one of: (?P<choices>.*), got: (?P<value>.*?)"
                                 r"(?: found in '(?P<context>[^']+)')?$", re.S)


def in_item(index, problem):
    """A problem of one declaration as the task names it: ``endpoints[2].worker_config.max_num: ...`` when it is about an
    option (see ``Problem``), else ``endpoints[2]: ...``."""
    return str(problem_in("endpoints[%d]" % index, problem))


def _core_error_in_item(index, error):
    """ansible-core's message about an option of one item, rewritten to start with the option's path."""
    for pattern, text in ((_CORE_TYPE_ERROR, "{why} (expected {type})"), (_CORE_CHOICES_ERROR, "{value} is not one of {choices}")):
        match = pattern.match(error)
        if match:
            parents = [part.strip() for part in (match.group("context") or "").split("->") if part.strip()]
            return "endpoints[%d].%s: %s" % (index, ".".join(parents + [match.group("name")]), text.format(**match.groupdict()))
    return "endpoints[%d]: %s" % (index, error)


def item_argument_errors(endpoints):
    """The argument spec's errors in each item of ``endpoints``, each named by its item (ansible-core names no item).

    ``endpoints[2].foo: not an option ...``, ``endpoints[1].worker_config.max_num: ... cannot be converted to an int``.
    """
    spec = declaration_argument_spec()
    errors = []
    for index, item in enumerate(endpoints if isinstance(endpoints, list) else []):
        if not isinstance(item, dict):
            errors.append("endpoints[%d]: an item must be a dictionary of endpoint options, not a %s" % (index, type(item).__name__))
            continue
        result = ArgumentSpecValidator(spec).validate(copy.deepcopy(item))
        for unsupported in sorted(result.unsupported_parameters, key=str):
            path = unsupported if isinstance(unsupported, str) else ".".join(unsupported)
            parent = path.rpartition(".")[0]
            options = spec
            for part in parent.split(".") if parent else ():
                options = (options.get(part) or {}).get("options") or {}
            closest = closest_option(tuple(path.split(".")), spec)
            errors.append("endpoints[%d].%s: not an option of %s; %s takes %s%s"
                          % (index, path, parent or "an endpoints item", parent or "an item", ", ".join(sorted(options)),
                             "; did you mean %s?" % closest if closest else ""))
        errors.extend(_core_error_in_item(index, error.msg if hasattr(error, "msg") else str(error))
                      for error in result.errors if not isinstance(error, UnsupportedError))
    return errors


class FleetModule(NovitaModule):
    """AnsibleModule for the fleet: when the argument spec refuses an item of ``endpoints``, the error names the item.

    ansible-core reports the first problem, as ``endpoints.foo`` or ``found in 'endpoints -> worker_config'``, with no
    index; this module reports every problem of every item, each with its ``endpoints[N]`` path.

    The values of every item's ``secret_envs`` are hidden as they are after conversion (see ``SecretsModule``), also when
    the task is refused: then from the items as the task gave them.
    """

    def __init__(self, *args, **kwargs):
        self._started = False
        self._given_endpoints = None
        kwargs.setdefault("secret_values", self._declared_secret_values)
        super(FleetModule, self).__init__(*args, **kwargs)
        self._started = True

    def _declared_secret_values(self, params):
        return endpoint_secret_values(params.get("endpoints")) + endpoint_secret_values(self._given_endpoints)

    def _load_params(self):
        # The items as the task gives them: a failed validation leaves ``params["endpoints"]`` empty.
        super(FleetModule, self)._load_params()
        self._given_endpoints = copy.deepcopy(self.params.get("endpoints"))

    def fail_json(self, msg=None, **kwargs):  # pylint: disable=arguments-differ
        if not self._started:
            errors = item_argument_errors(self._given_endpoints)
            if errors:
                msg = errors[0] if len(errors) == 1 else "%d problems in endpoints: %s" % (len(errors), "; ".join(errors))
                kwargs["errors"] = errors
                # Each item's message already names the closest option: not the generic "did you mean" again.
                SecretsModule.fail_json(self, msg=msg, **kwargs)
                return
        super(FleetModule, self).fail_json(msg=msg, **kwargs)


def validate_fleet(params):
    """Problems found in the task alone, before any request: ``(fleet, items)``.

    ``fleet``: the fleet's own options and the names (empty, declared twice); with any of them the run stops before a
    request. ``items``: index -> the problems of that declaration's options, reported with the ones its plan finds.
    """
    errors = []
    items = {}
    seen = {}
    for index, item in enumerate(params.get("endpoints") or []):
        name = item.get("name")
        where = "endpoints[%d]" % index
        if not name:
            errors.append(Problem(where + ".name", "must not be empty", " "))
        elif name in seen:
            errors.append(Problem(where + ".name", "%s is already declared by endpoints[%d]; declare each endpoint once" % (name, seen[name])))
        else:
            seen[name] = index
        problems = validate_options(item)
        if problems:
            items[index] = problems
    concurrency = params.get("concurrency")
    if concurrency is None or not MIN_CONCURRENCY <= concurrency <= MAX_CONCURRENCY:
        errors.append(Problem("concurrency", "%s is outside the allowed range %d to %d" % (concurrency, MIN_CONCURRENCY, MAX_CONCURRENCY)))
    if params.get("wait_timeout") is not None:
        errors.extend(check_wait_timeout(params["wait_timeout"], params, "wait_timeout"))
    if params.get("exclusive_match") is not None:
        try:
            scope = re.compile(params["exclusive_match"])
        except re.error as exc:
            errors.append(Problem("exclusive_match", "%r is not a valid regular expression: %s" % (params["exclusive_match"], exc)))
        else:
            if params.get("exclusive") and all(scope.match(name) for name in SCOPE_PROBES):
                errors.append(_all_matching_scope(params["exclusive_match"]))
    return errors, items


def _all_matching_scope(pattern):
    what = "'' (empty)" if pattern == "" else repr(pattern)
    return Problem("exclusive_match", "%s matches every endpoint name (even %s and %r): with exclusive=true, every endpoint of the"
                   " account that is not declared would be deleted, other teams' too. Set exclusive_match to a pattern of the names this"
                   " task owns, for example team-a- (if it comes from a variable, check that the variable is set)"
                   % (what, ", ".join(repr(name) for name in SCOPE_PROBES[:-1]), SCOPE_PROBES[-1]))


class FleetReads:
    """The reads a fleet shares: the endpoint list (read once, up front), the limits (read at most once, when first needed)
    and the name lookups (the registry credentials, and the network storages of each name, read once when first used)."""

    def __init__(self, api, lookups):
        self._api = api
        self._lookups = lookups
        self._lock = threading.Lock()
        self._endpoints = None
        self._limits = None
        self._auths = None
        self._storages = {}

    def registry_auths(self):
        with self._lock:
            if self._auths is None:
                self._auths = self._lookups.registry_auths()
            return self._auths

    def network_storages(self, name):
        with self._lock:
            if name not in self._storages:
                self._storages[name] = self._lookups.network_storages(name)
            return self._storages[name]

    def endpoints(self):
        with self._lock:
            if self._endpoints is None:
                self._endpoints = self._api.list()
            return self._endpoints

    def limits(self):
        with self._lock:
            if self._limits is None:
                self._limits = self._api.limits()
            return self._limits


class FleetEndpointAPI(EndpointAPI):
    """The endpoint calls for one declaration of a fleet, with ``list`` and ``limits`` served from the fleet's shared reads.

    Once this declaration has sent a write, ``list`` reads the API again: the shared list no longer
    tells what happened to this endpoint (a create that failed ambiguously may still have made it).
    The shared list is never modified; the converger copies what it changes.
    """

    def __init__(self, client, reads, sleep=time.sleep, clock=time.monotonic):
        super(FleetEndpointAPI, self).__init__(client, sleep=sleep, clock=clock)
        self._reads = reads
        self.wrote = False

    def list(self):
        if self.wrote:
            return super(FleetEndpointAPI, self).list()
        return list(self._reads.endpoints())

    def limits(self):
        return self._reads.limits()

    def create(self, body):
        self.wrote = True
        return super(FleetEndpointAPI, self).create(body)

    def update(self, body):
        self.wrote = True
        return super(FleetEndpointAPI, self).update(body)

    def delete(self, endpoint_id):
        self.wrote = True
        return super(FleetEndpointAPI, self).delete(endpoint_id)


class FleetConverger:
    """Converges declared endpoints (and, with ``exclusive``, deletes the undeclared ones in scope); see the module docstring."""

    def __init__(self, client, params, check_mode=False, want_diff=False, sleep=time.sleep, clock=time.monotonic, problems=None):
        self.client = client
        # index -> the problems ``validate_fleet`` found in that declaration's options: its plan reports them with the rest.
        self.problems = problems or {}
        self.params = params
        self.check_mode = check_mode
        self.want_diff = want_diff
        self._sleep = sleep
        self._clock = clock
        self.reads = FleetReads(EndpointAPI(client, sleep=sleep, clock=clock), NameLookups(client))
        self.declarations = [self._declaration_params(item) for item in params["endpoints"]]
        self.records = []
        self.deleted = []
        # The names of the declarations whose plan failed: then nothing is written.
        self.stopped_by = []

    def _declaration_params(self, item):
        return dict(item, id=None, wait=self.params.get("wait", True), wait_timeout=self.params.get("wait_timeout", 600))

    def _api(self):
        return FleetEndpointAPI(self.client, self.reads, sleep=self._sleep, clock=self._clock)

    # -- the run

    def run(self):
        """Plan, then (outside check mode, when the plan holds) execute; returns the module result without ``failed``."""
        self.reads.endpoints()
        self.records = [self._plan(index, params) for index, params in enumerate(self.declarations)]
        self.deleted = [self._plan_exclusive_delete(endpoint) for endpoint in self._undeclared_in_scope()]
        self.stopped_by = [r["name"] for r in self.records if r["failed"]]
        if self.stopped_by:
            for record in self.records + self.deleted:
                if not record["failed"] and record["changed"]:
                    self._not_attempted(record)
            return self.result()
        if not self.check_mode:
            jobs = [(i, self._execute) for i, r in enumerate(self.records) if r["changed"]]
            jobs += [(i, self._execute_delete) for i in range(len(self.deleted))]
            run_bounded(jobs, self.params.get("concurrency") or 1)
        return self.result()

    def _not_attempted(self, record):
        """A change was planned and is not made: the action says nothing was done, ``planned`` what would have been."""
        record.update(changed=False, action=NONE, planned=record["action"],
                      msg="not attempted: %s failed before any write" % ", ".join(self.stopped_by))
        if "_current" in record:
            record.update(endpoint=record["_current"], id=record["_current"].get("id"))
        for key in ("replaced_endpoint_id", "warnings", "_diff"):
            record.pop(key, None)

    def _plan(self, index, params):
        api = self._api()
        record = {"name": params["name"], "id": None, "changed": False, "action": UNCHANGED, "endpoint": {}, "failed": False, "msg": "",
                  "_current": {}, "_index": index}
        converger = EndpointConverger(api, params, check_mode=True, want_diff=self.want_diff, problems=self.problems.get(index, ()),
                                      lookups=self.reads)
        try:
            current = api.find_by_name(params["name"])
            if current is not None:
                # The endpoint as it is: what is reported when this declaration ends up not converged.
                record["_current"] = endpoint_result(current, converger.hidden_env_names(current))
                record["id"] = current.get("id")
            result = converger.run()
        except Exception as exc:  # pylint: disable=broad-except
            # Whatever a declaration raised, it is reported in its record; the others still are.
            return self._failed(record, exc, converger)
        self._take(record, result)
        return record

    def _execute(self, index):
        record = self.records[index]
        params = self.declarations[index]
        converger = None
        try:
            converger = EndpointConverger(self._api(), params, check_mode=False, want_diff=self.want_diff, lookups=self.reads)
            result = converger.run()
        except Exception as exc:  # pylint: disable=broad-except
            # Whatever a worker raised after whatever writes, this endpoint's record says so; the others go on.
            self._failed(record, exc, converger)
            return
        self._take(record, result)

    def _take(self, record, result):
        record["changed"] = result["changed"]
        record["action"] = result["action"]
        record.pop("planned", None)
        if result.get("warnings"):
            record["warnings"] = list(result["warnings"])
        record["endpoint"] = result["endpoint"]
        record["id"] = result["endpoint"].get("id")
        for key in RESULT_KEYS:
            if result.get(key):
                record[key] = result[key]
        if "diff" in result and result["changed"]:
            record["_diff"] = result["diff"]
        else:
            record.pop("_diff", None)

    def _failed(self, record, exc, converger):
        """Record a failure: what was done so far (``changed``, ``action``), the endpoint as the converger last knew it,
        else as it was.

        A declaration that failed before its write (its own checks in the plan, or a refused write) did nothing: its
        ``action`` is ``none`` and ``planned`` says what it was about to do, when that was known.
        """
        partial = converger.result if converger is not None else {}
        planned_before = record["action"] if record["action"] not in (UNCHANGED, NONE) else record.get("planned")
        record.update(failed=True, msg=self._failure_text(record, exc), changed=bool(partial.get("changed")))
        self._failed_action(record, partial, planned_before)
        if partial.get("warnings"):
            record["warnings"] = list(partial["warnings"])
        # A recreate that deleted the old endpoint and then failed: the endpoint as it was is no more.
        old_gone = bool(partial.get("replaced_endpoint_id"))
        record["endpoint"] = partial.get("endpoint") or (None if old_gone else record.get("_current")) or {}
        record["id"] = record["endpoint"].get("id") or (None if old_gone else record["id"])
        for key in RESULT_KEYS:
            if partial.get(key):
                record[key] = partial[key]
        if isinstance(exc, NovitaError):
            for key in FAILURE_KEYS:
                if exc.details.get(key):
                    record[key] = exc.details[key]
            # Only an error after a write names the endpoint it wrote (a create's new ID); the old endpoint created again has a new ID.
            if exc.details.get("endpoint_id") or record.get("restored_endpoint_id"):
                record["id"] = exc.details.get("endpoint_id") or record["restored_endpoint_id"]
        if not record["changed"]:
            record.pop("_diff", None)
        return record

    @staticmethod
    def _failure_text(record, exc):
        """The record's message; each problem of a declaration named by its path in the task (endpoints[2].worker_config.max_num)."""
        if not isinstance(exc, NovitaError):
            return "unexpected error (a bug in novita.cloud, please report it): %s: %s" % (type(exc).__name__, exc)
        errors = getattr(exc, "problems", None) or exc.details.get("errors")
        if not errors:
            return exc.msg
        record["errors"] = [in_item(record["_index"], error) for error in errors]
        return record["errors"][0] if len(errors) == 1 else "%d problems, nothing was written: %s" % (len(errors), "; ".join(record["errors"]))

    @staticmethod
    def _failed_action(record, partial, planned_before):
        """What the failed declaration did (see ``module.reported``): the converger's action once it wrote, else ``none`` with
        what was planned, by the converger or, when it failed before knowing, by the plan."""
        shown = reported(dict(partial, changed=bool(partial.get("changed"))))
        if shown.get("action") not in (None, UNCHANGED, NONE):
            record["action"] = shown["action"]
            record.pop("planned", None)
            return
        record["action"] = NONE
        planned = shown.get("planned") or planned_before
        if planned:
            record["planned"] = planned
        else:
            record.pop("planned", None)

    # -- exclusive deletions

    def _undeclared_in_scope(self):
        if not self.params.get("exclusive"):
            return []
        declared = set(params["name"] for params in self.declarations)
        scope = re.compile(self.params["exclusive_match"])
        return [e for e in self.reads.endpoints() if str(e.get("name") or "") not in declared and scope.match(str(e.get("name") or ""))]

    def _plan_exclusive_delete(self, endpoint):
        # Nothing declares which variables of an undeclared endpoint are secret: all their values are masked.
        model = ENDPOINT_SCHEMA.model_from_api(endpoint)
        hidden = hidden_env_names((), model["envs"])
        self.client.add_echoed(*model["envs"].values())
        record = {"name": endpoint.get("name") or "", "id": endpoint.get("id"), "changed": True, "action": DELETED,
                  "endpoint": endpoint_result(endpoint, hidden, model=model), "failed": False, "msg": ""}
        if self.want_diff:
            record["_diff"] = {"before": diff_view(model, hidden), "after": {}}
        return record

    def _execute_delete(self, index):
        record = self.deleted[index]
        api = self._api()
        record["changed"] = False  # until the delete is accepted
        try:
            api.delete(record["id"])
        except NovitaError as exc:
            # A refused delete deleted nothing.
            record.update(exc.details, failed=True, msg=exc.msg, action=NONE, planned=DELETED)
            return
        except Exception as exc:  # pylint: disable=broad-except
            record.update(failed=True, msg="unexpected error (a bug in novita.cloud, please report it): %s: %s" % (type(exc).__name__, exc))
            return
        record["changed"] = True
        if not self.params.get("wait", True):
            return
        try:
            api.wait(record["id"], self.params["wait_timeout"], gone=True)
        except Exception as exc:  # pylint: disable=broad-except
            message = exc.msg if isinstance(exc, NovitaError) else "%s: %s" % (type(exc).__name__, exc)
            record.update(failed=True, msg="deleted endpoint %s, then: %s" % (record["id"], message))

    # -- the result

    def failures(self):
        return [r for r in self.records + self.deleted if r["failed"]]

    def result(self):
        records = self.records + self.deleted
        for record in records:
            # Secrets learnt by other declarations after this message was made are scrubbed too.
            record["msg"] = self.client.scrub(record["msg"])
        result = {
            "changed": any(r["changed"] for r in records),
            "endpoints": [_public(r) for r in self.records],
            "deleted": [_public(r) for r in self.deleted],
        }
        warnings = ["%s: %s" % (r["name"] or r["id"], w) for r in records for w in r.get("warnings") or []]
        if warnings:
            result["warnings"] = warnings
        if self.want_diff:
            result["diff"] = [dict(r["_diff"], before_header=diff_header("endpoint", r["name"], r["id"]),
                                   after_header=diff_header("endpoint", r["name"], r["id"])) for r in records if r.get("_diff")]
        return result

    def failure_message(self):
        """What failed, and what became of every other endpoint: written (and how), not attempted, unchanged."""
        failures = self.failures()
        if not failures:
            return None
        records = self.records + self.deleted
        written = ["%s (%s%s)" % (_label(r), r.get("planned") or r["action"], ", then failed" if r["failed"] else "") for r in records if r["changed"]]
        not_attempted = [_label(r) for r in records if not r["failed"] and r["action"] == NONE]
        unchanged = [_label(r) for r in records if not r["changed"] and not r["failed"] and r["action"] != NONE]
        parts = ["%d of %d endpoints failed%s: %s" % (len(failures), len(records), " before any write" if self.stopped_by else "",
                                                      "; ".join("%s: %s" % (_label(r), r["msg"]) for r in failures)),
                 "Written: %s" % (", ".join(written) or "none")]
        if not_attempted:
            parts.append("Not attempted: %s" % ", ".join(not_attempted))
        if unchanged:
            parts.append("Unchanged: %s" % ", ".join(unchanged))
        return ". ".join(parts)


def _label(record):
    return record["name"] or record["id"]


def _public(record):
    return dict((k, v) for k, v in record.items() if not k.startswith("_"))


def run_bounded(jobs, concurrency):
    """Run ``func(arg)`` for each ``(arg, func)`` on at most ``concurrency`` threads; returns when all are done.

    The functions record their own outcome and catch the errors they expect; anything else is
    re-raised here, in the caller's thread, once every job has ended.
    """
    jobs = list(jobs)
    if not jobs:
        return
    lock = threading.Lock()
    pending = list(reversed(jobs))
    unexpected = []

    def worker():
        while True:
            with lock:
                if not pending:
                    return
                arg, func = pending.pop()
            try:
                func(arg)
            except Exception as exc:  # pylint: disable=broad-except
                with lock:
                    unexpected.append(exc)

    threads = [threading.Thread(target=worker) for dummy in range(min(concurrency, len(jobs)))]
    for thread in threads:
        thread.daemon = True
        thread.start()
    for thread in threads:
        thread.join()
    if unexpected:
        raise unexpected[0]
