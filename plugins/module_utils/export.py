# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Export: the account's endpoints, registry credentials and network storages as declarations, the options a task
takes to manage each one as it is.

A declaration is built from the schema's rows: every field the task's scope takes whose value differs from its
default (the create default, else the empty value) is set, so a new option is exported without a change here. What
the rows cannot say is added by the endpoint rules below: a credential and a network storage by name when the name
is unique, no ``app_name`` the API made from the ID, a placeholder for a value the API must not give out (a
registry password), and a name several endpoints share, which no declaration can manage.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import re

from ansible_collections.novita.cloud.plugins.module_utils.endpoint import ENDPOINT_SCHEMA, FLEET_SCOPE
from ansible_collections.novita.cloud.plugins.module_utils.endpoint_api import EndpointAPI
from ansible_collections.novita.cloud.plugins.module_utils.network_storage import NETWORK_STORAGE_SCHEMA, NetworkStorageAPI
from ansible_collections.novita.cloud.plugins.module_utils.network_storage import SCOPE as STORAGE_SCOPE
from ansible_collections.novita.cloud.plugins.module_utils.registry_auth import REGISTRY_AUTH_SCHEMA, RegistryAuthAPI
from ansible_collections.novita.cloud.plugins.module_utils.registry_auth import SCOPE as AUTH_SCOPE
from ansible_collections.novita.cloud.plugins.module_utils.resource import Named
from ansible_collections.novita.cloud.plugins.module_utils.schema import get_path, set_path

# The variable the placeholder of a secret option refers to: a dict, resource name -> value, kept in a vault.
SECRET_VARIABLES = {"password": "vault_novita_registry_passwords"}
# Text Ansible would template when it reads a declaration back from a vars file.
TEMPLATE_MARKERS = re.compile(r"\{\{|\{%|\{#")


def default_value(field):
    """The value a field has when a declaration leaves it out of a create: its create default, else the empty value."""
    option = field.option
    if option.create_default is None:
        return option.codec.empty()
    return option.codec.from_task(copy.deepcopy(option.create_default))


def _in_scope(schema, field, scope):
    return all(schema.find(field.path[:depth]).in_scope(scope) for depth in range(1, len(field.path) + 1))


def declaration(schema, model, scope):
    """The options of ``scope`` that declare a resource whose model is ``model``: every field whose value is not its
    default, in the order of the rows. A secret (``no_log``) field gets a placeholder (see ``placeholder``)."""
    result = {}
    for field in schema.fields:
        if not _in_scope(schema, field, scope):
            continue
        value = get_path(model, field.path)
        if field.option.no_log:
            value = placeholder(field.name, model.get("name"))
        elif value == default_value(field):
            continue
        set_path(result, field.path, copy.deepcopy(value))
    return result


def placeholder(option, name):
    """A reference to the vault variable that must hold a secret the export does not give: ``{{ VAR['NAME'] }}``.
    Used before the variable is defined, it fails, naming it: never a value sent by mistake."""
    variable = SECRET_VARIABLES.get(option, "vault_novita_" + option.replace(".", "_"))
    return "{{ %s[%s] }}" % (variable, json.dumps(str(name or ""), ensure_ascii=False))


def template_markers(value, where=""):
    """The option paths under ``value`` whose text Ansible would template (``{{``, ``{%``, ``{#``)."""
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in template_markers(item, "%s.%s" % (where, key) if where else str(key))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in template_markers(item, "%s[%d]" % (where, index))]
    return [where] if isinstance(value, str) and TEMPLATE_MARKERS.search(value) else []


class EndpointExport:
    """The declarations of ``endpoints`` (API objects), with the account's ``auths`` and ``storages`` (API objects) to
    give credentials and storages by name.

    ``declarations``: one per endpoint that a declaration can manage, ready for ``novita_endpoint_fleet``'s ``endpoints``;
    ``notes``: ``{id, name, declared, warnings}`` for every endpoint with something to review; ``duplicate_names``:
    ``{name, ids}`` for every name several endpoints share (none of them is declared)."""

    def __init__(self, endpoints, auths, storages):
        self.auths = list(auths)
        self.storages = list(storages)
        self.declarations, self.notes = [], []
        counts = {}
        for endpoint in endpoints:
            counts.setdefault(str(endpoint.get("name") or ""), []).append(str(endpoint.get("id")))
        self.duplicate_names = [{"name": name, "ids": sorted(ids)} for name, ids in counts.items() if name and len(ids) > 1]
        for endpoint in endpoints:
            self._export(endpoint, counts[str(endpoint.get("name") or "")])

    def _export(self, endpoint, same_name):
        warnings = []
        item = self.endpoint_declaration(endpoint, warnings)
        declared = bool(item.get("name")) and len(same_name) == 1
        if not item.get("name"):
            warnings.append("not declared: the endpoint has no name, and a declaration finds its endpoint by name; name it"
                            " (novita.cloud.novita_endpoint with id and name), then export again")
        elif not declared:
            warnings.append("not declared: %d endpoints are named %s (IDs: %s); a declaration must name one endpoint. Rename all"
                            " but one (novita.cloud.novita_endpoint with id and name) or delete the extra ones, then export again"
                            % (len(same_name), item["name"], ", ".join(sorted(same_name))))
        if declared:
            self.declarations.append(item)
        if warnings or not declared:
            self.notes.append({"id": endpoint.get("id"), "name": endpoint.get("name") or "", "declared": declared, "warnings": warnings})

    def endpoint_declaration(self, endpoint, warnings):
        """The declaration of one endpoint; what needs a review goes to ``warnings``."""
        model = ENDPOINT_SCHEMA.model_from_api(endpoint)
        item = declaration(ENDPOINT_SCHEMA, model, FLEET_SCOPE)
        if item.get("app_name") == str(endpoint.get("id")):
            del item["app_name"]  # the API's own default, the endpoint's ID
        if get_path(item, ("image", "auth_id")):
            self._auth_by_name(item["image"], warnings)
        if "volume_mounts" in item:
            item["volume_mounts"] = [self._mount(mount, model["cluster_id"], warnings) for mount in item["volume_mounts"]]
        warnings.extend("%s holds text Ansible templates ({{, {%% or {#}: in a vars file, mark the value !unsafe" % where
                        for where in template_markers(item))
        return item

    def _auth_by_name(self, image, warnings):
        auth_id = image["auth_id"]
        known = [a for a in self.auths if str(a.get("id")) == auth_id]
        if not known:
            warnings.append("image.auth_id %s kept: no registry credential of the account has this ID, and the API may refuse the"
                            " next update of the endpoint until it uses another one" % auth_id)
            return
        named = Named(self.auths, known[0].get("name"), "registry credentials")
        if named.one is None:
            warnings.append("image.auth_id %s kept: %s" % (auth_id, named.several))
            return
        renamed = [("auth_name", named.one.get("name")) if key == "auth_id" else (key, value) for key, value in image.items()]
        image.clear()
        image.update(renamed)

    def _mount(self, mount, cluster_id, warnings):
        """A mount as a task gives it: a local one with its size, a network one by storage name where it can be."""
        if mount["type"] != "network":
            return {"type": mount["type"], "size": mount.get("size"), "mount_path": mount["mount_path"]}
        given = {"type": "network", "id": mount["id"], "mount_path": mount["mount_path"]}
        where = "volume_mounts[mount_path=%s]" % mount["mount_path"]
        known = [s for s in self.storages if str(s.get("storageId")) == mount["id"]]
        if not known:
            warnings.append("%s.id %s kept: no network storage of the account has this ID" % (where, mount["id"]))
            return given
        named = Named(self.storages, known[0].get("storageName"), "network storages", name_key="storageName", id_key="storageId")
        if named.one is None:
            warnings.append("%s.id %s kept: %s" % (where, mount["id"], named.several))
        elif str(named.one.get("clusterId") or "") != cluster_id:
            warnings.append("%s.id %s kept: the storage is in cluster %s, the endpoint in cluster %s" % (
                where, mount["id"], named.one.get("clusterId"), cluster_id or "(none)"))
        else:
            given = {"type": "network", "storage_name": named.one.get("storageName"), "mount_path": mount["mount_path"]}
        return given

    def registry_auths(self):
        """The declarations of the account's registry credentials, each password a placeholder (see ``placeholder``)."""
        return [declaration(REGISTRY_AUTH_SCHEMA, REGISTRY_AUTH_SCHEMA.model_from_api(auth), AUTH_SCOPE) for auth in self.auths]

    def network_storages(self):
        return [declaration(NETWORK_STORAGE_SCHEMA, NETWORK_STORAGE_SCHEMA.model_from_api(storage), STORAGE_SCOPE) for storage in self.storages]


def export_account(client, endpoints=None):
    """``EndpointExport`` of ``endpoints`` (by default every endpoint of the account) with the account's registry
    credentials and network storages: the endpoint list pages, one credential list, the storage list pages."""
    if endpoints is None:
        endpoints = EndpointAPI(client).list()
    return EndpointExport(endpoints, RegistryAuthAPI(client).list(), NetworkStorageAPI(client).list())
