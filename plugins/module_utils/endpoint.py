# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The endpoint model: module options <-> Novita API bodies, normalisation, validation, payloads and diffs.

The model is a plain dict shaped like the module's options (snake_case), with every value
normalised, so a model built from the API and one built from a task compare equal exactly
when the endpoint needs no change.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re


from ansible_collections.novita.cloud.plugins.module_utils.api import MASK

# One row per scalar setting: option path in the model, field path in the API body, value kind.
# Everything else (product, port, envs, volume mounts) has a shape of its own and is mapped below.
SCALAR_FIELDS = (
    (("name",), ("name",), "str"),
    (("app_name",), ("appName",), "str"),
    (("rootfs_size",), ("rootfsSize",), "int"),
    (("cluster_id",), ("clusterID",), "str"),
    (("image", "image"), ("image", "image"), "str"),
    (("image", "auth_id"), ("image", "authId"), "str"),
    (("image", "command"), ("image", "command"), "str"),
    (("worker_config", "min_num"), ("workerConfig", "minNum"), "int"),
    (("worker_config", "max_num"), ("workerConfig", "maxNum"), "int"),
    (("worker_config", "free_timeout"), ("workerConfig", "freeTimeout"), "int"),
    (("worker_config", "max_concurrent"), ("workerConfig", "maxConcurrent"), "int"),
    (("worker_config", "gpu_num"), ("workerConfig", "gpuNum"), "int"),
    (("worker_config", "request_timeout"), ("workerConfig", "requestTimeout"), "optional_int"),
    (("worker_config", "cuda_version"), ("workerConfig", "cudaVersion"), "optional_str"),
    (("policy", "type"), ("policy", "type"), "str"),
    (("policy", "value"), ("policy", "value"), "int"),
    (("healthy", "path"), ("healthy", "path"), "str"),
)

# Set at create time only; the update call keeps them and the API refuses a change.
IMMUTABLE_OPTIONS = ("product_id", "app_name", "rootfs_size")
# Left out of a request body when empty, so the API applies its own default (appName = the ID).
OMIT_WHEN_EMPTY = frozenset((("app_name",), ("cluster_id",)))

# Defaults of the official Novita CLI, applied only when an endpoint is created.
CREATE_DEFAULTS = {
    "rootfs_size": 100,
    "worker_config": {"min_num": 0, "max_num": 1, "free_timeout": 300, "max_concurrent": 1, "gpu_num": 1},
    "policy": {"type": "queue", "value": 1},
    "healthy": {"path": "/health"},
    "volume_mounts": [{"type": "local", "size": 30, "mount_path": "/workspace"}],
}

MAX_LENGTHS = (
    (("name",), 220),
    (("image", "image"), 511),
    (("image", "auth_id"), 255),
    (("image", "command"), 2047),
    (("cluster_id",), 255),
)
MOUNT_PATH_MAX_LENGTH = 255
FORBIDDEN_PORTS = (2222, 2223, 2224)
# appName is part of the endpoint URL: lowercase letters, digits and hyphens (Novita console rule).
APP_NAME_PATTERN = re.compile(r"^[a-z0-9-]+$")

# Option path -> suffix of the min/max keys in GET /endpoint/limit.
LIMIT_RANGES = (
    (("rootfs_size",), "RootfsSize"),
    (("worker_config", "min_num"), "WorkerNum"),
    (("worker_config", "max_num"), "WorkerNum"),
    (("worker_config", "free_timeout"), "FreeTimeout"),
    (("worker_config", "max_concurrent"), "ConcurrencyNum"),
    (("worker_config", "gpu_num"), "GPUNum"),
    (("worker_config", "request_timeout"), "RequestTimeout"),
)
POLICY_VALUE_LIMITS = {"queue": "QueueWaitTime", "concurrency": "RequestNum"}
LOCAL_VOLUME_LIMIT = "LocalVolumeSize"

NON_NEGATIVE_INTS = tuple(path for path, dummy, kind in SCALAR_FIELDS if kind in ("int", "optional_int"))


def endpoint_argument_spec():
    """The options of novita_endpoint that describe an endpoint (connection options come from api.py)."""
    return dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        id=dict(type="str"),
        name=dict(type="str"),
        product_id=dict(type="str"),
        app_name=dict(type="str"),
        rootfs_size=dict(type="int"),
        image=dict(type="dict", options=dict(
            image=dict(type="str"),
            auth_id=dict(type="str"),
            auth_name=dict(type="str"),
            command=dict(type="str"),
        ), mutually_exclusive=[("auth_id", "auth_name")]),
        port=dict(type="int"),
        worker_config=dict(type="dict", options=dict(
            min_num=dict(type="int"),
            max_num=dict(type="int"),
            free_timeout=dict(type="int"),
            max_concurrent=dict(type="int"),
            gpu_num=dict(type="int"),
            request_timeout=dict(type="int"),
            cuda_version=dict(type="str"),
        )),
        policy=dict(type="dict", options=dict(
            type=dict(type="str", choices=["queue", "concurrency"]),
            value=dict(type="int"),
        )),
        healthy=dict(type="dict", options=dict(
            path=dict(type="str"),
        )),
        envs=dict(type="dict"),
        secret_envs=dict(type="dict", no_log=True),
        purge_envs=dict(type="bool", default=True),
        volume_mounts=dict(type="list", elements="dict", options=dict(
            type=dict(type="str", required=True, choices=["local", "network"]),
            size=dict(type="int"),
            id=dict(type="str"),
            storage_name=dict(type="str"),
            mount_path=dict(type="str", required=True),
        ), mutually_exclusive=[("id", "storage_name")]),
        cluster_id=dict(type="str"),
        recreate=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )


# ---------------------------------------------------------------------------
# small helpers

def _get(data, path):
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _set(data, path, value):
    for key in path[:-1]:
        data = data.setdefault(key, {})
    data[path[-1]] = value


def option_name(path):
    return ".".join(path)


def _normalise(value, kind):
    """One canonical form per kind: the API returns some numbers as strings and empty strings for unset text."""
    if kind in ("int", "optional_int"):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            try:
                as_float = float(value)
            except (TypeError, ValueError):
                return value
            return int(as_float) if as_float.is_integer() else value
    if kind == "optional_str":
        return None if value is None or value == "" else str(value)
    return "" if value is None else str(value)


def env_value(value):
    """Env values are strings in the API; YAML booleans become 'true'/'false' as a shell would expect."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# Word boundaries in camelCase, acronyms included: minGPUNum -> min_gpu_num, clusterID -> cluster_id.
_ACRONYM_BOUNDARY = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD_BOUNDARY = re.compile(r"([a-z0-9])([A-Z])")


def snake_case(name):
    return _WORD_BOUNDARY.sub(r"\1_\2", _ACRONYM_BOUNDARY.sub(r"\1_\2", name)).lower()


def _snake_keys(data):
    if isinstance(data, dict):
        return dict((snake_case(str(k)), _snake_keys(v)) for k, v in data.items())
    if isinstance(data, list):
        return [_snake_keys(v) for v in data]
    return data


def _first(items, key):
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0].get(key)
    return None


# ---------------------------------------------------------------------------
# the model

def empty_model():
    model = {}
    for path, dummy, kind in SCALAR_FIELDS:
        _set(model, path, _normalise(None, kind))
    model.update(product_id="", port=None, envs={}, volume_mounts=[])
    return model


def normalise_mount(mount):
    """A volume mount in canonical form: a local mount has a size, a network mount an ID."""
    mount_type = str(mount.get("type") or "")
    result = {"type": mount_type, "mount_path": str(mount.get("mount_path", mount.get("mountPath")) or "")}
    if mount_type == "network":
        result["id"] = str(mount.get("id") or "")
    else:
        result["size"] = _normalise(mount.get("size"), "int")
    return result


def _mount_sort_key(mount):
    return (mount["mount_path"], mount["type"], str(mount.get("id", "")), str(mount.get("size", "")))


def model_from_api(api):
    """The model of an endpoint as the API returns it (get or list item)."""
    model = empty_model()
    for path, api_path, kind in SCALAR_FIELDS:
        _set(model, path, _normalise(_get(api, api_path), kind))
    model["product_id"] = _normalise(_first(api.get("products"), "id"), "str")
    model["port"] = _normalise(_first(api.get("ports"), "port"), "int")
    envs = {}
    for item in api.get("envs") or []:
        if isinstance(item, dict) and item.get("key") is not None:
            envs[str(item["key"])] = env_value(item.get("value"))
    model["envs"] = envs
    model["volume_mounts"] = sorted((normalise_mount(m) for m in api.get("volumeMounts") or [] if isinstance(m, dict)), key=_mount_sort_key)
    return model


def apply_options(base, params):
    """The model the task asks for: ``base`` (current endpoint or create defaults) with every option the task set laid over it.

    An option the task leaves out keeps the base value; inside a dict option only the sub-options
    given are changed. ``envs``/``secret_envs`` replace the env set when ``purge_envs`` is true,
    and ``volume_mounts``, when given, is the exact list.
    """
    model = copy.deepcopy(base)
    for path, dummy, kind in SCALAR_FIELDS:
        value = _get(params, path)
        if value is not None:
            _set(model, path, _normalise(value, kind))
    if params.get("product_id") is not None:
        model["product_id"] = str(params["product_id"])
    if params.get("port") is not None:
        model["port"] = params["port"]
    given_envs = params.get("envs") is not None or params.get("secret_envs") is not None
    if given_envs:
        envs = {} if params.get("purge_envs", True) else dict(model["envs"])
        for source in ("envs", "secret_envs"):
            for key, value in (params.get(source) or {}).items():
                envs[str(key)] = env_value(value)
        model["envs"] = envs
    if params.get("volume_mounts") is not None:
        model["volume_mounts"] = sorted((normalise_mount(m) for m in params["volume_mounts"]), key=_mount_sort_key)
    return model


def create_base():
    """The model an endpoint starts from when it is created: empty, with the CLI's defaults."""
    model = empty_model()
    for key, value in CREATE_DEFAULTS.items():
        if isinstance(value, dict):
            model[key].update(value)
        else:
            model[key] = copy.deepcopy(value)
    return model


def immutable_changes(current, params):
    """Create-only options the task sets to a value other than the endpoint's: [(option, current, wanted)]."""
    changes = []
    for option in IMMUTABLE_OPTIONS:
        wanted = params.get(option)
        if wanted is None:
            continue
        wanted = _normalise(wanted, "int" if option == "rootfs_size" else "str")
        if wanted != current[option]:
            changes.append((option, current[option], wanted))
    return changes


# ---------------------------------------------------------------------------
# request bodies

def build_payload(model, for_create):
    """The API body for a model: every field the call takes, so an update (a full replace) loses nothing.

    ``for_create`` adds the create-only fields; the caller wraps a create body in ``{"endpoint": ...}``.
    """
    body = {}
    for path, api_path, dummy in SCALAR_FIELDS:
        if not for_create and path[0] in IMMUTABLE_OPTIONS:
            continue
        value = _get(model, path)
        if value is None or (value == "" and path in OMIT_WHEN_EMPTY):
            continue
        _set(body, api_path, value)
    if for_create:
        body["products"] = [{"id": model["product_id"]}]
    body["ports"] = [{"port": model["port"]}]
    body["envs"] = [{"key": key, "value": value} for key, value in model["envs"].items()]
    mounts = []
    for mount in model["volume_mounts"]:
        item = {"type": mount["type"], "mountPath": mount["mount_path"]}
        if mount["type"] == "network":
            item["id"] = mount["id"]
        else:
            item["size"] = mount["size"]
        mounts.append(item)
    body["volumeMounts"] = mounts
    return body


def merge_api(current, payload):
    """``current`` (an API object) with ``payload`` laid over it: the endpoint as it will be after the write."""
    result = copy.deepcopy(current) if current else {}
    for key, value in payload.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge_api(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    if "clusterID" not in payload:
        result.pop("clusterID", None)
    return result


# ---------------------------------------------------------------------------
# what the user sees

def mask_envs(envs, secret_names, changed_names=()):
    masked = {}
    for key, value in envs.items():
        if key in secret_names:
            masked[key] = MASK + " (changed)" if key in changed_names else MASK
        else:
            masked[key] = value
    return masked


def endpoint_result(api, secret_names):
    """The endpoint as a module returns it: snake_case keys, numbers as ints, user data verbatim, secrets masked."""
    if not api:
        return {}
    model = model_from_api(api)
    result = {
        "id": api.get("id"),
        "url": api.get("url"),
        "state": _snake_keys(api.get("state")) if isinstance(api.get("state"), dict) else api.get("state"),
    }
    for key in ("name", "app_name", "product_id", "rootfs_size", "port", "cluster_id", "image", "worker_config", "policy"):
        result[key] = model[key]
    result["healthy"] = dict(_snake_keys(api.get("healthy") or {}), path=model["healthy"]["path"])
    result["envs"] = mask_envs(model["envs"], secret_names)
    result["volume_mounts"] = model["volume_mounts"]
    result["workers"] = _snake_keys(api.get("workers") or [])
    return result


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


def diff_view(model, secret_names, changed_secret_names=()):
    """The managed settings of a model for ``--diff``, secret env values masked."""
    view = copy.deepcopy(model)
    view["envs"] = mask_envs(model["envs"], secret_names, changed_secret_names)
    return view


def changed_secret_names(before, after, secret_names):
    return set(name for name in secret_names if before["envs"].get(name) != after["envs"].get(name))


# ---------------------------------------------------------------------------
# validation

def validate_options(params):
    """Errors found in the task alone, before any request is made."""
    errors = []
    if params.get("name") == "":
        errors.append("name: must not be empty; an endpoint name has 1 to %d characters" % dict(MAX_LENGTHS)[("name",)])
    app_name = params.get("app_name")
    if app_name and not APP_NAME_PATTERN.match(app_name):
        errors.append("app_name: %r is not allowed; an app name has lowercase letters, digits and hyphens only (it is part of the endpoint URL)"
                      % app_name)
    port = params.get("port")
    if port is not None and (port < 1 or port > 65535 or port in FORBIDDEN_PORTS):
        errors.append("port: %s is not allowed; use 1-65535 except 2222, 2223 and 2224" % port)
    for path in NON_NEGATIVE_INTS:
        value = _get(params, path)
        if value is not None and value < 0:
            errors.append("%s: %s must not be negative" % (option_name(path), value))
    errors.extend(_worker_range_errors(params.get("worker_config") or {}))
    for path, limit in MAX_LENGTHS:
        value = _get(params, path)
        if isinstance(value, str) and len(value) > limit:
            errors.append("%s: %d characters is longer than the allowed %d" % (option_name(path), len(value), limit))
    errors.extend(_validate_envs(params))
    errors.extend(_validate_mounts(params.get("volume_mounts"), params.get("cluster_id")))
    if params.get("wait_timeout") is not None and params["wait_timeout"] <= 0:
        errors.append("wait_timeout: %s must be a positive number of seconds" % params["wait_timeout"])
    return errors


def _worker_range_errors(worker_config):
    min_num, max_num = worker_config.get("min_num"), worker_config.get("max_num")
    if min_num is not None and max_num is not None and min_num > max_num:
        return ["worker_config.min_num: %s is greater than worker_config.max_num %s" % (min_num, max_num)]
    return []


def _validate_envs(params):
    errors = []
    envs, secret_envs = params.get("envs") or {}, params.get("secret_envs") or {}
    for option, values in (("envs", envs), ("secret_envs", secret_envs)):
        for key, value in values.items():
            name = str(key)
            if not name or "=" in name or any(ord(char) < 32 or ord(char) == 127 for char in name):
                errors.append("%s: %r is not a valid environment variable name" % (option, key))
            elif isinstance(value, (dict, list, tuple, set)):
                # Never the value itself: for secret_envs it is a secret.
                errors.append("%s.%s: the value must be a string, a number or a boolean, not a %s" % (option, name, type(value).__name__))
    for key in sorted(set(map(str, envs)) & set(map(str, secret_envs))):
        errors.append("envs and secret_envs both set %s; give each variable in one of them only" % key)
    return errors


def _validate_mounts(mounts, cluster_id):
    errors = []
    seen = {}
    for index, mount in enumerate(mounts or []):
        where = "volume_mounts[%d]" % index
        path = mount.get("mount_path") or ""
        if not path:
            errors.append("%s.mount_path must not be empty" % where)
        elif len(path) > MOUNT_PATH_MAX_LENGTH:
            errors.append("%s.mount_path: %d characters is longer than the allowed %d" % (where, len(path), MOUNT_PATH_MAX_LENGTH))
        if path in seen:
            errors.append("%s.mount_path: %s is already used by volume_mounts[%d]" % (where, path, seen[path]))
        seen.setdefault(path, index)
        if mount.get("type") == "network":
            if not mount.get("id") and not mount.get("storage_name"):
                errors.append("%s.id: a network mount needs id (the network storage ID) or storage_name" % where)
            if mount.get("size") is not None:
                errors.append("%s.size: only a local mount takes a size; a network mount's size is its storage's" % where)
            if mount.get("id") and not cluster_id:
                errors.append("%s: a network mount needs cluster_id (the cluster of the network storage) when it is given by id;"
                              " with storage_name the storage's cluster is used" % where)
        else:
            if mount.get("size") is None:
                errors.append("%s.size: a local mount needs size (GB)" % where)
            elif mount["size"] <= 0:
                errors.append("%s.size: %s must be positive" % (where, mount["size"]))
            for key in ("id", "storage_name"):
                if mount.get(key):
                    errors.append("%s.%s: only a network mount takes %s" % (where, key, "an id" if key == "id" else "a storage_name"))
    return errors


def validate_model(model, creating):
    """Errors in the endpoint the task would produce (current state merged with the task)."""
    errors = []
    if creating:
        for option, value in (("name", model["name"]), ("product_id", model["product_id"]),
                              ("image.image", model["image"]["image"]), ("port", model["port"])):
            if value in (None, ""):
                errors.append("%s is required to create an endpoint" % option)
    errors.extend(_worker_range_errors(model["worker_config"]))
    if any(m["type"] == "network" for m in model["volume_mounts"]) and not model["cluster_id"]:
        errors.append("cluster_id is required when a network volume is mounted")
    return errors


def _limit(limits, key):
    try:
        return int(limits[key])
    except (KeyError, TypeError, ValueError):
        return None


def _check_range(errors, option, value, limits, suffix):
    low, high = _limit(limits, "min" + suffix), _limit(limits, "max" + suffix)
    if value is None or not isinstance(value, int):
        return
    if (low is not None and value < low) or (high is not None and value > high):
        errors.append("%s: %s is outside the allowed range %s to %s (account limits min%s/max%s)" % (
            option, value, "-" if low is None else low, "-" if high is None else high, suffix, suffix))


def check_limits(model, limits, creating):
    """Errors for values outside the account's parameter limits (``GET /endpoint/limit``)."""
    errors = []
    for path, suffix in LIMIT_RANGES:
        if path == ("rootfs_size",) and not creating:
            continue
        _check_range(errors, option_name(path), _get(model, path), limits, suffix)
    policy = model["policy"]
    if policy["type"] in POLICY_VALUE_LIMITS:
        _check_range(errors, "policy.value (%s)" % policy["type"], policy["value"], limits, POLICY_VALUE_LIMITS[policy["type"]])
    elif policy["type"]:
        errors.append("policy.type: %s is not one of queue, concurrency" % policy["type"])
    for mount in model["volume_mounts"]:
        if mount["type"] == "local":
            _check_range(errors, "volume_mounts[mount_path=%s].size" % mount["mount_path"], mount["size"], limits, LOCAL_VOLUME_LIMIT)
    cuda = model["worker_config"]["cuda_version"]
    allowed = limits.get("cudaVersionList")
    if cuda is not None and isinstance(allowed, list) and cuda not in [str(v) for v in allowed]:
        errors.append("worker_config.cuda_version: %s is not one of %s (account limits cudaVersionList)" % (cuda, ", ".join(map(str, allowed))))
    return errors
