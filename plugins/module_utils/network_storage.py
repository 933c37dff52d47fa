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

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError, NovitaError, Problem, create_once, delete_by_id
from ansible_collections.novita.cloud.plugins.module_utils.endpoint_api import EndpointAPI
from ansible_collections.novita.cloud.plugins.module_utils.module import CREATED, DELETED, UPDATED
from ansible_collections.novita.cloud.plugins.module_utils.resource import Converger, Named, endpoints_text, keeper, may_have_written
from ansible_collections.novita.cloud.plugins.module_utils.schema import Codec, Option, Returned, Schema, snake_case

# Novita's rules for a network storage (its MCP server's tool descriptions): at least 10 GB; letters, digits, hyphens.
MIN_SIZE_GB = 10
NAME_PATTERN = re.compile(r"^[A-Za-z0-9-]+$")
SCOPE = "network_storage"
NOUN = "a network storage"


class NetworkStorageError(NovitaError):
    """A failure of a network storage operation that is not one API request's error (those are NovitaAPIError)."""


# ---------------------------------------------------------------------------
# the rows

def _check_not_empty(value, params, where):
    return [Problem(where, "must not be empty")] if isinstance(value, str) and not value.strip() else []


def _check_name(value, params, where):
    if value == "":
        return [Problem(where, "must not be empty; a network storage name has letters, digits and hyphens")]
    if not NAME_PATTERN.match(value):
        return [Problem(where, "%r is not allowed; a network storage name has letters (A-Z, a-z), digits and hyphens only" % (value,))]
    return []


def _check_size(value, params, where):
    if value < MIN_SIZE_GB:
        return [Problem(where, "%d GB is less than the allowed minimum of %d GB" % (value, MIN_SIZE_GB))]
    return []


NETWORK_STORAGE_OPTIONS = (
    Option("state", "str", [
        "V(present) creates the network storage or changes its name or size; V(absent) deletes it (nothing happens when"
        " it does not exist).",
    ], choices=["present", "absent"], default="present"),
    Option("id", "str", [
        "The ID of the network storage to manage.",
        "With O(id), O(name) is the desired name, so setting both renames the storage.",
        "A network storage cannot be created with a chosen ID; with O(state=present), if no storage has this ID, the"
        " module fails.",
        "One of O(id) and O(name) is required.",
    ], check=_check_not_empty),
    Option("name", "str", [
        "The network storage's name: letters, digits and hyphens only, checked before any request.",
        "Without O(id), the storage is looked up by this exact name (the API's name filter matches parts of names; the"
        " module keeps only the exact matches). If none has it, the storage is created.",
        "Names are not unique in the Novita API. If several storages have the name, the module fails before any write"
        " and lists their IDs (set O(id) to choose one), except with O(state=present) in two cases, where it manages one"
        " of them and warns naming the others, which it leaves alone: exactly one of them already has every value the"
        " task sets; or they all have the same size and cluster (what two runs that created the name at the same"
        " moment leave), and the one managed is the oldest by the API's C(createdAt), or without one the first by ID.",
        "Two runs that create the same name at the same moment settle on one storage: after its create each run lists"
        " the name again, every run keeps the same one (by the rule above) and deletes its own when it is not that one"
        " (never one an endpoint already mounts), then takes the one kept over and brings it to the task's values, with"
        " a warning.",
    ], api=["storageName"], codec=Codec("str"), check=_check_name, required_to_create=True,
        returned={"description": ["The network storage's name."], "sample": "team-models"}),
    Option("size", "int", [
        "The size in GB, at least V(10).",
        "A network storage can only grow. A size smaller than the storage's current size is an error, naming both"
        " sizes, before any write.",
        "Left out, an existing storage keeps its size.",
    ], api=["storageSize"], codec=Codec("int"), check=_check_size, required_to_create=True,
        returned={"description": ["The size in GB."], "sample": 100}),
    Option("cluster_id", "str", [
        "The ID of the cluster the storage is in. Mutually exclusive with O(cluster_name); one of them is required to"
        " create a storage.",
        "On create, the module reads the clusters (one request) and fails before any write when no cluster has this ID or"
        " the cluster does not support network storage.",
        "The cluster of an existing storage cannot change. A different value is an error, naming both clusters, before"
        " any write; left out, the storage's cluster is kept.",
        "An endpoint that mounts the storage must run in the same cluster.",
    ], api=["clusterId"], codec=Codec("str"), immutable=True, check=_check_not_empty,
        returned={"description": ["The ID of the cluster the storage is in."], "sample": "us-dallas-1"}),
    Option("cluster_name", "str", [
        "The name of the cluster the storage is in, as an alternative to O(cluster_id), for example V(us-east).",
        "On create, the module reads the clusters (one request) and uses the ID of the one cluster with this name. No"
        " cluster or several with the name, or a cluster that does not support network storage, is an error before any"
        " write.",
        "For an existing storage it is compared with the cluster name the API lists for the storage; a different name is"
        " an error before any write.",
    ], check=_check_not_empty),
    Option("force", "bool", [
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

# A network storage has no ``recreate``: its create-only option gets no sentence pointing to one.
NETWORK_STORAGE_SCHEMA = Schema(NETWORK_STORAGE_OPTIONS, NETWORK_STORAGE_RETURNS, noun=NOUN, create_only=None)

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


# ---------------------------------------------------------------------------
# the API

class NetworkStorageAPI:
    """The network storage and cluster calls of the v1 API."""

    def __init__(self, client):
        self.client = client

    def list(self, name=None, storage_id=None):
        """Every storage the list returns for these filters (``storageName`` matches parts of names), all pages, checked
        by the client's pager (``pageNo``): a reply it cannot vouch for raises a NovitaListError."""
        query = {}
        if name:
            query["storageName"] = name
        if storage_id:
            query["storageId"] = storage_id
        return self.client.list_all("/networkstorages/list", "data", query=query, page_param="pageNo", key=_storage_key)

    def get(self, storage_id):
        """The storage with this ID (one list page filtered by ``storageId``), or None."""
        matches = [s for s in self.list(storage_id=storage_id) if str(s.get("storageId")) == str(storage_id)]
        return matches[0] if matches else None

    def by_name(self, name):
        """The storages with exactly this name (the list filtered by ``storageName``, which matches parts of names)."""
        return [s for s in self.list(name=name) if s.get("storageName") == name]

    def clusters(self):
        return self.client.read_list("/clusters", "data")

    def endpoints(self):
        return EndpointAPI(self.client).list()

    def create(self, body):
        """Create the storage; returns ``(storage_id, adopted, found)``.

        ``storage_id`` is the ID the reply carries (at the top or under ``data``), else None. Without it, ``found`` is
        the list of the storages with the name, read after the create (the new one is among them); else ``found`` is None.

        The create is never repeated blindly: after a failure that leaves open whether the API created the storage (a
        timeout, a dropped connection, a 5xx) the name is looked up, and when storages have it they are taken as the
        result (``adopted`` True, ``found`` those storages); only when none exists is the create sent again, within the
        client's retry policy. A 429 is a refusal: it is waited out and the create repeated. An error raised once the
        create was accepted, or may have been, is marked with ``may_have_written``.
        """
        name = body["storageName"]

        def lookup(exc):
            return self._created(name, "%s; whether network storage %s was created is unknown" % (exc.msg, name), failure=exc.to_dict())

        def gave_up(exc, attempts):
            return NetworkStorageError("%s; no network storage named %s exists, so none was created (gave up after %d attempts)"
                                       % (exc.msg, name, attempts), failure=exc.to_dict())

        data, found = create_once(self.client, lambda: self.client.post("/networkstorage/create", body), lookup, gave_up)
        if found:
            return None, True, found
        storage_id = _reply_id(data)
        if storage_id is not None:
            return storage_id, False, None
        found = self._created(name, "the API accepted the create of network storage %s without returning its ID" % name)
        if not found:
            raise may_have_written(NetworkStorageError("the API accepted the create of network storage %s without returning its ID, and"
                                                       " the list shows no storage with that name. Check before running again" % name))
        return None, False, found

    def _created(self, name, cause, **details):
        """The storages with the exact name, read after a create; a read that fails raises, saying the create may have been made."""
        try:
            return self.by_name(name)
        except NovitaError as lookup:
            raise may_have_written(NetworkStorageError("%s, and looking it up failed: %s. Check before running again" % (cause, lookup.msg),
                                                       **(details or lookup.details)))

    def update(self, body):
        """Send the complete body (ID, name, size); repeating it is harmless, so transient failures are retried."""
        self.client.post("/networkstorage/update", body, retry=True)

    def delete(self, storage_id):
        """Delete by ID, retried on transient failures; a storage already gone counts as deleted."""
        delete_by_id(self.client, "/networkstorage/delete", {"storageId": storage_id})


def _reply_id(data):
    """The new storage's ID in a create's answer: the bare JSON string Novita documents, or ``storageId`` of an object
    (or of its ``data``); None for ``{}`` or anything else."""
    if isinstance(data, str):
        text = data.strip()
        return text if text and len(text) <= 255 and not any(char.isspace() for char in text) else None
    if not isinstance(data, dict):
        return None
    for holder in (data, data.get("data")):
        if isinstance(holder, dict) and holder.get("storageId") not in (None, ""):
            return str(holder["storageId"])
    return None


def _storage_key(storage):
    """What tells listed storages apart: the ID, as text."""
    value = storage.get("storageId")
    return None if value is None else str(value)


def _storage_text_id(storage):
    return str(storage.get("storageId"))


# ---------------------------------------------------------------------------
# the convergence of one declared storage

class NetworkStorageConverger(Converger):
    """Brings one network storage to the state a task declares.

    Reads: the storage (one list page by ID, or the list pages filtered by name); on create, the clusters; on delete,
    the endpoint list. Every problem found before the first write is reported together. Check mode makes the same
    reads and no write.
    """

    NOUN = "network storage"
    RESULT_KEY = "network_storage"

    def __init__(self, api, params, check_mode=False, want_diff=False, problems=(), schema=NETWORK_STORAGE_SCHEMA):
        super(NetworkStorageConverger, self).__init__(params, check_mode, want_diff, problems)
        self.api = api
        self.schema = schema

    # -- lookups

    def _lookup(self, adopt_twins=False):
        """The storage the task names (None when there is none). Several with the name are an error, except with
        ``adopt_twins`` (state present), which manages one of them, with a warning naming the others: the one that
        already has every value the task sets, when exactly one has; else, when they all have the same size and cluster
        (what two runs that created the name at the same moment leave), the one every run keeps (see ``keeper``)."""
        params = self.params
        if params.get("id"):
            return self.api.get(params["id"])
        if not params.get("name"):
            return None  # an empty name is one of the task's problems already
        named = Named(self.api.by_name(params["name"]), params["name"], "network storages", name_key="storageName", id_key="storageId")
        found, ids = named.matches, named.ids
        if named.several:
            if adopt_twins:
                matching = [s for s in found if self._matches(s)]
                if len(matching) == 1:
                    return self._manage_one(matching[0], ids, "the only one with the task's values")
                if all(model_from_api(s, self.schema) == model_from_api(found[0], self.schema) for s in found):
                    kept, rule = keeper(found, _storage_text_id)
                    return self._manage_one(kept, ids, rule, ", with the same size and cluster")
            raise NetworkStorageError("name: %s; set id to choose the one to manage" % named.several, network_storage_ids=ids)
        return named.one

    def _matches(self, storage):
        """Whether a listed storage has every value the task sets (name, size, cluster by ID or name)."""
        params = self.params
        model = model_from_api(storage, self.schema)
        if params.get("cluster_id") and params["cluster_id"] != model["cluster_id"]:
            return False
        if params.get("cluster_name") and params["cluster_name"] != storage.get("clusterName"):
            return False
        return self.schema.apply_options(model, dict(params, cluster_id=None)) == model

    def _manage_one(self, storage, ids, why, alike=""):
        others = [i for i in ids if i != _storage_text_id(storage)]
        pronoun = "them" if len(others) > 1 else "it"
        self._warn("%d network storages are named %s%s (IDs: %s); this run manages %s, %s, and leaves %s alone: delete %s if nothing mounts %s"
                   % (len(ids), self.params["name"], alike, ", ".join(ids), _storage_text_id(storage), why, ", ".join(others), pronoun, pronoun))
        return storage

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
            self.problems.append(Problem(option, "no cluster has the %s %s; clusters that support network storage: %s"
                                         % ("ID" if key == "id" else "name", value, usable)))
            return None
        if len(matches) > 1:
            self.problems.append(Problem("cluster_name", "%d clusters are named %s (IDs: %s); set cluster_id instead"
                                         % (len(matches), value, ", ".join(sorted(str(c.get("id")) for c in matches)))))
            return None
        cluster = matches[0]
        if not supports_network_storage(cluster):
            self.problems.append(Problem(option, "cluster %s does not support network storage (supportNetworkStorage is false);"
                                                 " clusters that do: %s" % (_cluster_text(cluster), usable)))
            return None
        return cluster

    # -- the outcomes

    def _present(self):
        try:
            current = self._lookup(adopt_twins=True)
        except NetworkStorageError as exc:
            self.problems.append(exc.msg)
            self._stop_on_problems(**exc.details)
            raise
        if current is not None:
            return self._update(current)
        if self.params.get("id"):
            self.problems.append(Problem("id", "no network storage has the ID %s; a storage cannot be created with a chosen ID:"
                                               " give name without id to create one" % self.params["id"]))
            self._stop_on_problems()
        return self._create()

    def _create(self):
        params = self.params
        self.result["action"] = CREATED
        cluster = self._cluster()
        name = params.get("name")
        if params.get("size") is None:
            self.problems.append(Problem("size", "is required to create network storage %s" % name, " "))
        if params.get("cluster_id") is None and params.get("cluster_name") is None:
            self.problems.append(Problem("cluster_id", "or cluster_name is required to create network storage %s" % name, " "))
        self._stop_on_problems()
        desired = self.schema.apply_options(self.schema.create_base(), dict(params, cluster_id=str(cluster["id"])))
        body = self.schema.build_payload(desired, for_create=True)
        planned = {"storageId": None, "clusterName": cluster.get("name"), "price": None}
        if self.check_mode:
            return self._finish(planned, desired, None, changed=True)
        try:
            storage_id, adopted, found = self.api.create(body)
        except NovitaError as exc:
            if getattr(exc, "may_have_written", False):
                self.result["changed"] = True
            raise
        self.result["changed"] = True
        planned["storageId"] = storage_id
        result = self._settle(storage_id, found, adopted, desired, planned)
        if adopted:
            self._warn("the create request for network storage %s got no clear reply; the storage it created (%s) was found by name and adopted"
                       % (name, result["network_storage"].get("id")))
        return result

    def _settle(self, storage_id, found, adopted, desired, planned):
        """After a create, the storage this run keeps: its own, or when other runs created the name at the same moment,
        the one every run keeps.

        Every run that created the storage lists the name once more (the read back, too). If several storages have it,
        all runs apply one rule (``keeper``) and delete the others that are their own: the one with the ID the create
        returned, or, without an ID, the ones with this run's size and cluster (an identical one of another run is deleted
        by that run too; the second delete finds it gone). A storage an endpoint already mounts is never deleted. A run
        whose own storage is not the one kept adopts the kept one and brings it to the task's values. ``found`` is the
        list by name that ``create`` read, if it read one.
        """
        name = desired["name"]
        done = "created network storage %s%s" % (name, " (%s)" % storage_id if storage_id else "")
        if found is None:
            found = self._read_back_created(name, storage_id, done)
            if not found:
                self._warn("%s, but the list does not show it yet; the result shows what was sent" % done)
                return self._finish(planned, desired, None, changed=True)
        ids = sorted(_storage_text_id(s) for s in found)
        mine = self._own(found, storage_id, desired)
        if not mine and not adopted:
            raise NetworkStorageError("%s, but none of the %d network storages with that name (IDs: %s) is the one it created. Check before"
                                      " running again" % (done, len(found), ", ".join(ids)), network_storage_ids=ids)
        kept, rule = keeper(found, _storage_text_id)
        if len(found) == 1:
            return self._finish(kept, None, None, changed=True)
        text = ("%s; another run created one with the name at the same time (IDs: %s), and %s is kept, %s"
                % (done, ", ".join(ids), _storage_text_id(kept), rule))
        extra = [s for s in mine if s is not kept]
        if extra:
            self._delete_duplicates(extra, text, ids)
        deleted = ", ".join(_storage_text_id(s) for s in extra)
        if any(s is kept for s in mine):
            self._warn("%s%s" % (text, "; this run deleted %s" % deleted if extra else ""))
            return self._finish(kept, None, None, changed=True)
        text = "%s; this run deleted %s and adopted %s" % (text, ("its own (%s)" % deleted) if extra else "nothing", _storage_text_id(kept))
        self._warn(text)
        return self._adopt(kept, text)

    def _read_back_created(self, name, storage_id, done):
        """The storages with the name after a create, the one with ``storage_id`` among them even when the list lags."""
        try:
            found = self.api.by_name(name)
            if not any(_storage_key(s) == storage_id for s in found):
                own = self.api.get(storage_id)
                found = found + ([own] if own is not None else [])
        except NovitaError as exc:
            raise NetworkStorageError("%s, then reading it back failed: %s" % (done, exc.msg), network_storage_id=storage_id, **exc.details)
        return found

    def _own(self, found, storage_id, desired):
        """Which of the storages with the name this run created: the one with the ID its create returned, the only one, or
        (without an ID) the ones with its values."""
        if storage_id is not None:
            return [s for s in found if _storage_key(s) == storage_id]
        if len(found) == 1:
            return found
        return [s for s in found if model_from_api(s, self.schema) == desired]

    def _delete_duplicates(self, extra, text, ids):
        """Delete the storages ``extra`` that concurrent creates of one name left, unless an endpoint mounts one."""
        try:
            endpoints = self.api.endpoints()
            for storage in extra:
                users = mounting_endpoints(endpoints, _storage_key(storage))
                if users:
                    raise NetworkStorageError("network storage %s is mounted by %d endpoint(s) already: %s, so nothing was deleted: move them to"
                                              " one of the storages and delete the others" % (describe(storage), len(users), endpoints_text(users)),
                                              used_by=users)
            for storage in extra:
                self._delete(storage)
                self.result.setdefault("duplicate_deleted_ids", []).append(_storage_text_id(storage))
        except NovitaError as exc:
            details = dict(exc.details, network_storage_ids=ids)
            raise NetworkStorageError("%s; then %s" % (text, exc.msg), **details)

    def _adopt(self, kept, text):
        """Another run's storage of the name is kept: this run takes it over and brings it to the task's values."""
        action = self.result["action"]
        try:
            result = self._update(kept)
        except NovitaError as exc:
            errors = exc.details.get("errors")
            details = dict(exc.details)
            details.pop("errors", None)
            # What the update refused is no longer a problem found before any write.
            self.problems = []
            self.result["action"] = action
            self.result["changed"] = True
            raise NetworkStorageError("%s, then: %s" % (text, "; ".join(errors) if errors else exc.msg), **details)
        result["action"] = action
        result["changed"] = True
        return result

    def _update(self, current):
        params = self.params
        storage_id = str(current.get("storageId"))
        current_model = model_from_api(current, self.schema)
        where = "network storage %s" % describe(current)
        self._check_change(current, current_model, where)
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
            return self._unclear_update(exc, where, storage_id, desired, current_model)
        self.result["changed"] = True
        return self._read_back("updated %s" % where, storage_id, current, desired, current_model)

    def _check_change(self, current, current_model, where):
        """The problems of a change to an existing storage: another cluster, a smaller size."""
        params = self.params
        if params.get("cluster_id") and params["cluster_id"] != current_model["cluster_id"]:
            self.problems.append(Problem("cluster_id", "%s is in cluster %s; its cluster cannot change to %s (create a new storage"
                                                       " in that cluster instead)" % (where, current_model["cluster_id"], params["cluster_id"])))
        if params.get("cluster_name"):
            current_cluster = current.get("clusterName")
            if current_cluster is None:
                # The list gave no cluster name: the clusters tell which name the storage's cluster has.
                known = [c for c in self.api.clusters() if str(c.get("id")) == current_model["cluster_id"]]
                current_cluster = known[0].get("name") if known else None
            if params["cluster_name"] != current_cluster:
                self.problems.append(Problem("cluster_name", "%s is in cluster %s (%s); its cluster cannot change to %s (create a new"
                                                             " storage in that cluster instead)"
                                             % (where, current_cluster, current_model["cluster_id"], params["cluster_name"])))
        size = params.get("size")
        if size is not None and isinstance(current_model["size"], int) and size < current_model["size"]:
            self.problems.append(Problem("size", "%s has %s GB; %s GB is smaller, and a network storage can only grow"
                                         % (where, current_model["size"], size)))

    def _unclear_update(self, exc, where, storage_id, desired, current_model):
        """An update that failed: refused, it raises; unclear, the storage read back tells whether it took effect."""
        if not exc.ambiguous:
            raise NetworkStorageError("updating %s failed: %s; it was not applied" % (where, exc.msg), network_storage_id=storage_id,
                                      failure=exc.to_dict())
        self.result["changed"] = True
        final = self._read_applied(storage_id, desired)
        if final is None:
            raise NetworkStorageError("updating %s failed: %s; it may or may not have been applied, so changed is true; run the task again"
                                      " to converge" % (where, exc.msg), network_storage_id=storage_id, failure=exc.to_dict())
        self._warn("the update of %s got no clear reply (%s); reading it back shows it was applied" % (where, exc.msg))
        return self._finish(final, None, current_model, changed=True)

    def _absent(self, current):
        if current is None:
            return self._finish(None, None, None, changed=False)
        storage_id = str(current.get("storageId"))
        before = model_from_api(current, self.schema)
        self.result["action"] = DELETED
        users = mounting_endpoints(self.api.endpoints(), storage_id)
        if users and not self.params.get("force"):
            raise NetworkStorageError("network storage %s is mounted by %d endpoint(s): %s; nothing was deleted. Remove the mount from"
                                      " those endpoints first, or set force=true to delete it anyway%s"
                                      % (describe(current), len(users), endpoints_text(users),
                                         self._check_mode_users_note(endpoints_text(users))),
                                      network_storage_id=storage_id, used_by=users)
        if users:
            self._warn(
                "force=true: network storage %s is deleted although %d endpoint(s) mount it: %s; their volume mount now refers to a storage"
                " that does not exist" % (describe(current), len(users), endpoints_text(users)))
            self.result["used_by"] = users
        # changed becomes true once the delete was accepted, not before: a refused delete changed nothing.
        self._finish(current, before, before, changed=self.check_mode, after_exists=False)
        if self.check_mode:
            return self.result
        self._delete(current, users)
        self.result["changed"] = True
        return self.result

    def _delete(self, storage, users=()):
        """Delete one storage (``users``: the endpoints that mount it, as read before). When the delete gets no clear reply,
        the storage is read back: gone, the delete counts as done; still listed, it was not; unreadable, the error says it
        may have been, ``changed`` true. A delete the API refuses because the storage is in use says so, naming ``users``."""
        storage_id = _storage_text_id(storage)
        self._delete_checked("network storage %s" % describe(storage), lambda: self.api.delete(storage_id), lambda: self.api.get(storage_id) is None,
                             "reading it back", NetworkStorageError,
                             in_use=(endpoints_text(users), "remove the volume mount from those endpoints or delete them first"),
                             network_storage_id=storage_id)

    # -- helpers

    def _read_applied(self, storage_id, desired):
        """The storage read by ID when it shows the ``desired`` settings; None when it does not, or the read fails."""
        try:
            final = self.api.get(storage_id)
        except NovitaError:
            return None
        return final if final is not None and model_from_api(final, self.schema) == desired else None

    def _read_back(self, done, storage_id, api_object, desired, before_model):
        """After a write, the storage as the API lists it (one read by ID); the result says what was already done if the read fails."""
        try:
            final = self.api.get(storage_id)
        except NovitaError as exc:
            raise NetworkStorageError("%s, then reading it back failed: %s" % (done, exc.msg), network_storage_id=storage_id, **exc.details)
        if final is None:
            self._warn("%s, but the list does not show it yet; the result shows what was sent" % done)
            return self._finish(api_object, desired, before_model, changed=True)
        return self._finish(final, None, before_model, changed=True)

    def _finish(self, api_object, model, before_model, changed, after_exists=True):
        """The result: ``network_storage`` from ``api_object`` (``model``: the settings, None to read them from it); the diff
        from ``before_model`` (None: the storage did not exist) to the returned storage (or to nothing after a delete)."""
        returned = storage_result(api_object, model, self.schema)
        diff = None
        if self.want_diff:
            before = storage_result(api_object, before_model, self.schema) if before_model is not None else {}
            after = returned if after_exists else {}
            name = returned.get("name") or self.params.get("name")
            header = self._header(name, returned.get("id"))
            if before and before.get("name") != name:
                before_header = self._header(before.get("name"), returned.get("id"))
            else:
                before_header = header
            diff = (diff_view(before), diff_view(after), before_header, header)
        return self._finished(changed, returned, diff)
