# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The endpoint: its schema (one row per option, see schema.py), and the model functions built on it.

The model is a plain dict shaped like the module's options (snake_case), with every value
normalised, so a model built from the API and one built from a task compare equal exactly
when the endpoint needs no change.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re

from ansible_collections.novita.cloud.plugins.module_utils.api import MASK, Problem
from ansible_collections.novita.cloud.plugins.module_utils.schema import (
    FirstItem,
    Option,
    Returned,
    Codec,
    Schema,
    check_range,
    get_path,
    normalise,
    snake_case,
    snake_keys,
)

FORBIDDEN_PORTS = (2222, 2223, 2224)
# appName is part of the endpoint URL: lowercase letters, digits and hyphens (Novita console rule).
APP_NAME_PATTERN = re.compile(r"^[a-z0-9-]+$")
POLICY_VALUE_LIMITS = {"queue": "QueueWaitTime", "concurrency": "RequestNum"}
LOCAL_VOLUME_LIMIT = "LocalVolumeSize"
# Scopes: the modules that take the endpoint options. novita_endpoint takes them at the top level,
# novita_endpoint_fleet as the sub-options of each item of its ``endpoints``.
ENDPOINT_SCOPE = "endpoint"
FLEET_SCOPE = "fleet"


def env_value(value):
    """Env values are strings in the API; YAML booleans become 'true'/'false' as a shell would expect."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def normalise_mount(mount):
    """A volume mount in canonical form: a local mount has a size, a network mount an ID (and the size the API keeps
    for it, when it returns one: an update must send it back)."""
    mount_type = str(mount.get("type") or "")
    result = {"type": mount_type, "mount_path": str(mount.get("mount_path", mount.get("mountPath")) or "")}
    if mount_type == "network":
        result["id"] = str(mount.get("id") or "")
        size = normalise(mount.get("size"), "int")
        if size not in (None, "", 0):
            result["size"] = size
    else:
        result["size"] = normalise(mount.get("size"), "int")
    return result


def _mount_sort_key(mount):
    return (mount["mount_path"], mount["type"], str(mount.get("id", "")), str(mount.get("size", "")))


class EnvList(Codec):
    """``envs``: a list of ``{"key", "value"}`` in the API, a dict name -> value in the model.

    The task gives ``envs`` and ``secret_envs`` (both go into the one list); with ``purge_envs`` they
    replace the endpoint's variables, without it they are laid over them.
    """

    def __init__(self):
        super(EnvList, self).__init__("envs")

    def empty(self):
        return {}

    def decode(self, value):
        envs = {}
        for item in value or []:
            if isinstance(item, dict) and item.get("key") is not None:
                envs[str(item["key"])] = env_value(item.get("value"))
        return envs

    def from_task(self, value):
        return dict((str(key), env_value(item)) for key, item in value.items())

    def encode(self, value):
        return [{"key": key, "value": item} for key, item in value.items()]

    def apply(self, current, params, name):
        if params.get("envs") is None and params.get("secret_envs") is None:
            return current
        envs = {} if params.get("purge_envs", True) else dict(current)
        for source in ("envs", "secret_envs"):
            envs.update(self.from_task(params.get(source) or {}))
        return envs


class MountList(Codec):
    """``volume_mounts``: in the model a list sorted by mount path, each mount in canonical form (see ``normalise_mount``)."""

    def __init__(self):
        super(MountList, self).__init__("mounts")

    def empty(self):
        return []

    def decode(self, value):
        return self.from_task(m for m in value or [] if isinstance(m, dict))

    def from_task(self, value):
        return sorted((normalise_mount(m) for m in value), key=_mount_sort_key)

    def encode(self, value):
        mounts = []
        for mount in value:
            item = {"type": mount["type"], "mountPath": mount["mount_path"]}
            if mount["type"] == "network":
                item["id"] = mount["id"]
            if "size" in mount:
                item["size"] = mount["size"]
            mounts.append(item)
        return mounts

    def apply(self, current, params, name):
        """The task's mounts when it gives them; a network mount the endpoint already has keeps the size the API returned."""
        mounts = super(MountList, self).apply(current, params, name)
        if mounts is current:
            return current
        kept = dict(((m["mount_path"], m["id"]), m["size"]) for m in current or [] if m["type"] == "network" and "size" in m)
        for mount in mounts:
            key = (mount["mount_path"], mount.get("id"))
            if mount["type"] == "network" and "size" not in mount and key in kept:
                mount["size"] = kept[key]
        return mounts


def mask_envs(envs, hidden_names, words=None):
    """``envs`` with the values of ``hidden_names`` masked; ``words`` (name -> word) adds e.g. `` (changed)`` to a masked value."""
    masked = {}
    for key, value in envs.items():
        if key in hidden_names:
            masked[key] = MASK + (" (%s)" % words[key] if words and key in words else "")
        else:
            masked[key] = value
    return masked


def hidden_env_names(plain_names, *env_sets):
    """The rule for which env values are shown, used by every module: every name in ``env_sets`` (API ``envs`` lists,
    model or result dicts, sets of names) except ``plain_names``, the variables a task declares plain (``envs``, ``show_envs``).

    The API returns every value in clear and cannot say which are secret, so a value is shown only when the
    task says it is not one.
    """
    names = set()
    for envs in env_sets:
        for item in envs or ():
            names.add(str(item.get("key")) if isinstance(item, dict) else str(item))
    return names - set(str(k) for k in plain_names or ())


def hidden_env_values(plain_names, api_endpoint):
    """The values of an API endpoint's env variables that ``hidden_env_names`` hides (to scrub them from messages)."""
    hidden = hidden_env_names(plain_names, api_endpoint.get("envs"))
    return [env_value(e.get("value")) for e in api_endpoint.get("envs") or [] if isinstance(e, dict) and str(e.get("key")) in hidden]


def _check_name(value, params, where):
    return [Problem(where, "must not be empty; an endpoint name has 1 to %d characters" % NAME_MAX_LENGTH)] if value == "" else []


def _check_app_name(value, params, where):
    if value and not APP_NAME_PATTERN.match(value):
        return [Problem(where, "%r is not allowed; an app name has lowercase letters, digits and hyphens only (it is part of the"
                               " endpoint URL)" % value)]
    return []


def _check_port(value, params, where):
    if value < 1 or value > 65535 or value in FORBIDDEN_PORTS:
        return [Problem(where, "%s is not allowed; use 1-65535 except 2222, 2223 and 2224" % value)]
    return []


def check_wait_timeout(value, params, where):
    return [Problem(where, "%s must be a positive number of seconds" % value)] if value <= 0 else []


# The image reference grammar of Docker's distribution/reference: [host[:port]/]path[:tag][@digest].
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"  # Go's \w: ASCII only
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_REFERENCE = re.compile(r"(?:%s/)?%s(?:/%s)*(?::%s)?(?:@%s)?" % (_DOMAIN, _PATH_COMPONENT, _PATH_COMPONENT, _TAG, _DIGEST))
IMAGE_NAME_MAX_LENGTH = 255
# The hex digits of the digest algorithms registries know; another algorithm only has to follow the grammar.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_PARTS = "an image reference is [registry[:port]/]repository[:tag][@digest]"


def image_reference_problem(value):
    """What is wrong with an image reference (a sentence), or None when it follows the grammar."""
    if value == "":
        return "it is empty"
    if any(char.isspace() for char in value):
        return "it contains a space" if " " in value else "it contains whitespace"
    name_and_tag, at, digest = value.partition("@")
    slash = name_and_tag.rfind("/")
    colon = name_and_tag.find(":", slash + 1)
    name, tag = (name_and_tag[:colon], name_and_tag[colon + 1:]) if colon >= 0 else (name_and_tag, None)
    return (_digest_problem(digest) if at else None) or _tag_problem(tag) or _name_problem(name) or (
        None if IMAGE_REFERENCE.fullmatch(value) else "it does not follow the grammar: " + _PARTS)


def _digest_problem(digest):
    if not re.fullmatch(_DIGEST, digest):
        return "the digest %r is not algorithm:hex (for example sha256: and 64 hexadecimal digits)" % digest
    algorithm, hex_digits = digest.split(":", 1)
    wanted = DIGEST_HEX_LENGTHS.get(algorithm)
    if wanted is not None and (len(hex_digits) != wanted or hex_digits != hex_digits.lower()):
        return "the digest %r is not valid: %s takes %d lowercase hexadecimal digits" % (digest, algorithm, wanted)
    return None


def _tag_problem(tag):
    if tag is None or re.fullmatch(_TAG, tag):
        return None
    if tag == "":
        return "the tag after ':' is empty"
    return ("the tag %r is not valid: a tag has 1 to 128 letters, digits, '_', '.' and '-', and does not start with '.' or '-'"
            % tag)


def _name_problem(name):
    if name == "":
        return "the repository name is empty"
    if len(name) > IMAGE_NAME_MAX_LENGTH:
        return "the name is %d characters long, more than %d" % (len(name), IMAGE_NAME_MAX_LENGTH)
    components = name.split("/")
    if "" in components:
        return "it has an empty path component (a '/' at the start or the end, or '//')"
    if len(components) > 1 and re.fullmatch(_DOMAIN, components[0]):
        components = components[1:]
    elif ":" in components[0] and len(components) > 1:
        return "%r is not a valid registry host[:port]" % components[0]
    repository = "/".join(components)
    if repository != repository.lower():
        return "the repository %r has uppercase letters; a repository is lowercase" % repository
    for component in components:
        if not re.fullmatch(_PATH_COMPONENT, component):
            return ("the path component %r is not valid: it has lowercase letters and digits, separated by '.', '_', '__' or"
                    " dashes" % component)
    return None


def _check_image(value, params, where):
    problem = image_reference_problem(value)
    return [Problem(where, "%r is not a valid image reference: %s" % (value, problem))] if problem else []


def _result_envs(value, api, hidden):
    return mask_envs(value, hidden)


def _result_healthy(value, api, hidden):
    # The API's other health check settings (delays, thresholds) are returned as it has them.
    healthy = snake_keys(api.get("healthy")) if isinstance(api.get("healthy"), dict) else {}
    healthy.update(value)
    return healthy


NAME_MAX_LENGTH = 220
ENVS_RETURNED = ("Environment variables, name to value. Values are C(********) except those of the variables the task declares"
                 " plain, in O(novita.cloud.novita_endpoint#module:envs) or O(novita.cloud.novita_endpoint_info#module:show_envs).")
STATE_RETURNED = {
    "state": {"description": "C(serving) when the endpoint is available; other values include C(initializing) and C(failed).",
              "type": "str", "sample": "serving"},
    "error": {"description": "An error reported by the platform.", "type": "str", "sample": ""},
    "message": {"description": "A message reported by the platform.", "type": "str", "sample": ""},
}

_GIVEN_ONLY = "Only the sub-options given are changed on an existing endpoint."

ENDPOINT_OPTIONS = (
    Option("state", "str", [
        "V(present) creates or updates the endpoint, V(absent) deletes it (nothing happens when it does not exist).",
    ], choices=["present", "absent"], default="present"),
    Option("id", "str", [
        "The ID of the endpoint to manage.",
        "With O(id), O(name) is the desired name, so setting both renames the endpoint.",
        "An endpoint cannot be created with a chosen ID; if no endpoint has this ID, the module fails.",
        "One of O(id) and O(name) is required.",
    ], only=(ENDPOINT_SCOPE,)),
    Option("name", "str", [
        "The endpoint's name; it must not be empty.",
        "Without O(id), the endpoint is looked up by this name. The name must be unique; if several"
        " endpoints have it, the module fails and lists their IDs. If none has it, the endpoint is created.",
    ], api=["name"], codec=Codec("str"), max_length=NAME_MAX_LENGTH, required_to_create=True, check=_check_name,
        required={FLEET_SCOPE: True},
        docs={FLEET_SCOPE: [
            "The endpoint's name; it must not be empty. The endpoint is looked up by this name.",
            "The name must be unique in the account; if several endpoints have it, this declaration fails"
            " before any write of the fleet and the error lists their IDs. If none has it, the endpoint is created.",
            "Each name may be declared once in O(endpoints).",
            "To rename an endpoint or manage one by its ID, use M(novita.cloud.novita_endpoint).",
        ]},
        returned={"description": ["The endpoint name."], "sample": "llama-chat"}),
    Option("product_id", "str", [
        "The ID of the serverless product (GPU type) the workers run on, for example V(\"1\").",
    ], api=["products"], codec=FirstItem("id", "str"), immutable=True, required_to_create=True,
        returned={"description": ["The serverless product ID."], "sample": "1"}),
    Option("app_name", "str", [
        "The application name, part of the endpoint's URL. The API uses the endpoint ID when it is not set.",
        "Lowercase letters, digits and hyphens only; anything else is refused before any request.",
        "App names are unique per account. A name another endpoint already uses is refused by the API"
        " (C(SERVERLESS_APP_NAME_IS_EXIST)); the module then fails naming O(app_name) and the value, and nothing is created.",
    ], api=["appName"], codec=Codec("str"), immutable=True, omit_when_empty=True, check=_check_app_name,
        returned={"description": ["The application name in the endpoint URL."], "sample": "llama-chat"}),
    Option("rootfs_size", "int", [
        "Size of each worker's root file system in GB.",
    ], api=["rootfsSize"], codec=Codec("int"), create_default=100, limit="RootfsSize", immutable=True, minimum=0,
        returned={"description": ["Root file system size in GB."], "sample": 100}),
    Option("image", "dict", [
        "The container image the workers run.",
        _GIVEN_ONLY,
    ], api=["image"], suboptions=(
        Option("image", "str", [
            "The image reference, for example V(vllm/vllm-openai:latest).",
            "It must follow the Docker reference grammar, C([registry[:port]/]repository[:tag][@digest]) with a lowercase"
            " repository; anything else (a space, an empty tag, a trailing C(/)) is refused, and nothing is written.",
        ], api=["image"], codec=Codec("str"), max_length=511, required_to_create=True, check=_check_image),
        Option("auth_id", "str", [
            "The ID of the registry credential used to pull a private image.",
            "An empty string removes the credential.",
            "Mutually exclusive with O(image.auth_name).",
        ], api=["authId"], codec=Codec("str"), max_length=255),
        Option("auth_name", "str", [
            "The name of the registry credential used to pull a private image, as an alternative to O(image.auth_id).",
            "The module reads the account's registry credentials (one request, only when this option is set) and uses the"
            " ID of the one credential with this name. No credential or several with the name is an error, before any write.",
            "The credential's user name and password are never read into the result.",
        ]),
        Option("command", "str", [
            "The command the container runs instead of the image's default.",
            "An empty string removes the command.",
        ], api=["command"], codec=Codec("str"), max_length=2047),
    ), mutually_exclusive=[("auth_id", "auth_name")],
        returned={"description": ["The image settings."], "sample": {"image": "vllm/vllm-openai:latest", "auth_id": "", "command": ""}}),
    Option("port", "int", [
        "The HTTP port the container listens on, 1 to 65535 except 2222, 2223 and 2224.",
    ], api=["ports"], codec=FirstItem("port", "int"), required_to_create=True, check=_check_port,
        returned={"description": ["The HTTP port."], "sample": 8000}),
    Option("worker_config", "dict", [
        "Scaling and worker settings. " + _GIVEN_ONLY,
    ], api=["workerConfig"], suboptions=(
        Option("min_num", "int", ["The minimum number of workers; not more than O(worker_config.max_num)."],
               api=["minNum"], codec=Codec("int"), create_default=0, limit="WorkerNum", minimum=0),
        Option("max_num", "int", ["The maximum number of workers."],
               api=["maxNum"], codec=Codec("int"), create_default=1, limit="WorkerNum", minimum=0),
        Option("free_timeout", "int", ["Seconds a worker may stay idle before it is released."],
               api=["freeTimeout"], codec=Codec("int"), create_default=300, limit="FreeTimeout", minimum=0),
        Option("max_concurrent", "int", ["Concurrent requests per worker."],
               api=["maxConcurrent"], codec=Codec("int"), create_default=1, limit="ConcurrencyNum", minimum=0),
        Option("gpu_num", "int", ["GPUs per worker."],
               api=["gpuNum"], codec=Codec("int"), create_default=1, limit="GPUNum", minimum=0),
        Option("request_timeout", "int", ["Seconds a request may take. Sent only when set; an existing value is kept when left out."],
               api=["requestTimeout"], codec=Codec("optional_int"), limit="RequestTimeout", minimum=0),
        Option("cuda_version", "str", [
            "The CUDA version the workers need, one of the account's C(cudaVersionList) limit.",
            "Sent only when set; an existing value is kept when left out.",
        ], api=["cudaVersion"], codec=Codec("optional_str")),
    ), returned={"description": ["The worker settings; C(request_timeout) and C(cuda_version) are V(null) when not set."],
                 "sample": {"min_num": 0, "max_num": 2, "free_timeout": 300, "max_concurrent": 1, "gpu_num": 1,
                            "request_timeout": None, "cuda_version": None}}),
    Option("policy", "dict", [
        "The auto-scaling policy. " + _GIVEN_ONLY,
    ], api=["policy"], suboptions=(
        Option("type", "str", [
            "V(queue) scales on the time requests wait in the queue (value in seconds);"
            " V(concurrency) scales on the number of queued requests.",
        ], api=["type"], codec=Codec("str"), choices=["queue", "concurrency"], create_default="queue"),
        Option("value", "int", [
            "The threshold for the policy type.",
        ], api=["value"], codec=Codec("int"), create_default=1, minimum=0,
            limit_doc="Checked against the account's limits for the policy type before any write, C(minQueueWaitTime) and"
                      " C(maxQueueWaitTime) for V(queue), C(minRequestNum) and C(maxRequestNum) for V(concurrency)."),
    ), returned={"description": ["The auto-scaling policy."], "sample": {"type": "queue", "value": 1}}),
    Option("healthy", "dict", [
        "The health check. Only the path can be set.",
    ], api=["healthy"], suboptions=(
        Option("path", "str", ["The HTTP path the platform probes on O(port)."],
               api=["path"], codec=Codec("str"), create_default="/health"),
    ), result=_result_healthy,
        returned={"description": ["The health check settings."],
                  "sample": {"path": "/health", "initial_delay": 10, "period": 10, "timeout": 10, "success_threshold": 1,
                             "failure_threshold": 3}}),
    Option("envs", "dict", [
        "Environment variables, name to value. Values are sent as strings (V(true)/V(false) for booleans).",
        "Their values are shown in the output and the diff; put secrets in O(secret_envs). The values of variables"
        " the task does not list here are masked in the output and the diff.",
        "Names are kept exactly as written, never case-converted.",
        "See O(purge_envs) for variables the endpoint has that are not listed here.",
    ], api=["envs"], codec=EnvList(), result=_result_envs,
        returned={"description": [ENVS_RETURNED], "sample": {"LOG_LEVEL": "info", "HF_TOKEN": "********"}}),
    Option("secret_envs", "dict", [
        "Environment variables whose values are secret, name to value.",
        "Their values never appear in the output, the logs or the diff, where they are shown as C(********)"
        " (in the diff followed by the word C(added), C(changed) or C(removed) in parentheses when the task adds, changes or removes"
        " the variable). They are still compared"
        " with the endpoint's values, so a rerun with the same values reports no change.",
        "A name may not be in both O(envs) and O(secret_envs).",
    ], no_log=True),
    Option("purge_envs", "bool", [
        "Used when O(envs) or O(secret_envs) is given. V(true) makes the endpoint's variables exactly"
        " the union of O(envs) and O(secret_envs); V(false) only adds and changes variables and keeps the others.",
        "When neither O(envs) nor O(secret_envs) is given, the endpoint's variables are kept.",
    ], default=True),
    Option("volume_mounts", "list", [
        "The volumes mounted into each worker. When given, the endpoint gets exactly this list (the order"
        " does not matter); when left out, its current mounts are kept.",
        "On create the default is one local volume of 30 GB at C(/workspace).",
        "Mount paths must be unique.",
    ], api=["volumeMounts"], codec=MountList(), elements="dict",
        create_default=[{"type": "local", "size": 30, "mount_path": "/workspace"}], suboptions=(
        Option("type", "str", ["V(local) for a volume on the worker, V(network) for a network storage."],
               choices=["local", "network"], required=True),
        Option("size", "int", [
            "Size in GB of a V(local) volume, checked against the account's limits C(minLocalVolumeSize) and C(maxLocalVolumeSize)."
            " Required for local volumes.",
            "Not accepted for network volumes.",
        ]),
        Option("id", "str", [
            "The network storage ID of a V(network) volume. A network volume needs this or O(volume_mounts[].storage_name);"
            " local volumes take neither.",
            "A network volume given by ID also needs O(cluster_id).",
        ]),
        Option("storage_name", "str", [
            "The name of the network storage of a V(network) volume, as an alternative to O(volume_mounts[].id).",
            "The module looks the name up in the account's network storages (the list pages filtered by name, only when"
            " this option is set) and uses the ID of the one storage with exactly this name. No storage or several with the"
            " name is an error, before any write.",
            "The storage's cluster fills O(cluster_id) when the task leaves it out; a different O(cluster_id) is an error.",
        ]),
        Option("mount_path", "str", ["Where the volume is mounted in the container."], max_length=255, required=True),
    ), mutually_exclusive=[("id", "storage_name")],
        returned={"description": ["The volume mounts, sorted by mount path."],
                  "sample": [{"type": "local", "size": 30, "mount_path": "/workspace"}]}),
    Option("cluster_id", "str", [
        "The cluster the workers run in. Required with network volumes given by O(volume_mounts[].id); it must be the"
        " network storage's cluster. With O(volume_mounts[].storage_name) it defaults to the storage's cluster.",
        "Left out, the endpoint's current cluster is kept.",
    ], api=["clusterID"], codec=Codec("str"), max_length=255, omit_when_empty=True,
        returned={"description": ["The cluster ID; empty when none is set."], "sample": ""}),
    Option("recreate", "bool", [
        "What to do when O(product_id), O(app_name) or O(rootfs_size) differs from the endpoint's value;"
        " the API cannot change these.",
        "V(false) fails before any write and names the field.",
        "V(true) replaces the endpoint with a new one that has the endpoint's other settings and the"
        " task's options. The new endpoint has a new ID, returned in RV(endpoint.id).",
        "The replacement is created first and the old endpoint deleted after it, so a create the API refuses"
        " leaves the old endpoint untouched.",
        "When the new endpoint keeps the old one's O(app_name) (app names are unique), the old endpoint is deleted"
        " first and its deletion waited for (up to O(wait_timeout)), even with O(wait=false); if the API then refuses"
        " the create, the old endpoint is created again with every setting it had (a new ID, returned as C(restored_endpoint_id))"
        " and the task fails; if even that fails, C(lost_endpoint) holds its complete settings.",
    ], default=False),
    Option("wait", "bool", [
        "After a create or update, poll the endpoint until it is ready; after a delete, until it no longer exists"
        " (the API may answer \"not found\" as HTTP 404 or as HTTP 400 C(SERVERLESS_ENDPOINT_NOT_FOUND); both count as gone).",
        "Ready means the state is C(serving), the state carries no error and, after an update, the read shows the"
        " settings the update sent. Right after an update the API may still report the old endpoint as C(serving);"
        " such a stale read does not end the wait.",
        "Any other state (C(pending), C(creating), C(initializing), C(updating), C(stopped), or one the module does not"
        " know) means \"not ready yet\". C(failed), C(error) or a non-empty error in the state fails at once, naming it.",
        "An endpoint with O(worker_config.min_num=0) may run no worker and never report C(serving). Its wait ends when its"
        " settings read back, it reports no error and the same state, other than a transition such as C(pending), C(creating),"
        " C(updating) or C(deleting), holds for three reads in a row; the result then carries a warning naming that state.",
        "Polls start one second apart and back off to five seconds.",
    ], default=True, only=(ENDPOINT_SCOPE,)),
    Option("wait_timeout", "int", [
        "How many seconds to wait with O(wait). When it runs out the module fails, naming the endpoint ID and its last state.",
    ], default=600, check=check_wait_timeout, only=(ENDPOINT_SCOPE,)),
)

ENDPOINT_RETURNS = (
    Returned("id", "str", ["The endpoint ID."], "3f2a9c0e7b1d4a55", lambda api: api.get("id")),
    "name",
    "app_name",
    Returned("url", "str", ["The endpoint's URL."], "https://3f2a9c0e7b1d4a55-llama-chat.runsync.serverless.novita.ai",
             lambda api: api.get("url")),
    Returned("state", "dict", ["The endpoint's state as the API reports it."], None,
             lambda api: snake_keys(api.get("state")) if isinstance(api.get("state"), dict) else api.get("state"),
             contains=STATE_RETURNED),
    "product_id",
    "rootfs_size",
    "port",
    "cluster_id",
    "image",
    "worker_config",
    "policy",
    "healthy",
    "envs",
    "volume_mounts",
    Returned("workers", "list", ["The endpoint's current workers as the API reports them."], [],
             lambda api: snake_keys(api.get("workers") or []), elements="dict"),
)

ENDPOINT_SCHEMA = Schema(ENDPOINT_OPTIONS, ENDPOINT_RETURNS, noun="an endpoint")


def endpoint_argument_spec(schema=ENDPOINT_SCHEMA):
    """The options of novita_endpoint that describe an endpoint (connection options come from api.py)."""
    return schema.argument_spec(ENDPOINT_SCOPE)


def declaration_argument_spec(schema=ENDPOINT_SCHEMA):
    """Sub-options of one item of the fleet's ``endpoints``: the endpoint options, ``name`` required, no ``id`` or waits."""
    return schema.argument_spec(FLEET_SCOPE)


# ---------------------------------------------------------------------------
# the model

# The model is the schema's: ``ENDPOINT_SCHEMA.model_from_api`` (an endpoint as the API returns it), ``apply_options``
# (the model a task asks for: the options it sets laid over a base; inside a dict option only the sub-options given change,
# ``envs``/``secret_envs`` replace the env set when ``purge_envs`` is true, ``volume_mounts`` when given is the exact list),
# ``create_base`` (the create defaults, the official CLI's), ``immutable_changes`` and ``build_payload`` (every field the
# call takes, so an update, a full replace, loses nothing; a create body is wrapped in ``{"endpoint": ...}`` by the caller).


# ---------------------------------------------------------------------------
# what the user sees

def endpoint_result(api, hidden_names, model=None, schema=ENDPOINT_SCHEMA):
    """The endpoint as a module returns it: the settings from ``model`` (by default the one read from ``api``), the
    API-only keys (``id``, ``url``, ``state``, ``workers``) from ``api``; hidden env values masked. ``{}`` without either."""
    if not api and model is None:
        return {}
    return schema.result(schema.model_from_api(api) if model is None else model, api or {}, hidden_names)


def limits_result(limits):
    """The account's parameter limits as modules return them: snake_case keys, integer values, list items as strings."""
    result = {}
    for key, value in (limits or {}).items():
        if isinstance(value, list):
            value = [str(item) for item in value]
        elif not isinstance(value, bool):
            try:
                value = int(value)
            except (TypeError, ValueError):
                pass
        result[snake_case(str(key))] = value
    return result


# The words of ``env_changes`` in a diff, and after a masked value: what happens to an environment variable.
ENV_ADDED, ENV_REMOVED, ENV_CHANGED = "added", "removed", "changed"


def diff_view(model, hidden_names):
    """The managed settings of a model for ``--diff``, hidden env values masked."""
    view = copy.deepcopy(model)
    view["envs"] = mask_envs(model["envs"], hidden_names)
    return view


def env_changes(before_envs, after_envs):
    """name -> ``added``, ``removed`` or ``changed``: every environment variable that differs between two env dicts."""
    changes = {}
    for name in set(before_envs) | set(after_envs):
        if name not in before_envs:
            changes[name] = ENV_ADDED
        elif name not in after_envs:
            changes[name] = ENV_REMOVED
        elif before_envs[name] != after_envs[name]:
            changes[name] = ENV_CHANGED
    return changes


def diff_views(before, after, hidden_names):
    """``(before, after)`` for ``--diff`` from two models (None: the endpoint does not exist on that side).

    Hidden values are masked; when both sides exist, a masked value says what happens to it, since the mask
    alone cannot: ``******** (removed)`` before, ``******** (added)`` or ``******** (changed)`` after; and the
    after side gets ``env_changes``, the word for every variable that differs, masked or not.
    """
    if not before or not after:
        return (diff_view(before, hidden_names) if before else {}), (diff_view(after, hidden_names) if after else {})
    changes = env_changes(before["envs"], after["envs"])
    before_view, after_view = copy.deepcopy(before), copy.deepcopy(after)
    before_view["envs"] = mask_envs(before["envs"], hidden_names, dict((k, w) for k, w in changes.items() if w == ENV_REMOVED))
    after_view["envs"] = mask_envs(after["envs"], hidden_names, dict((k, w) for k, w in changes.items() if w != ENV_REMOVED))
    if changes:
        after_view["env_changes"] = changes
    return before_view, after_view


# ---------------------------------------------------------------------------
# validation

def validate_options(params, schema=ENDPOINT_SCHEMA):
    """Errors found in the task alone, before any request is made."""
    errors = schema.check_errors(params)
    errors.extend(schema.minimum_errors(params))
    errors.extend(_worker_range_errors(params.get("worker_config") or {}))
    errors.extend(schema.length_errors(params))
    errors.extend(_validate_envs(params))
    errors.extend(_validate_mounts(params.get("volume_mounts"), params.get("cluster_id")))
    return errors


def _worker_range_errors(worker_config):
    min_num, max_num = worker_config.get("min_num"), worker_config.get("max_num")
    if min_num is not None and max_num is not None and min_num > max_num:
        return [Problem("worker_config.min_num", "%s is greater than worker_config.max_num %s" % (min_num, max_num))]
    return []


def _validate_envs(params):
    errors = []
    envs, secret_envs = params.get("envs") or {}, params.get("secret_envs") or {}
    for option, values in (("envs", envs), ("secret_envs", secret_envs)):
        for key, value in values.items():
            name = str(key)
            if not name or "=" in name or any(ord(char) < 32 or ord(char) == 127 for char in name):
                errors.append(Problem(option, "%r is not a valid environment variable name" % (key,)))
            elif isinstance(value, (dict, list, tuple, set)):
                # Never the value itself: for secret_envs it is a secret.
                errors.append(Problem("%s.%s" % (option, name), "the value must be a string, a number or a boolean, not a %s"
                                      % type(value).__name__))
    for key in sorted(set(map(str, envs)) & set(map(str, secret_envs))):
        errors.append(Problem("envs", "and secret_envs both set %s; give each variable in one of them only" % key, " "))
    return errors


def _validate_mounts(mounts, cluster_id):
    errors = []
    seen = {}
    for index, mount in enumerate(mounts or []):
        where = "volume_mounts[%d]" % index
        path = mount.get("mount_path") or ""
        if not path:
            errors.append(Problem(where + ".mount_path", "must not be empty", " "))
        if path in seen:
            errors.append(Problem(where + ".mount_path", "%s is already used by volume_mounts[%d]" % (path, seen[path])))
        seen.setdefault(path, index)
        if mount.get("type") == "network":
            errors.extend(_network_mount_errors(where, mount, cluster_id))
        else:
            errors.extend(_local_mount_errors(where, mount))
    return errors


def _network_mount_errors(where, mount, cluster_id):
    errors = []
    if not mount.get("id") and not mount.get("storage_name"):
        errors.append(Problem(where + ".id", "a network mount needs id (the network storage ID) or storage_name"))
    if mount.get("size") is not None:
        errors.append(Problem(where + ".size", "only a local mount takes a size; a network mount's size is its storage's"))
    if mount.get("id") and not cluster_id:
        errors.append(Problem(where, "a network mount needs cluster_id (the cluster of the network storage) when it is given"
                                     " by id; with storage_name the storage's cluster is used"))
    return errors


def _local_mount_errors(where, mount):
    errors = []
    if mount.get("size") is None:
        errors.append(Problem(where + ".size", "a local mount needs size (GB)"))
    elif mount["size"] <= 0:
        errors.append(Problem(where + ".size", "%s must be positive" % mount["size"]))
    errors.extend(Problem("%s.%s" % (where, key), "only a network mount takes %s" % ("an id" if key == "id" else "a storage_name"))
                  for key in ("id", "storage_name") if mount.get(key))
    return errors


def validate_model(model, creating, schema=ENDPOINT_SCHEMA, storages_resolved=True):
    """Errors in the endpoint the task would produce (current state merged with the task).

    ``storages_resolved`` False: a storage name did not resolve (already an error), so the cluster it would give is unknown.
    """
    errors = schema.missing_to_create(model) if creating else []
    errors.extend(_worker_range_errors(model["worker_config"]))
    if storages_resolved and any(m["type"] == "network" for m in model["volume_mounts"]) and not model["cluster_id"]:
        errors.append(Problem("cluster_id", "is required when a network volume is mounted", " "))
    return errors


def check_limits(model, limits, creating, schema=ENDPOINT_SCHEMA):
    """Errors for values outside the account's parameter limits (``GET /endpoint/limit``)."""
    errors = schema.limit_errors(model, limits, creating)
    policy = model["policy"]
    if policy["type"] in POLICY_VALUE_LIMITS:
        check_range(errors, "policy.value (%s)" % policy["type"], policy["value"], limits, POLICY_VALUE_LIMITS[policy["type"]])
    elif policy["type"]:
        errors.append(Problem("policy.type", "%s is not one of queue, concurrency" % policy["type"]))
    for mount in model["volume_mounts"]:
        if mount["type"] == "local":
            check_range(errors, "volume_mounts[mount_path=%s].size" % mount["mount_path"], mount["size"], limits, LOCAL_VOLUME_LIMIT)
    cuda = get_path(model, ("worker_config", "cuda_version"))
    allowed = limits.get("cudaVersionList")
    if cuda is not None and isinstance(allowed, list) and cuda not in [str(v) for v in allowed]:
        errors.append(Problem("worker_config.cuda_version", "%s is not one of %s (account limits cudaVersionList)"
                              % (cuda, ", ".join(map(str, allowed)))))
    return errors
