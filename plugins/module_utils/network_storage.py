# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Network storage: its rows (see schema.py), its API calls and clusters, and the convergence of one declared storage.

The model of a storage is ``{"name", "size", "cluster_id"}`` (snake_case, the size an integer whatever type the API
sends), so a model read from the API and one built from a task compare equal exactly when nothing needs to change.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError, NovitaError, is_not_found, raise_problems
from ansible_collections.novita.cloud.plugins.module_utils.converge import CREATED, DELETED, UNCHANGED, UPDATED, EndpointAPI
from ansible_collections.novita.cloud.plugins.module_utils.schema import Option, Returned, Scalar, Schema, snake_case

# Novita's rules for a network storage (its MCP server's tool descriptions): at least 10 GB; letters, digits, hyphens.
MIN_SIZE_GB = 10
NAME_PATTERN = re.compile(r"^[A-Za-z0-9-]+$")
# The API documents no maximum page size; pageNo counts from 1.
STORAGE_PAGE_SIZE = 100
STORAGE_MAX_PAGES = 1000
SCOPE = "network_storage"
NOUN = "a network storage"


class NetworkStorageError(NovitaError):
    """A failure of a network storage operation that is not one API request's error (those are NovitaAPIError)."""


# ---------------------------------------------------------------------------
# the rows

def _check_not_empty(value, params, where):
    return ["%s: must not be empty" % where] if isinstance(value, str) and not value.strip() else []


def _check_name(value, params, where):
    if value == "":
        return ["%s: must not be empty; a network storage name has letters, digits and hyphens" % where]
    if not NAME_PATTERN.match(value):
        return ["%s: %r is not allowed; a network storage name has letters (A-Z, a-z), digits and hyphens only" % (where, value)]
    return []


def _check_size(value, params, where):
    if value < MIN_SIZE_GB:
        return ["%s: %d GB is less than the allowed minimum of %d GB" % (where, value, MIN_SIZE_GB)]
    return []


class _StorageOption(Option):
    """An option row whose create-only sentence fits a network storage: there is no ``recreate`` to point to."""

    CREATE_ONLY = "Set at creation only, see O(recreate)."

    def description(self, scope, noun):
        return [text for text in super(_StorageOption, self).description(scope, noun) if text != self.CREATE_ONLY]


NETWORK_STORAGE_OPTIONS = (
    _StorageOption("state", "str", [
        "V(present) creates the network storage or changes its name or size; V(absent) deletes it (nothing happens when"
        " it does not exist).",
    ], choices=["present", "absent"], default="present"),
    _StorageOption("id", "str", [
        "The ID of the network storage to manage.",
        "With O(id), O(name) is the desired name, so setting both renames the storage.",
        "A network storage cannot be created with a chosen ID; with O(state=present), if no storage has this ID, the"
        " module fails.",
        "One of O(id) and O(name) is required.",
    ], check=_check_not_empty),
    _StorageOption("name", "str", [
        "The network storage's name: letters, digits and hyphens only, checked before any request.",
        "Without O(id), the storage is looked up by this exact name (the API's name filter matches parts of names; the"
        " module keeps only the exact matches). Names are not unique in the Novita API: if several storages have the"
        " name, the module fails before any write and lists their IDs; set O(id) to choose one. If none has it, the"
        " storage is created.",
    ], api=["storageName"], codec=Scalar("str"), check=_check_name, required_to_create=True,
        returned={"description": ["The network storage's name."], "sample": "team-models"}),
    _StorageOption("size", "int", [
        "The size in GB, at least V(10).",
        "A network storage can only grow. A size smaller than the storage's current size is an error, naming both"
        " sizes, before any write.",
        "Left out, an existing storage keeps its size.",
    ], api=["storageSize"], codec=Scalar("int"), check=_check_size, required_to_create=True,
        returned={"description": ["The size in GB."], "sample": 100}),
    _StorageOption("cluster_id", "str", [
        "The ID of the cluster the storage is in. Mutually exclusive with O(cluster_name); one of them is required to"
        " create a storage.",
        "On create, the module reads the clusters (one request) and fails before any write when no cluster has this ID or"
        " the cluster does not support network storage.",
        "The cluster of an existing storage cannot change. A different value is an error, naming both clusters, before"
        " any write; left out, the storage's cluster is kept.",
        "An endpoint that mounts the storage must run in the same cluster.",
    ], api=["clusterId"], codec=Scalar("str"), immutable=True, check=_check_not_empty,
        returned={"description": ["The ID of the cluster the storage is in."], "sample": "us-dallas-1"}),
    _StorageOption("cluster_name", "str", [
        "The name of the cluster the storage is in, as an alternative to O(cluster_id), for example V(us-east).",
        "On create, the module reads the clusters (one request) and uses the ID of the one cluster with this name. No"
        " cluster or several with the name, or a cluster that does not support network storage, is an error before any"
        " write.",
        "For an existing storage it is compared with the cluster name the API lists for the storage; a different name is"
        " an error before any write.",
    ], check=_check_not_empty),
    _StorageOption("force", "bool", [
        "Used with O(state=absent). The module reads the account's endpoints before a delete and refuses to delete a"
        " storage that an endpoint mounts (a C(network) volume mount with the storage's ID), naming those endpoints.",
        "V(true) deletes the storage anyway, with a warning naming the endpoints. What breaks: the data on the storage is"
        " gone; the endpoints keep a volume mount of a storage that no longer exists, so their workers may fail to start"
        " or lose the mounted files, and the API may refuse the next update of such an endpoint (its mounts are sent"
        " again) until the mount is removed from it, for example with M(novita.cloud.novita_endpoint) and a"
        " O(novita.cloud.novita_endpoint#module:volume_mounts) list without it.",
    ], default=False),
)


def _storage_id(api):
    value = api.get("storageId")
    return None if value is None else str(value)


NETWORK_STORAGE_RETURNS = (
    Returned("id", "str", ["The network storage ID."], "f1d3e2c4a5b6", _storage_id),
    "name",
    "size",
    "cluster_id",
    Returned("cluster_name", "str", ["The name of the cluster, as the API lists it with the storage."], "us-dallas",
             lambda api: api.get("clusterName")),
    Returned("price", "raw", ["The storage's price as the API returns it (its type and unit are the API's)."], "0.07",
             lambda api: api.get("price")),
)

NETWORK_STORAGE_SCHEMA = Schema(NETWORK_STORAGE_OPTIONS, NETWORK_STORAGE_RETURNS, noun=NOUN)

# Module-level rules of novita_network_storage (AnsibleModule's own checks).
MUTUALLY_EXCLUSIVE = [("cluster_id", "cluster_name")]
REQUIRED_ONE_OF = [("id", "name")]


def network_storage_argument_spec(schema=NETWORK_STORAGE_SCHEMA):
    """The options of novita_network_storage that describe a network storage (connection options come from api.py)."""
    return schema.argument_spec(SCOPE)


def validate_options(params, schema=NETWORK_STORAGE_SCHEMA):
    """Errors found in the task alone, before any request. With ``state=absent`` only the ID is checked: a storage
    made elsewhere under another rule can still be deleted by its name."""
    if params.get("state") == "absent":
        return _check_not_empty(params.get("id"), params, "id") if params.get("id") is not None else []
    return schema.check_errors(params)


def model_from_api(api, schema=NETWORK_STORAGE_SCHEMA):
    return schema.model_from_api(api)


def storage_result(api, model=None, schema=NETWORK_STORAGE_SCHEMA):
    """A network storage as the modules return it: ``id``, ``name``, ``size`` (int), ``cluster_id``, ``cluster_name``,
    ``price`` (as the API returns it). ``{}`` without either argument."""
    if not api and model is None:
        return {}
    return schema.result(model_from_api(api, schema) if model is None else model, api or {})


def diff_view(result):
    """The managed settings of a returned storage, for ``--diff``: everything but the ID (in the header) and the price."""
    return dict((key, result.get(key)) for key in ("name", "size", "cluster_id", "cluster_name")) if result else {}


def diff_header(name, storage_id):
    """How a diff names a storage: ``network storage NAME (ID)``, without the ID when it has none yet."""
    return "network storage %s (%s)" % (name, storage_id) if storage_id else "network storage %s" % name


def describe(storage):
    """``NAME (ID)`` of an API storage object, for messages."""
    return "%s (%s)" % (storage.get("storageName"), storage.get("storageId"))


# ---------------------------------------------------------------------------
# clusters

def as_bool(value):
    """A flag as the API may send it: a JSON boolean, 0/1, or a string such as ``"true"``."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


def cluster_result(cluster):
    """A cluster as novita_cluster_info returns it: the API's keys in snake_case (``availableGpuType`` ->
    ``available_gpu_type``), the two ``support*`` flags as booleans, the ID and name as strings."""
    result = dict((snake_case(str(key)), copy.deepcopy(value)) for key, value in cluster.items())
    for key in ("id", "name"):
        if result.get(key) is not None:
            result[key] = str(result[key])
    for key in ("support_network_storage", "support_instance_network"):
        result[key] = as_bool(result.get(key))
    if not isinstance(result.get("available_gpu_type"), list):
        result["available_gpu_type"] = [] if result.get("available_gpu_type") in (None, "") else [result["available_gpu_type"]]
    return result


def supports_network_storage(cluster):
    return as_bool(cluster.get("supportNetworkStorage"))


def _cluster_text(cluster):
    return "%s (%s)" % (cluster.get("id"), cluster.get("name"))


# ---------------------------------------------------------------------------
# endpoints that mount a storage

def mounting_endpoints(endpoints, storage_id):
    """``[{"id", "name"}]`` of the endpoints with a ``network`` volume mount of this storage, sorted by name and ID."""
    users = []
    for endpoint in endpoints:
        for mount in endpoint.get("volumeMounts") or []:
            if isinstance(mount, dict) and mount.get("type") == "network" and str(mount.get("id")) == str(storage_id):
                users.append({"id": str(endpoint.get("id")), "name": endpoint.get("name")})
                break
    return sorted(users, key=lambda e: (str(e["name"]), e["id"]))


def _endpoints_text(users):
    return ", ".join("%s (%s)" % (e["name"], e["id"]) for e in users)


# ---------------------------------------------------------------------------
# the API

class NetworkStorageAPI:
    """The network storage and cluster calls of the v1 API."""

    def __init__(self, client):
        self.client = client

    def list(self, name=None, storage_id=None):
        """Every storage the list returns for these filters (``storageName`` matches parts of names), all pages.

        ``pageNo`` counts from 1. Pages are read until ``total`` storages are in hand, a page is empty or adds no
        storage not already read (an API that ignores ``pageNo``), or, without a ``total``, a page is short.
        """
        storages = {}
        order = []
        page = 1
        while True:
            query = {"pageNo": page, "pageSize": STORAGE_PAGE_SIZE}
            if name:
                query["storageName"] = name
            if storage_id:
                query["storageId"] = storage_id
            data = self.client.get("/networkstorages/list", query)
            data = data if isinstance(data, dict) else {}
            items = [s for s in data.get("data") or [] if isinstance(s, dict)]
            added = 0
            for item in items:
                key = str(item.get("storageId"))
                if key not in storages:
                    storages[key] = item
                    order.append(key)
                    added += 1
            total = _int_or_none(data.get("total"))
            if not added or page >= STORAGE_MAX_PAGES:
                break
            if total is not None and len(order) >= total:
                break
            if total is None and len(items) < STORAGE_PAGE_SIZE:
                break
            page += 1
        return [storages[key] for key in order]

    def get(self, storage_id):
        """The storage with this ID (one list page filtered by ``storageId``), or None."""
        matches = [s for s in self.list(storage_id=storage_id) if str(s.get("storageId")) == str(storage_id)]
        return matches[0] if matches else None

    def by_name(self, name):
        """The storages with exactly this name (the list filtered by ``storageName``, which matches parts of names)."""
        return [s for s in self.list(name=name) if s.get("storageName") == name]

    def clusters(self):
        data = self.client.get("/clusters")
        items = data.get("data") if isinstance(data, dict) else None
        return [c for c in items or [] if isinstance(c, dict)]

    def endpoints(self):
        return EndpointAPI(self.client).list()

    def create(self, body):
        """Create the storage, never making two storages with one name; returns ``(storage_id, adopted, storage)``.

        The reply may carry ``storageId`` (at the top or under ``data``) or be empty; without an ID the list is read by
        name and the one storage with the name is the new one (``storage`` is then that list item, else None).

        The create is never repeated blindly: after a failure that leaves open whether the API created the storage (a
        timeout, a dropped connection, a 5xx) the name is looked up and a storage found is adopted (``adopted`` True); only
        when none exists is the create sent again, within the client's retry policy. A 429 is a refusal: it is waited out and the create repeated.
        """
        name = body["storageName"]
        attempt = 0
        started = None
        while True:
            try:
                data = self.client.post("/networkstorage/create", body)
            except NovitaAPIError as exc:
                if not exc.transient:
                    raise
                exc.attempts = attempt + 1
                if exc.ambiguous:
                    found = self._created(name, exc, required=False)
                    if found is not None:
                        return str(found.get("storageId")), True, found
                if started is None:
                    started = self.client.now()
                delay = self.client.retry_delay(attempt, exc.retry_after, started)
                if delay is None:
                    if exc.ambiguous:
                        raise NetworkStorageError("%s; no network storage named %s exists, so none was created (gave up after %d attempts)"
                                                  % (exc.msg, name, attempt + 1), failure=exc.to_dict())
                    raise
                self.client.pause(delay)
                attempt += 1
                continue
            storage_id = _reply_id(data)
            if storage_id is not None:
                return storage_id, False, None
            found = self._created(name, None, required=True)
            return str(found.get("storageId")), False, found

    def _created(self, name, exc, required):
        """The storage a create made, found by its exact name; None (or, ``required``, an error) when none is listed."""
        cause = ("%s; whether network storage %s was created is unknown" % (exc.msg, name)) if exc is not None else \
            "the API accepted the create of network storage %s without returning its ID" % name
        try:
            found = self.by_name(name)
        except NovitaAPIError as lookup:
            raise NetworkStorageError("%s, and looking it up failed: %s. Check before running again" % (cause, lookup.msg),
                                      **({"failure": exc.to_dict()} if exc is not None else lookup.details))
        if len(found) == 1:
            return found[0]
        if not found and not required:
            return None
        ids = sorted(str(s.get("storageId")) for s in found)
        raise NetworkStorageError("%s, and %s. Check before running again" % (
            cause, "%d storages now have the name (IDs: %s): another run may have created one at the same time" % (len(ids), ", ".join(ids))
            if ids else "the list shows no storage with that name"), network_storage_ids=ids)

    def update(self, body):
        """Send the complete body (ID, name, size); repeating it is harmless, so transient failures are retried."""
        self.client.post("/networkstorage/update", body, retry=True)

    def delete(self, storage_id):
        """Delete by ID, retried on transient failures; a storage already gone counts as deleted."""
        try:
            self.client.post("/networkstorage/delete", {"storageId": storage_id}, retry=True)
        except NovitaAPIError as exc:
            if not is_not_found(exc):
                raise


def _reply_id(data):
    if not isinstance(data, dict):
        return None
    for holder in (data, data.get("data")):
        if isinstance(holder, dict) and holder.get("storageId") not in (None, ""):
            return str(holder["storageId"])
    return None


def _int_or_none(value):
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------
# the convergence of one declared storage

class NetworkStorageConverger:
    """Brings one network storage to the state a task declares.

    Reads: the storage (one list page by ID, or the list pages filtered by name); on create, the clusters; on delete,
    the endpoint list. Every problem found before the first write is reported together. Check mode makes the same
    reads and no write.
    """

    def __init__(self, api, params, check_mode=False, want_diff=False, problems=(), schema=NETWORK_STORAGE_SCHEMA):
        self.api = api
        self.params = params
        self.check_mode = check_mode
        self.want_diff = want_diff
        self.schema = schema
        self.problems = list(problems)
        self.result = {"changed": False, "action": UNCHANGED, "network_storage": {}}

    def run(self):
        if self.params.get("state") == "absent":
            self._stop_on_problems()
            return self._absent(self._lookup())
        try:
            return self._present()
        except NovitaError as exc:
            if not self.problems or isinstance(exc, NetworkStorageError) and exc.details.get("errors"):
                raise
            # A read failed, so the rest cannot be checked; the problems found so far are still the answer.
            self.problems.append("the checks that need the API could not be made: %s" % exc.msg)
            self._stop_on_problems(**exc.details)
            raise

    # -- lookups

    def _lookup(self):
        """The storage the task names (None when there is none); several with the name are an error."""
        params = self.params
        if params.get("id"):
            return self.api.get(params["id"])
        if not params.get("name"):
            return None  # an empty name is one of the task's problems already
        found = self.api.by_name(params["name"])
        if len(found) > 1:
            ids = sorted(str(s.get("storageId")) for s in found)
            raise NetworkStorageError("name: %d network storages are named %s (IDs: %s); set id to choose the one to manage"
                                      % (len(found), params["name"], ", ".join(ids)), network_storage_ids=ids)
        return found[0] if found else None

    def _cluster(self):
        """The cluster the task names (by ID or name), read from the API: a problem is added when it does not exist, is
        ambiguous or does not support network storage. None without a cluster option or with a problem."""
        params = self.params
        if params.get("cluster_id"):
            option, value = "cluster_id", params["cluster_id"]
        elif params.get("cluster_name"):
            option, value = "cluster_name", params["cluster_name"]
        else:
            return None
        clusters = self.api.clusters()
        key = "id" if option == "cluster_id" else "name"
        matches = [c for c in clusters if str(c.get(key)) == value]
        usable = ", ".join(_cluster_text(c) for c in clusters if supports_network_storage(c)) or "none"
        if not matches:
            self.problems.append("%s: no cluster has the %s %s; clusters that support network storage: %s"
                                 % (option, "ID" if key == "id" else "name", value, usable))
            return None
        if len(matches) > 1:
            self.problems.append("cluster_name: %d clusters are named %s (IDs: %s); set cluster_id instead"
                                 % (len(matches), value, ", ".join(sorted(str(c.get("id")) for c in matches))))
            return None
        cluster = matches[0]
        if not supports_network_storage(cluster):
            self.problems.append("%s: cluster %s does not support network storage (supportNetworkStorage is false); clusters that do: %s"
                                 % (option, _cluster_text(cluster), usable))
            return None
        return cluster

    # -- the outcomes

    def _present(self):
        try:
            current = self._lookup()
        except NetworkStorageError as exc:
            self.problems.append(exc.msg)
            self._stop_on_problems(**exc.details)
            raise
        if current is not None:
            return self._update(current)
        if self.params.get("id"):
            self.problems.append("id: no network storage has the ID %s; a storage cannot be created with a chosen ID: give name"
                                 " without id to create one" % self.params["id"])
            self._stop_on_problems()
        return self._create()

    def _create(self):
        params = self.params
        self.result["action"] = CREATED
        cluster = self._cluster()
        name = params.get("name")
        if params.get("size") is None:
            self.problems.append("size is required to create network storage %s" % name)
        if params.get("cluster_id") is None and params.get("cluster_name") is None:
            self.problems.append("cluster_id or cluster_name is required to create network storage %s" % name)
        self._stop_on_problems()
        desired = self.schema.apply_options(self.schema.create_base(), dict(params, cluster_id=str(cluster["id"])))
        body = self.schema.build_payload(desired, for_create=True)
        planned = {"storageId": None, "clusterName": cluster.get("name"), "price": None}
        if self.check_mode:
            return self._finish(planned, desired, None, changed=True)
        storage_id, adopted, listed = self.api.create(body)
        self.result["changed"] = True
        if adopted:
            self.result.setdefault("warnings", []).append(
                "the create request for network storage %s got no clear reply; the storage it created (%s) was found by name and adopted"
                % (name, storage_id))
        planned["storageId"] = storage_id
        if listed is not None:
            # Found in the list by its name: that read is the read back.
            return self._finish(listed, None, None, changed=True)
        return self._read_back("created network storage %s (%s)" % (name, storage_id), storage_id, planned, desired, None)

    def _update(self, current):
        params = self.params
        storage_id = str(current.get("storageId"))
        current_model = model_from_api(current, self.schema)
        where = "network storage %s" % describe(current)
        if params.get("cluster_id") and params["cluster_id"] != current_model["cluster_id"]:
            self.problems.append("cluster_id: %s is in cluster %s; its cluster cannot change to %s (create a new storage in that"
                                 " cluster instead)" % (where, current_model["cluster_id"], params["cluster_id"]))
        if params.get("cluster_name"):
            current_cluster = current.get("clusterName")
            if current_cluster is None:
                # The list gave no cluster name: the clusters tell which name the storage's cluster has.
                known = [c for c in self.api.clusters() if str(c.get("id")) == current_model["cluster_id"]]
                current_cluster = known[0].get("name") if known else None
            if params["cluster_name"] != current_cluster:
                self.problems.append("cluster_name: %s is in cluster %s (%s); its cluster cannot change to %s (create a new storage"
                                     " in that cluster instead)" % (where, current_cluster, current_model["cluster_id"], params["cluster_name"]))
        size = params.get("size")
        if size is not None and isinstance(current_model["size"], int) and size < current_model["size"]:
            self.problems.append("size: %s has %s GB; %s GB is smaller, and a network storage can only grow" % (where, current_model["size"], size))
        desired = self.schema.apply_options(current_model, dict(params, cluster_id=None))
        if desired != current_model or self.problems:
            self.result["action"] = UPDATED
        self._stop_on_problems(network_storage_id=storage_id)
        if desired == current_model:
            return self._finish(current, current_model, current_model, changed=False)
        body = dict(storageId=storage_id, **self.schema.build_payload(desired, for_create=False))
        if self.check_mode:
            return self._finish(current, desired, current_model, changed=True)
        try:
            self.api.update(body)
        except NovitaAPIError as exc:
            outcome = "it may or may not have been applied; run the task again to converge" if exc.ambiguous else "it was not applied"
            raise NetworkStorageError("updating %s failed: %s; %s" % (where, exc.msg, outcome), network_storage_id=storage_id,
                                      failure=exc.to_dict())
        self.result["changed"] = True
        return self._read_back("updated %s" % where, storage_id, current, desired, current_model)

    def _absent(self, current):
        if current is None:
            return self._finish(None, None, None, changed=False)
        storage_id = str(current.get("storageId"))
        before = model_from_api(current, self.schema)
        self.result["action"] = DELETED
        users = mounting_endpoints(self.api.endpoints(), storage_id)
        if users and not self.params.get("force"):
            raise NetworkStorageError("network storage %s is mounted by %d endpoint(s): %s; nothing was deleted. Remove the mount from"
                                      " those endpoints first, or set force=true to delete it anyway"
                                      % (describe(current), len(users), _endpoints_text(users)),
                                      network_storage_id=storage_id, used_by=users)
        if users:
            self.result.setdefault("warnings", []).append(
                "force=true: network storage %s is deleted although %d endpoint(s) mount it: %s; their volume mount now refers to a storage"
                " that does not exist" % (describe(current), len(users), _endpoints_text(users)))
            self.result["used_by"] = users
        # changed becomes true once the delete was accepted, not before: a refused delete changed nothing.
        self._finish(current, before, before, changed=self.check_mode, after_exists=False)
        if self.check_mode:
            return self.result
        self.api.delete(storage_id)
        self.result["changed"] = True
        return self.result

    # -- helpers

    def _read_back(self, done, storage_id, api_object, desired, before_model):
        """After a write, the storage as the API lists it (one read by ID); the result says what was already done if the read fails."""
        try:
            final = self.api.get(storage_id)
        except NovitaError as exc:
            raise NetworkStorageError("%s, then reading it back failed: %s" % (done, exc.msg), network_storage_id=storage_id, **exc.details)
        if final is None:
            self.result.setdefault("warnings", []).append("%s, but the list does not show it yet; the result shows what was sent" % done)
            return self._finish(api_object, desired, before_model, changed=True)
        return self._finish(final, None, before_model, changed=True)

    def _stop_on_problems(self, **details):
        """Raise one error listing every problem found, if there is one (see ``raise_problems``); nothing was written."""
        raise_problems(self.problems, NetworkStorageError, **details)

    def _finish(self, api_object, model, before_model, changed, after_exists=True):
        """The result: ``network_storage`` from ``api_object`` (``model``: the settings, None to read them from it); the diff
        from ``before_model`` (None: the storage did not exist) to the returned storage (or to nothing after a delete)."""
        self.result["changed"] = changed
        if not self.result.get("warnings"):
            self.result.pop("warnings", None)
        returned = storage_result(api_object, model, self.schema)
        self.result["network_storage"] = returned
        if self.want_diff:
            before = storage_result(api_object, before_model, self.schema) if before_model is not None else {}
            after = returned if after_exists else {}
            name = returned.get("name") or self.params.get("name")
            header = diff_header(name, returned.get("id"))
            if before and before.get("name") != name:
                before_header = diff_header(before.get("name"), returned.get("id"))
            else:
                before_header = header
            self.result["diff"] = {"before": diff_view(before), "after": diff_view(after), "before_header": before_header,
                                   "after_header": header}
        return self.result
