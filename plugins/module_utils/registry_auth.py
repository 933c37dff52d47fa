# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Registry credentials (``/repository/auths``): their schema, the API calls, and the convergence of one declared credential.

The API has no update call and gives no ID back from a save: a credential whose user name or password
changes is saved anew (then found by listing again: the one with its name whose ID was not there before)
and the old one deleted, so its ID changes. Endpoints refer to a credential by ID (``image.authId``), so
a replace or a delete first looks for the endpoints that use it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.novita.cloud.plugins.module_utils.api import MASK, NovitaAPIError, NovitaError, Problem, create_once, delete_by_id
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import ENDPOINT_SCHEMA, check_wait_timeout, hidden_env_values
from ansible_collections.novita.cloud.plugins.module_utils.endpoint_api import EndpointAPI
from ansible_collections.novita.cloud.plugins.module_utils.module import CREATED, DELETED, REPLACED, ProblemsError
from ansible_collections.novita.cloud.plugins.module_utils.resource import Converger, Named, endpoints_text, keeper, may_have_written
from ansible_collections.novita.cloud.plugins.module_utils.schema import Codec, Option, Returned, Schema, get_path

NAME_MAX_LENGTH = 255
USERNAME_MAX_LENGTH = 511
PASSWORD_MAX_LENGTH = 1024
# The scope of the schema's rows that novita_registry_auth takes.
SCOPE = "registry_auth"


class RegistryAuthError(NovitaError):
    """A failure of a registry credential operation that is not one API request's error (those are NovitaAPIError)."""


def _check_not_empty(value, params, where):
    # Never the value itself: for the password it is a secret.
    return [Problem(where, "must not be empty")] if value == "" else []


def _auth_id(api):
    value = api.get("id")
    return None if value is None else str(value)


REGISTRY_AUTH_OPTIONS = (
    Option("name", "str", [
        "The credential's name. The module finds the credential by this name.",
        "Names are not unique in the Novita API. With O(state=present), several credentials with this name are an error"
        " (the message lists their IDs), except in two cases. When they all have the same user name and password (what"
        " two runs that saved the name at the same moment leave), the module manages one of them, the oldest by the"
        " API's C(createdAt), or without one the first by ID, and warns naming the others, which it leaves alone. When"
        " there are two and exactly one of them has the task's O(username) and O(password), which is what a replace"
        " interrupted after its save leaves behind, the module finishes that replace (see O(repoint_endpoints)).",
        "Two runs that save the same name at the same moment settle on one credential: after its save each run lists the"
        " credentials again, every run keeps the same one of the new ones (by the rule above), and deletes the other new"
        " ones that have its user name and password (never one an endpoint already uses), with a warning. A run whose"
        " values differ from the one kept deletes its own and fails, saying so; running it again replaces the one kept.",
        "With O(state=absent), every credential with this name is deleted.",
    ], api=["name"], codec=Codec("str"), max_length=NAME_MAX_LENGTH, required=True, check=_check_not_empty,
        returned={"description": ["The credential's name."], "sample": "ghcr-team"}),
    Option("username", "str", [
        "The user name for the registry.",
        "Left out, an existing credential keeps its user name.",
        "The user name is not secret: it is returned and shown in the diff.",
    ], api=["username"], codec=Codec("str"), max_length=USERNAME_MAX_LENGTH, required_to_create=True, check=_check_not_empty,
        returned={"description": ["The user name for the registry."], "sample": "ci-bot"}),
    Option("password", "str", [
        "The password or access token for the registry.",
        "Left out, an existing credential keeps its password.",
        "The API lists every credential with its password, so the module compares it without storing anything and a"
        " rerun with the same value changes nothing. The password is never returned; in the diff it is C(********),"
        " followed by the word C(changed) in parentheses when the task changes it. It is masked in every message, as"
        " are the passwords of the account's other credentials.",
    ], api=["password"], codec=Codec("str"), max_length=PASSWORD_MAX_LENGTH, no_log=True, required_to_create=True,
        check=_check_not_empty),
    Option("state", "str", [
        "V(present) creates the credential, or replaces it when its user name or password differs from the task's.",
        "V(absent) deletes every credential with O(name); nothing happens when there is none. A credential that an"
        " endpoint uses is not deleted unless O(force=true).",
    ], choices=["present", "absent"], default="present"),
    Option("repoint_endpoints", "bool", [
        "What to do when the user name or password changes and endpoints use the credential. The API cannot change a"
        " credential: the module saves a new one with the same name (it gets a new ID) and deletes the old one, and an"
        " endpoint that still refers to the old ID could no longer pull its image.",
        "V(false) fails before any write and names the endpoints (name and ID).",
        "V(true) saves the new credential, then updates every endpoint that uses the old one to use the new ID, then"
        " deletes the old credential. Each update sends the whole endpoint as a read of it by ID shows it (not as the"
        " endpoint list shows it, which may lag behind a recent update), with only the credential ID changed (as"
        " M(novita.cloud.novita_endpoint) does), so no other setting is lost; an endpoint that reads back no longer using"
        " the old credential is left alone, with a warning. With O(wait), the module waits for each endpoint to read back"
        " the new ID and be ready before it deletes the old credential.",
        "A failure part of the way says what was done (the new credential's ID, the endpoints repointed) and what was"
        " not; the old credential is then kept. Running the task again finishes the replace.",
        "Unused when nothing uses the credential, and with O(state=absent).",
    ], default=False),
    Option("force", "bool", [
        "With O(state=absent), delete the credential even while endpoints use it. The module warns and returns them in"
        " RV(used_by): they keep referring to the deleted ID, so their workers can no longer pull a private image (a new"
        " worker, a restart or a scale-up fails) until they are pointed at another credential, for example with"
        " O(novita.cloud.novita_endpoint#module:image.auth_name).",
        "V(false) fails before any write and names the endpoints.",
        "Unused with O(state=present); see O(repoint_endpoints).",
    ], default=False),
    Option("wait", "bool", [
        "With O(repoint_endpoints=true), after updating the endpoints, poll each until it reads back the new credential"
        " ID and is ready, as M(novita.cloud.novita_endpoint) waits after an update, before the old credential is deleted.",
        "V(false) deletes the old credential right after the updates were accepted.",
    ], default=True),
    Option("wait_timeout", "int", [
        "How many seconds to wait for each endpoint with O(wait). When it runs out the module fails, naming the endpoint"
        " and its last state; the old credential is then kept.",
    ], default=600, check=check_wait_timeout),
)

REGISTRY_AUTH_RETURNS = (
    Returned("id", "str", ["The credential's ID. V(null) in check mode for a credential that would be created or replaced:"
                           " the API makes the ID when it saves the credential."], "7b1d4a553f2a9c0e", _auth_id),
    "name",
    "username",
)

REGISTRY_AUTH_SCHEMA = Schema(REGISTRY_AUTH_OPTIONS, REGISTRY_AUTH_RETURNS, noun="a registry credential")


def registry_auth_argument_spec(schema=REGISTRY_AUTH_SCHEMA):
    """The options of novita_registry_auth (connection options come from api.py)."""
    return schema.argument_spec(SCOPE)


def validate_options(params, schema=REGISTRY_AUTH_SCHEMA):
    """Errors found in the task alone, before any request: lengths against the API's limits, empty values. Never a value."""
    return schema.check_errors(params) + schema.length_errors(params)


def registry_auth_result(api, model=None, schema=REGISTRY_AUTH_SCHEMA):
    """A credential as the modules return it: ``id``, ``name``, ``username``; never the password. ``{}`` without either."""
    if not api and model is None:
        return {}
    return schema.result(schema.model_from_api(api) if model is None else model, api or {})


def endpoint_ref(endpoint):
    """How results name an endpoint: its ID and name."""
    return {"id": str(endpoint.get("id")), "name": endpoint.get("name") or ""}


def auth_text(auth):
    return "registry credential %s (%s)" % (auth.get("name"), auth.get("id"))


def diff_view(model, password_changed=False):
    """The credential for ``--diff``: name and user name shown, the password masked (``******** (changed)`` when it changes)."""
    if not model:
        return {}
    return {"name": model["name"], "username": model["username"], "password": MASK + (" (changed)" if password_changed else "")}


class RegistryAuthAPI:
    """The v1 registry credential calls: list, save (which returns no ID), delete by ``id``."""

    def __init__(self, client):
        self.client = client

    def list(self):
        """Every credential of the account, IDs as strings; a reply that is not a well-formed list raises (see
        ``NovitaClient.read_list``). Their passwords are masked in every message from now on."""
        auths = []
        for item in self.client.read_list("/repository/auths", "data"):
            auth = dict(item)
            auth["id"] = _auth_id(item)
            auths.append(auth)
        self.client.add_secrets(*[a.get("password") for a in auths])
        return auths

    def save(self, body, known_ids):
        """Save a credential and return ``(fresh, adopted)``: the credentials named ``body["name"]`` whose IDs are not in
        ``known_ids`` (the IDs listed before), found by listing again; the one saved is among them (the API returns no ID).

        The save itself is never repeated blindly: after a failure that leaves open whether it was carried out (a
        timeout, a dropped connection, a 5xx), the list is read again and new credentials with the name are taken
        (``adopted`` True); only when there is none is the save sent again, within the client's retry policy. An error
        raised once the save was accepted, or may have been, is marked with ``may_have_written``.
        """
        name = body["name"]

        def lookup(exc):
            try:
                return self._new(name, known_ids)
            except NovitaError as failed:
                raise may_have_written(RegistryAuthError(
                    "%s; registry credential %s may or may not have been saved: listing the credentials to find out failed too: %s."
                    " Check before running again" % (exc.msg, name, failed.msg), failure=exc.to_dict()))

        def gave_up(exc, attempts):
            return RegistryAuthError("%s; no new registry credential named %s is listed, so none was saved (gave up after %d attempts)"
                                     % (exc.msg, name, attempts), failure=exc.to_dict())

        dummy, fresh = create_once(self.client, lambda: self.client.post("/repository/auth/save", body), lookup, gave_up)
        if fresh:
            return fresh, True
        try:
            fresh = self._new(name, known_ids)
        except NovitaError as exc:
            raise may_have_written(RegistryAuthError("saved registry credential %s, then listing the credentials to find its ID failed: %s."
                                                     " Run the task again to find it" % (name, exc.msg), **exc.details))
        if not fresh:
            raise may_have_written(RegistryAuthError("Novita API accepted saving registry credential %s, but listing the credentials again"
                                                     " shows no new one with that name" % name))
        return fresh, False

    def _new(self, name, known_ids):
        return [a for a in self.list() if a.get("name") == name and a["id"] not in known_ids]

    def delete(self, auth_id):
        """Delete by ID, repeated on transient failures; a credential already gone counts as deleted."""
        delete_by_id(self.client, "/repository/auth/delete", {"id": auth_id})


def endpoints_using(endpoints, auth_ids):
    """The endpoints (API objects) whose ``image.authId`` is one of ``auth_ids``."""
    wanted = set(auth_ids)
    return [e for e in endpoints if str(get_path(e, ("image", "authId")) or "") in wanted]


class RegistryAuthConverger(Converger):
    """Brings the registry credential a task declares about: one list read when nothing changes; the endpoint list
    pages only when a replace or a delete is coming; check mode makes the same reads and no write."""

    NOUN = "registry credential"
    RESULT_KEY = "registry_auth"

    def __init__(self, client, params, check_mode=False, want_diff=False, problems=(), endpoint_api=None):
        super(RegistryAuthConverger, self).__init__(params, check_mode, want_diff, problems)
        self.client = client
        self.api = RegistryAuthAPI(client)
        self.endpoint_api = endpoint_api or EndpointAPI(client)
        self._listed = []
        # The endpoints found using the credentials a delete removes (named when the API refuses it as in use).
        self._known_users = []
        # Error replies may quote a request body: the task's password is masked in every message.
        client.add_secrets(params.get("password"))

    def _lookup(self):
        """The credentials with the task's name (every credential listed is kept in ``_listed``)."""
        self._listed = self.api.list()
        return Named(self._listed, self.params["name"], "registry credentials").matches

    def _present(self):
        self._stop_on_problems()
        matches = self._lookup()
        known_ids = set(a["id"] for a in self._listed)
        if not matches:
            return self._create(known_ids)
        if len(matches) > 1:
            current = self._several(matches)
            if current is None:
                return self._resume(matches, known_ids)
        else:
            current = matches[0]
        desired = self._desired(current)
        if desired == self._model(current):
            return self._finish(current, None, current, desired, changed=False)
        return self._replace(current, None, desired, known_ids)

    # -- the outcomes

    def _create(self, known_ids):
        desired = self._desired(None)
        self.result["action"] = CREATED
        self.problems.extend(REGISTRY_AUTH_SCHEMA.missing_to_create(desired))
        self._stop_on_problems()
        if self.check_mode:
            return self._finish(None, desired, None, desired, changed=True)
        saved = self._save(desired, known_ids)
        return self._finish(saved, None, None, desired, changed=True)

    def _several(self, matches):
        """Several credentials have the name: when they all have the same user name and password (what two runs that
        saved it at the same moment leave), the one every run keeps is managed, with a warning; else None."""
        if len(set((a.get("username"), a.get("password")) for a in matches)) != 1:
            return None
        kept, rule = keeper(matches, lambda a: a["id"])
        others = sorted(a["id"] for a in matches if a is not kept)
        self._warn("%d registry credentials are named %s, with the same user name and password (IDs: %s); this run manages %s,"
                   " %s, and leaves %s alone: delete %s if nothing uses %s"
                   % (len(matches), self.params["name"], ", ".join(sorted(a["id"] for a in matches)), kept["id"], rule,
                      ", ".join(others), "them" if len(others) > 1 else "it", "them" if len(others) > 1 else "it"))
        return kept

    def _resume(self, matches, known_ids):
        """Several credentials have the name: finish an interrupted replace when that is what it looks like, else fail."""
        name = self.params["name"]
        named = Named(matches, name, "registry credentials")
        given = self.params.get("username") is not None and self.params.get("password") is not None
        same = [a for a in matches if given and self._desired(a) == self._model(a)]
        if len(matches) == 2 and len(same) == 1:
            kept = same[0]
            old = [a for a in matches if a is not kept][0]
            self._warn("two registry credentials are named %s; %s has the task's user name and password (a replace was interrupted"
                       " after its save?), so it is kept and %s is replaced by it" % (name, kept["id"], old["id"]))
            return self._replace(old, kept, self._model(kept), known_ids)
        hint = ("; one of them must have exactly the task's username and password to be kept" if len(matches) == 2 else "")
        raise ProblemsError("name: %s; the module cannot tell which to manage%s. state=absent deletes every credential with the name"
                            % (named.several, hint), errors=["name: %s" % named.several], auth_ids=named.ids)

    def _replace(self, old, new, desired, known_ids):
        """Replace ``old`` by a credential with the ``desired`` values: save it (unless ``new`` exists already), repoint the
        endpoints that use ``old`` (with ``repoint_endpoints``), delete ``old``."""
        self.result["action"] = REPLACED
        before = self._model(old)
        users = self._users([old["id"]])
        if users and not self.params.get("repoint_endpoints"):
            self.problems.append("%s is used by endpoint%s %s; changing its username or password saves a new credential with a new ID and"
                                 " deletes this one, which would break them: set repoint_endpoints=true to point them at the new one"
                                 % (auth_text(old), "s" if len(users) > 1 else "", endpoints_text(users)))
            self._finish(old, None, before, before, changed=False)
            self._stop_on_problems()
        self.result["replaced_auth_id"] = old["id"]
        if self.check_mode:
            if users:
                self.result["repointed_endpoints"] = [endpoint_ref(e) for e in users]
            return self._finish(new, desired if new is None else None, before, desired, changed=True, old=old)
        done = []
        if new is None:
            new = self._save(desired, known_ids)
            done.append("saved %s to replace %s" % (auth_text(new), old["id"]))
        self._finish(new, None, before, desired, changed=self.result["changed"], old=old)
        repointed = self._repoint(users, new["id"], old, done)
        if repointed:
            done.append("repointed endpoint%s %s" % ("s" if len(repointed) > 1 else "", endpoints_text(repointed)))
        try:
            self._delete(old)
        except NovitaError as exc:
            raise self._partial(done, "deleting the old %s failed: %s" % (auth_text(old), exc.msg),
                                "%s was not deleted (two credentials are named %s now; run the task again to finish the replace)"
                                % (old["id"], old.get("name")), exc)
        self.result["changed"] = True
        return self.result

    def _save(self, desired, known_ids):
        """Save a credential with the ``desired`` values and return it as listed, concurrent saves of the name settled."""
        body = REGISTRY_AUTH_SCHEMA.build_payload(desired, for_create=True)
        try:
            fresh, adopted = self.api.save(body, known_ids)
        except NovitaError as exc:
            if getattr(exc, "may_have_written", False):
                self.result["changed"] = True
            raise
        self.result["changed"] = True
        saved = self._settle(fresh, body)
        if adopted:
            self._warn("saving registry credential %s got no clear reply; the credential it saved (%s) was found by name and adopted"
                       % (saved.get("name"), saved["id"]))
        return saved

    def _settle(self, fresh, body):
        """The credential this run keeps after its save, ``fresh`` being the new credentials with the name.

        Several are new when other runs saved the same name at the same moment. The save returns no ID, so a run cannot
        tell which one is its own: every run applies one rule, keeping the one ``keeper`` picks, and deletes the other new
        ones that have its save's user name and password (its own is among them; an identical one of another run is
        deleted by that run too, and the second delete finds it gone). A new credential an endpoint already uses is
        never deleted. When the one kept has another user name or password (another run declared the name otherwise),
        this run deletes its own and fails: running it again replaces the one kept.
        """
        if len(fresh) == 1:
            return fresh[0]
        name = body["name"]
        ids = sorted(a["id"] for a in fresh)
        kept, rule = keeper(fresh, lambda a: a["id"])
        mine = [a for a in fresh if a.get("username") == body["username"] and a.get("password") == body["password"]]
        if not mine:
            raise RegistryAuthError("saved registry credential %s, but none of the %d new credentials with that name (IDs: %s) has its user"
                                    " name and password; check before running again" % (name, len(fresh), ", ".join(ids)), auth_ids=ids)
        extra = [a for a in mine if a is not kept]
        done = "saved registry credential %s; another run saved one with the name at the same time (new IDs: %s), and %s is kept, %s" % (
            name, ", ".join(ids), kept["id"], rule)
        if extra:
            self._delete_duplicates(extra, done, ids)
        if any(a is kept for a in mine):
            self._warn("%s%s" % (done, "; this run deleted %s" % ", ".join(a["id"] for a in extra) if extra else ""))
            return kept
        raise RegistryAuthError("%s, which has another user name or password: this run deleted the one it saved (%s). Run the task again"
                                " to replace %s with this task's values" % (done, ", ".join(a["id"] for a in extra), kept["id"]), auth_ids=ids)

    def _delete_duplicates(self, extra, done, ids):
        """Delete the new credentials ``extra`` that concurrent saves of one name left, unless an endpoint uses one."""
        extra_ids = [a["id"] for a in extra]
        try:
            users = endpoints_using(self.endpoint_api.list(), extra_ids)
            if users:
                raise RegistryAuthError("endpoint%s %s already use%s %s, so nothing was deleted: point them at %s and delete the others"
                                        % ("s" if len(users) > 1 else "", endpoints_text(users), "" if len(users) > 1 else "s",
                                           ", ".join(extra_ids), "one of the credentials"))
            for auth in extra:
                self._delete(auth)
                self.result.setdefault("duplicate_deleted_ids", []).append(auth["id"])
        except NovitaError as exc:
            details = dict(exc.details, auth_ids=ids)
            raise RegistryAuthError("%s; then %s" % (done, exc.msg), **details)

    def _repoint(self, users, new_id, old, done):
        """Update every endpoint in ``users`` to the credential ``new_id``, then wait for each (with ``wait``); returns the
        endpoints updated. A failure raises, saying what was done.

        Each update replaces the whole endpoint, so its body is built from a read of the endpoint by ID (the list may
        lag behind a recent update), with only ``image.authId`` changed. An endpoint that reads back no longer using
        the old credential is left alone. When an update gets no clear reply, the endpoint is read back: showing the new
        ID, the update took effect and the run goes on; otherwise it fails, ``changed`` true.
        """
        repointed = []
        images = {}
        if users:
            self.result["repointed_endpoints"] = []
        for index, listed in enumerate(users):
            left = users[index:]
            not_done = ("endpoint%s %s still use%s %s, which was not deleted"
                        % ("s" if len(left) > 1 else "", endpoints_text(left), "" if len(left) > 1 else "s", old["id"]))
            endpoint = self._repoint_one(listed, new_id, old, done + self._repointed_text(repointed), not_done, images)
            if endpoint is not None:
                repointed.append(endpoint)
                self.result["repointed_endpoints"].append(endpoint_ref(endpoint))
                self.result["changed"] = True
        if self.params.get("wait", True):
            self._wait_repointed(repointed, images, old, done)
        return repointed

    def _repoint_one(self, listed, new_id, old, done, not_done, images):
        """Update one endpoint to ``new_id``, its body built from a read by ID; the endpoint, or None when it was left alone."""
        endpoint_id = endpoint_ref(listed)["id"]
        try:
            endpoint = self.endpoint_api.get(endpoint_id)
        except NovitaError as exc:
            raise self._partial(done, "reading endpoint %s failed: %s" % (endpoints_text([listed]), exc.msg), not_done, exc)
        auth_id = str(get_path(endpoint or {}, ("image", "authId")) or "")
        if endpoint is None or auth_id != old["id"]:
            self._warn("endpoint %s was listed as using %s, but %s, so it was not updated"
                       % (endpoints_text([listed]), old["id"], "it no longer exists" if endpoint is None
                          else "read by ID it uses %s" % (auth_id or "no credential")))
            return None
        # An update's error may quote the endpoint's body, env values included.
        self.client.add_echoed(*hidden_env_values(None, endpoint))
        model = ENDPOINT_SCHEMA.model_from_api(endpoint)
        previous = copy.deepcopy(model["image"])
        model["image"]["auth_id"] = new_id
        images[endpoint_id] = (model["image"], previous)
        try:
            self.endpoint_api.update(dict(id=endpoint_id, **ENDPOINT_SCHEMA.build_payload(model, for_create=False)))
        except NovitaAPIError as exc:
            self._unclear_repoint(endpoint, new_id, done, not_done, exc)
        return endpoint

    def _unclear_repoint(self, endpoint, new_id, done, not_done, exc):
        """A repoint update failed: refused, or unclear and not shown by a read back, it raises; applied, it warns."""
        if not exc.ambiguous:
            raise self._partial(done, "updating endpoint %s to it failed: %s; it was not applied" % (endpoints_text([endpoint]), exc.msg),
                                not_done, exc)
        if not self._reads_auth(endpoint_ref(endpoint)["id"], new_id):
            self.result["changed"] = True
            raise self._partial(done, "updating endpoint %s to it failed: %s; it may or may not have been applied (an update replaces the"
                                " whole endpoint, never a part of it), so changed is true" % (endpoints_text([endpoint]), exc.msg), not_done, exc)
        self._warn("the update of endpoint %s got no clear reply (%s); reading it back shows it uses %s, so it was applied"
                   % (endpoints_text([endpoint]), exc.msg, new_id))

    def _wait_repointed(self, repointed, images, old, done):
        for endpoint in repointed:
            endpoint_id = endpoint_ref(endpoint)["id"]
            image, previous = images[endpoint_id]
            try:
                self.endpoint_api.wait(endpoint_id, self.params["wait_timeout"], expect={"image": image}, previous={"image": previous},
                                       warnings=self.warnings)
            except NovitaError as exc:
                raise self._partial(done + self._repointed_text(repointed), exc.msg,
                                    "%s was not deleted; run the task again to finish the replace" % old["id"], exc)

    def _reads_auth(self, endpoint_id, auth_id):
        """Whether the endpoint, read by ID, uses credential ``auth_id``; False when the read fails."""
        try:
            endpoint = self.endpoint_api.get(endpoint_id)
        except NovitaError:
            return False
        return endpoint is not None and str(get_path(endpoint, ("image", "authId")) or "") == auth_id

    @staticmethod
    def _repointed_text(repointed):
        return ["repointed endpoint%s %s" % ("s" if len(repointed) > 1 else "", endpoints_text(repointed))] if repointed else []

    def _partial(self, done, failed, not_done, exc):
        """The error of a replace that failed part of the way: what was done, what failed, what was not done."""
        details = dict(exc.details)
        details.pop("errors", None)
        for key in ("registry_auth", "replaced_auth_id", "repointed_endpoints", "used_by"):
            details.pop(key, None)
        text = "; ".join(done)
        message = ("%s; then %s. Not done: %s" % (text, failed, not_done)) if text else "%s. Not done: %s" % (failed, not_done)
        return RegistryAuthError(message, **details)

    def _delete(self, auth):
        """Delete one credential. When the delete gets no clear reply, the credential list tells whether it is gone: then
        the delete counts as done; still listed, it was not; unreadable, the error says it may have been, ``changed`` true."""
        using = endpoints_using(self._known_users, [auth["id"]])
        self._delete_checked(auth_text(auth), lambda: self.api.delete(auth["id"]), lambda: not any(a["id"] == auth["id"] for a in self.api.list()),
                             "listing the credentials", RegistryAuthError,
                             in_use=(endpoints_text(using), "point those endpoints at another credential or delete them first"))

    def _absent(self, current):
        """Delete every credential with the name (``current``, the ones ``_lookup`` found)."""
        matches = current
        if not matches:
            return self._finish(None, None, None, None, changed=False)
        first = matches[0]
        before = self._model(first)
        ids = [a["id"] for a in matches]
        users = self._users(ids)
        self._known_users = users
        self.result["action"] = DELETED
        if users and not self.params.get("force"):
            by_auth = [(a, endpoints_using(users, [a["id"]])) for a in matches]
            self.problems.extend("%s is used by endpoint%s %s; deleting it would leave them pointing at a credential that no longer exists:"
                                 " point them at another credential first, or set force=true to delete it anyway%s"
                                 % (auth_text(a), "s" if len(using) > 1 else "", endpoints_text(using),
                                    self._check_mode_users_note(endpoints_text(using))) for a, using in by_auth if using)
            self._finish(first, None, before, before, changed=False)
            self._stop_on_problems()
        self.result["deleted_auth_ids"] = ids
        self._finish(first, None, before, None, changed=self.check_mode)
        if self.check_mode:
            return self.result
        self._delete_each(matches)
        if users:
            self._warn("deleted %s although endpoint%s %s use%s it (force=true): they still refer to the deleted ID and cannot pull"
                       " a private image until they are pointed at another credential"
                       % (", ".join(auth_text(a) for a in matches), "s" if len(users) > 1 else "", endpoints_text(users),
                          "" if len(users) > 1 else "s"))
        return self.result

    def _delete_each(self, matches):
        """Delete the credentials one by one; a failure after the first says which ones were deleted."""
        deleted = []
        for auth in matches:
            try:
                self._delete(auth)
            except NovitaError as exc:
                if not deleted:
                    raise
                raise RegistryAuthError("deleted registry credential%s %s named %s; then deleting %s failed: %s"
                                        % ("s" if len(deleted) > 1 else "", ", ".join(deleted), self.params["name"], auth["id"], exc.msg),
                                        **exc.details)
            deleted.append(auth["id"])
            self.result["changed"] = True

    # -- helpers

    def _users(self, auth_ids):
        """The endpoints that use one of these credentials (the endpoint list pages); also returned as ``used_by``."""
        users = endpoints_using(self.endpoint_api.list(), auth_ids)
        for endpoint in users:
            # An update's error may quote the endpoint's body, env values included.
            self.client.add_echoed(*hidden_env_values(None, endpoint))
        self.result["used_by"] = [endpoint_ref(e) for e in users]
        return users

    @staticmethod
    def _model(auth):
        return REGISTRY_AUTH_SCHEMA.model_from_api(auth) if auth else None

    def _desired(self, current):
        """The credential the task asks for: the current one (if any) with the options the task sets laid over it."""
        base = self._model(current) if current is not None else REGISTRY_AUTH_SCHEMA.empty_model()
        return REGISTRY_AUTH_SCHEMA.apply_options(base, self.params)

    def _finish(self, auth, model, before, after, changed, old=None):
        """The result: ``auth`` is the API object returned (None: not saved yet), ``model`` its values when there is no
        object; ``before`` and ``after`` are the models for the diff, ``old`` the credential the before side is about."""
        diff = None
        if self.want_diff:
            name = (after or before or {}).get("name") or self.params.get("name")
            before_id = (old or auth or {}).get("id") if before else None
            after_id = (auth or {}).get("id") if after else None
            password_changed = bool(before and after and before["password"] != after["password"])
            diff = (diff_view(before), diff_view(after, password_changed), self._header(name, before_id),
                    self._header(name, after_id or (before_id if not after else None)))
        return self._finished(changed, registry_auth_result(auth, model), diff)


def registry_auths_info(client, name=None, used_by=False):
    """The account's credentials (all, or those named ``name``) as novita_registry_auth_info returns them; with
    ``used_by`` each has ``used_by``, the endpoints that use it (the endpoint list pages, read once)."""
    auths = RegistryAuthAPI(client).list()
    if name is not None:
        auths = [a for a in auths if a.get("name") == name]
    found = [registry_auth_result(a) for a in auths]
    if used_by and found:
        endpoints = EndpointAPI(client).list()
        for item in found:
            item["used_by"] = [endpoint_ref(e) for e in endpoints_using(endpoints, [item["id"]])]
    return found
