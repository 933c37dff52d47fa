# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The convergence of one declared endpoint, and the resolution of the names an endpoint task gives (credential, storages)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError, NovitaError, Problem
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import (
    ENDPOINT_SCHEMA,
    check_limits,
    diff_views,
    endpoint_result,
    env_value,
    hidden_env_names,
    hidden_env_values,
    validate_model,
)
from ansible_collections.novita.cloud.plugins.module_utils.endpoint_api import POLL_FIRST_DELAY, READ_BACK_READS, EndpointError, settings_read_back
from ansible_collections.novita.cloud.plugins.module_utils.module import CREATED, DELETED, RECREATED, UPDATED
from ansible_collections.novita.cloud.plugins.module_utils.network_storage import NetworkStorageAPI
from ansible_collections.novita.cloud.plugins.module_utils.registry_auth import RegistryAuthAPI
from ansible_collections.novita.cloud.plugins.module_utils.resource import Converger, Named, created_at


class EndpointConverger(Converger):
    """Brings one endpoint to the state a task declares, within the request budget:

    by id 1 read, by name the list pages; the limits only when a write is coming; then the one write
    and the wait polls. Check mode makes the same reads and no write.
    """

    NOUN = RESULT_KEY = "endpoint"

    def __init__(self, api, params, check_mode=False, want_diff=False, problems=(), lookups=None):
        # Problems found so far (``problems``: the task's own, see ``validate_options``). The run goes on with its reads
        # to find the rest (names that do not resolve, create-only changes, account limits) and reports them all
        # together before any write.
        super(EndpointConverger, self).__init__(params, check_mode, want_diff, problems)
        self.api = api
        # The reads that resolve a credential or storage name (the fleet shares one set between its declarations).
        self.lookups = lookups if lookups is not None else NameLookups(api.client)
        self._names_resolved = True
        self._replaced_id = None  # with recreate: the endpoint the diff's before side is about
        self.secret_names = set(str(k) for k in (params.get("secret_envs") or {}))
        # Error replies may quote a request body, which carries every env value: the client scrubs the task's
        # secret values, and (once the endpoint is read) the values of variables the task does not declare plain.
        self.api.client.add_secrets(*[env_value(v) for v in (params.get("secret_envs") or {}).values()])

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
        self.params = resolve_names(self.lookups, self.params, self.problems)
        self._names_resolved = len(self.problems) == found
        params = self.params
        current = self._lookup()
        if current is None:
            if params.get("id"):
                self.problems.append(Problem("id", "no endpoint with id %s exists; to create an endpoint, give name without id" % params["id"]))
                self._stop_on_problems()
            return self._create(None)
        current_model = ENDPOINT_SCHEMA.model_from_api(current)
        if not params.get("id") and self._needs_write(current_model):
            # The list may lag behind the last write: a full replace is built from a read by ID, never from the list.
            current = self._read_fresh(current)
            current_model = ENDPOINT_SCHEMA.model_from_api(current)
        immutable = ENDPOINT_SCHEMA.immutable_changes(current_model, params)
        if immutable and not params.get("recreate"):
            self.problems.extend(Problem(option, "endpoint %s cannot change %s from %r to %r: it is set at creation only; set"
                                                 " recreate=true to delete the endpoint and create it anew" % (current.get("id"), option, old, new))
                                 for option, old, new in immutable)
            # What the update would be, checked too: every problem shows now, not after recreate=true is added.
            self._plan(RECREATED)
            self._validate(ENDPOINT_SCHEMA.apply_options(current_model, params), creating=False)
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
        return bool(ENDPOINT_SCHEMA.immutable_changes(current_model, self.params)) or ENDPOINT_SCHEMA.apply_options(current_model, self.params) != current_model

    def _read_fresh(self, listed):
        """The endpoint the list showed, read again by ID; it must still exist."""
        fresh = self.api.get(listed["id"])
        if fresh is None:
            raise EndpointError("endpoint %s (%s) is in the endpoint list, but reading it by ID finds nothing: it was deleted meanwhile."
                                " Nothing was written; run the task again" % (listed.get("name"), listed["id"]))
        self.api.client.add_echoed(*hidden_env_values(self.params.get("envs"), fresh))
        return fresh

    def _plan(self, action):
        """What the run is about to do: its ``action``; until ``_done``, ``changed`` stays false (see ``module.reported``)."""
        self.result["action"] = action

    def _done(self, action=None):
        """A write was accepted (``action``: what it amounted to, when not what was planned)."""
        if action is not None:
            self.result["action"] = action
        if not self.check_mode:
            self.result["changed"] = True

    # -- the three outcomes

    def _absent(self, current):
        if current is None:
            return self._finish(None, None, None, None, changed=False)
        endpoint_id = current["id"]
        before = ENDPOINT_SCHEMA.model_from_api(current)
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
        desired = ENDPOINT_SCHEMA.apply_options(current_model, self.params)
        if desired == current_model and not self.problems:
            return self._finish(current, current_model, current_model, desired, changed=False)
        self._plan(UPDATED)
        self._validate(desired, creating=False)
        endpoint_id = current["id"]
        body = dict(id=endpoint_id, **ENDPOINT_SCHEMA.build_payload(desired, for_create=False))
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
                                      warnings=self.warnings)
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
            self._warn("the update of endpoint %s got no clear reply (%s); reading it back shows it"
                       " was applied" % (endpoint_id, error.msg))
            return
        self._done()
        raise EndpointError("updating endpoint %s failed: %s; it may or may not have been applied (an update replaces the whole endpoint,"
                            " never a part of it), so changed is true; run the task again to converge" % (endpoint_id, error.msg),
                            endpoint_id=endpoint_id, failure=error.to_dict())

    def _create(self, replaced, replaced_model=None):
        """Create the endpoint; with ``replaced`` (``recreate``), replace that one, keeping its settings (see ``_recreate``)."""
        if replaced is None:
            desired = ENDPOINT_SCHEMA.apply_options(ENDPOINT_SCHEMA.create_base(), self.params)
        else:
            base = dict(replaced_model)
            if base["app_name"] == replaced.get("id"):
                base["app_name"] = ""  # the API's default (the ID) goes with the old endpoint
            desired = ENDPOINT_SCHEMA.apply_options(base, self.params)
        self._plan(CREATED if replaced is None else RECREATED)
        self._replaced_id = replaced["id"] if replaced is not None else None
        self._validate(desired, creating=True)
        body = ENDPOINT_SCHEMA.build_payload(desired, for_create=True)
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
        old_body = ENDPOINT_SCHEMA.build_payload(replaced_model, for_create=True)
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
        if adopted:
            self._warn("the create request for %s got no clear reply; the endpoint it created (%s) was found by name and adopted"
                       % (body.get("name"), new_id))
        done = ("%s; created endpoint %s" % (done, new_id)) if done else "created endpoint %s" % new_id
        if body.get("name") and not adopted:
            kept = self._after_write(done, new_id, self._settle_duplicates, body["name"], new_id)
            if kept is not None:
                return self._adopt_rival(kept, done, replaced_model, desired)
        final, final_model = {"id": new_id, "state": None}, desired
        if self.params.get("wait", True):
            final = self._after_write(done, new_id, self.api.wait, new_id, self.params["wait_timeout"], warnings=self.warnings)
            final_model = None
        return self._finish(final, final_model, replaced_model, desired, changed=True)

    def _adopt_rival(self, kept, done, replaced_model, desired):
        """Another run created the same name first: its endpoint is kept (and converged), this run's copy is gone."""
        action = self.result["action"]
        kept_model = ENDPOINT_SCHEMA.model_from_api(kept)
        if ENDPOINT_SCHEMA.apply_options(kept_model, self.params) != kept_model:
            result = self._update(kept, kept_model)
        else:
            final = kept
            if self.params.get("wait", True):
                final = self._after_write("%s, deleted it again and adopted %s" % (done, kept["id"]), kept["id"],
                                          self.api.wait, kept["id"], self.params["wait_timeout"], warnings=self.warnings)
            result = self._finish(final, None, replaced_model, desired, changed=True)
        result["changed"] = True
        result["action"] = action
        return result

    def _settle_duplicates(self, name, new_id):
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
            self._warn("endpoint %s is also named %s: another run created it at the same time, after this one; this run keeps %s and"
                       " the other run deletes its own" % (other_ids, name, new_id))
            return None
        self.api.delete(new_id)
        if self.params.get("wait", True):
            self.api.wait(new_id, self.params["wait_timeout"], gone=True)
        self._warn("another run created endpoint %s with the same name %s first, at the same time as this run; this run deleted the"
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
        hidden = self.hidden_env_names(endpoint, before, after)
        diff = None
        if self.want_diff:
            endpoint_id = (endpoint or {}).get("id")
            diff = diff_views(before, after, hidden) + (
                self._header((before or after or {}).get("name") or self.params.get("name"), self._replaced_id or endpoint_id),
                self._header((after or before or {}).get("name") or self.params.get("name"), endpoint_id))
        return self._finished(changed, endpoint_result(endpoint, hidden, model=model), diff)


class NameLookups:
    """The reads behind ``resolve_names``, made by the resources' own API classes: the account's registry credentials,
    and the network storages whose name contains a name (the API's filter)."""

    def __init__(self, client):
        self.client = client

    def registry_auths(self):
        return RegistryAuthAPI(self.client).list()

    def network_storages(self, name):
        return NetworkStorageAPI(self.client).list(name=name)


def resolve_names(lookups, params, problems):
    """The task's parameters with ``image.auth_name`` and ``volume_mounts[].storage_name`` replaced by IDs.

    A registry credential or network storage is looked up only when the task names one. A network storage's
    cluster fills ``cluster_id`` when the task leaves it out; a different ``cluster_id`` is an error. Unknown and
    ambiguous names are problems found before any write, added to ``problems``.
    """
    image = params.get("image") or {}
    mounts = params.get("volume_mounts") or []
    if not image.get("auth_name") and not any(m.get("storage_name") for m in mounts):
        return params
    params = copy.deepcopy(params)
    if image.get("auth_name"):
        _resolve_auth_name(lookups, params, problems)
    cluster_from = None
    for index, mount in enumerate(params.get("volume_mounts") or []):
        if mount.get("storage_name"):
            cluster_from = _resolve_storage_name(lookups, params, index, mount, cluster_from, problems)
    return params


def _resolve_auth_name(lookups, params, errors):
    """Replace ``image.auth_name`` by the ID of the one registry credential with that name."""
    name = params["image"]["auth_name"]
    named = Named(lookups.registry_auths(), name, "registry credentials")
    if named.one is not None:
        params["image"]["auth_id"] = named.one["id"]
    elif named.several:
        errors.append(Problem("image.auth_name", "%s; set image.auth_id instead" % named.several))
    else:
        errors.append(Problem("image.auth_name", "no registry credential is named %s" % name))
    params["image"]["auth_name"] = None


def _resolve_storage_name(lookups, params, index, mount, cluster_from, errors):
    """Replace a mount's ``storage_name`` by the ID of the one network storage with that name, and fill ``cluster_id`` from
    its cluster; returns what set ``cluster_id`` (for the message when a later mount disagrees)."""
    name = mount["storage_name"]
    where = "volume_mounts[%d].storage_name" % index
    named = Named(lookups.network_storages(name), name, "network storages", name_key="storageName", id_key="storageId")
    mount["storage_name"] = None
    if named.one is None:
        errors.append(Problem(where, "%s; set id instead" % named.several if named.several else "no network storage is named %s" % name))
        return cluster_from
    mount["id"] = str(named.one.get("storageId"))
    cluster = str(named.one.get("clusterId") or "")
    if params.get("cluster_id") and params["cluster_id"] != cluster:
        errors.append(Problem(where, "network storage %s is in cluster %s, but %s is %s"
                              % (name, cluster, "cluster_id" if cluster_from is None else cluster_from, params["cluster_id"])))
        return cluster_from
    if not params.get("cluster_id"):
        params["cluster_id"], cluster_from = cluster, "the cluster of volume_mounts[%d]" % index
    return cluster_from
