#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: novita_endpoint_info
short_description: List Novita AI serverless GPU endpoints and the account's parameter limits
version_added: 0.1.0
description:
  - Reads Novita serverless endpoints, one by O(id), all with a given O(name), or every endpoint of
    the account, and returns them in exactly the shape of RV(novita.cloud.novita_endpoint#module:endpoint).
  - With O(gather_limits=true), also returns the account's parameter limits, the ranges that
    M(novita.cloud.novita_endpoint) checks every value against.
  - With O(output=declaration), returns the endpoints as declarations instead, the options that
    M(novita.cloud.novita_endpoint_fleet) takes in O(novita.cloud.novita_endpoint_fleet#module:endpoints) to manage each
    one as it is, with the account's registry credentials and network storages as declarations too. A check mode run of
    the fleet with them changes nothing. See the guide R(Bring existing endpoints under Ansible,ansible_collections.novita.cloud.docsite.adopt).
  - The module only reads; it never changes anything.
author:
  - novita.cloud maintainers (@novita-cloud)
extends_documentation_fragment:
  - novita.cloud.novita
attributes:
  check_mode:
    description: Makes the same reads and returns the same data in check mode.
    support: full
  diff_mode:
    description: The module changes nothing, so there is no diff.
    support: none
options:
  id:
    description:
      - The ID of the endpoint to read.
      - If no endpoint has this ID, RV(endpoints) is empty; that is not an error.
      - Mutually exclusive with O(name). With neither, every endpoint of the account is returned.
    type: str
  name:
    description:
      - Return every endpoint with exactly this name. Names are not unique in the Novita API, so
        several endpoints may be returned.
      - An empty string matches endpoints without a name.
      - Mutually exclusive with O(id). With neither, every endpoint of the account is returned.
    type: str
  show_envs:
    description:
      - Names of environment variables whose values are returned in clear in RV(endpoints).
      - The API does not say which variables are secret, so the value of every variable not listed here is
        returned as C(********), like the values of O(novita.cloud.novita_endpoint#module:secret_envs). The names
        are always returned.
    type: list
    elements: str
    default: []
  gather_limits:
    description:
      - Also read the account's parameter limits and return them in RV(limits).
      - Costs one more request.
    type: bool
    default: false
  output:
    description:
      - V(endpoints) returns the endpoints as they are, in RV(endpoints).
      - V(declaration) returns them as declarations in RV(declarations), ready to be the
        O(novita.cloud.novita_endpoint_fleet#module:endpoints) option of the fleet module (or the options of
        M(novita.cloud.novita_endpoint) tasks), and the account's registry credentials and network storages in
        RV(registry_auths) and RV(network_storages). What needs a review is in RV(export_notes) and RV(duplicate_names).
      - A declaration sets every option of the endpoint whose value is not the option's default (the value an endpoint
        is created with when the option is left out), and no key that is not an option (C(id), C(url), C(state),
        C(workers)). A credential and a network storage are given by name (O(novita.cloud.novita_endpoint#module:image.auth_name),
        O(novita.cloud.novita_endpoint#module:volume_mounts[].storage_name)) when exactly one credential or storage has the
        name (and, for a storage, it is in the endpoint's cluster); otherwise by ID, with a note saying why.
        An O(novita.cloud.novita_endpoint#module:app_name) equal to the endpoint's ID, the API's default, is left out.
      - Environment variables are in O(novita.cloud.novita_endpoint#module:envs) with their values in clear, as the API
        returns them; it does not say which are secret, so O(show_envs) is not used. Move the secret ones to
        O(novita.cloud.novita_endpoint#module:secret_envs) and keep their values in a vault.
      - An endpoint whose name another endpoint has too, or that has no name, gets no declaration (a declaration finds its
        endpoint by name); it is listed in RV(export_notes), and the name in RV(duplicate_names), with a warning.
      - Costs the credential list (one request) and the network storage list pages on top of the endpoint reads.
    type: str
    choices: [endpoints, declaration]
    default: endpoints
notes:
  - Requests per run are bounded. By O(id) the module makes one read; by O(name) or without a filter,
    it reads every page of the endpoint list. O(gather_limits=true) adds one read of the limits.
    O(output=declaration) adds one read of the registry credentials and the pages of the network storage list.
  - Like M(novita.cloud.novita_endpoint), this module never returns a value it cannot know to be harmless. The API
    does not say which environment variables are secret, so their values are masked unless their names are listed
    in O(show_envs).
seealso:
  - module: novita.cloud.novita_endpoint
    description: Create, update and delete endpoints; returns each in the same shape.
  - name: Novita serverless endpoint API
    description: The API reference of the calls this module makes.
    link: https://novita.ai/docs/api-reference/serverless-list-endpoints
"""

EXAMPLES = r"""
- name: List every endpoint of the account
  novita.cloud.novita_endpoint_info:
  register: all_endpoints

- name: Show their names and states
  ansible.builtin.debug:
    msg: "{{ all_endpoints.endpoints | map(attribute='name') | zip(all_endpoints.endpoints | map(attribute='state.state')) | list }}"

- name: Read one endpoint by its ID, showing LOG_LEVEL and masking every other value (its token)
  novita.cloud.novita_endpoint_info:
    id: 3f2a9c0e7b1d4a55
    show_envs:
      - LOG_LEVEL
  register: chat

- name: Fail unless exactly one endpoint is named llama-chat
  novita.cloud.novita_endpoint_info:
    name: llama-chat
  register: by_name
  failed_when: by_name.endpoints | length != 1

- name: Read that endpoint again together with the account's parameter limits
  novita.cloud.novita_endpoint_info:
    id: "{{ by_name.endpoints[0].id }}"
    gather_limits: true
  register: info

- name: Scale that endpoint up to the account's maximum
  novita.cloud.novita_endpoint:
    id: "{{ info.endpoints[0].id }}"
    worker_config:
      max_num: "{{ info.limits.max_worker_num }}"

- name: Export every endpoint as a declaration for novita.cloud.novita_endpoint_fleet
  novita.cloud.novita_endpoint_info:
    output: declaration
  register: export

- name: Audit the exported declarations in check mode; they describe the endpoints as they are
  novita.cloud.novita_endpoint_fleet:
    endpoints: "{{ export.declarations }}"
  check_mode: true
  register: audit
  failed_when: audit.changed
"""

RETURN = r"""
endpoints:
  description:
    - The endpoints found, in the order the API lists them; V([]) when none matches.
    - Each is exactly what RV(novita.cloud.novita_endpoint#module:endpoint) is for the same endpoint. Keys are snake_case
      and numbers are integers. User data such as environment variable names is returned verbatim.
    - Environment variable values are C(********), except those named in O(show_envs).
  returned: when O(output=endpoints)
  type: list
  elements: dict
  contains:
    # BEGIN generated endpoint keys: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here
    id:
      description: The endpoint ID.
      type: str
      sample: 3f2a9c0e7b1d4a55
    name:
      description: The endpoint name.
      type: str
      sample: llama-chat
    app_name:
      description: The application name in the endpoint URL.
      type: str
      sample: llama-chat
    url:
      description: The endpoint's URL.
      type: str
      sample: https://3f2a9c0e7b1d4a55-llama-chat.runsync.serverless.novita.ai
    state:
      description: The endpoint's state as the API reports it.
      type: dict
      contains:
        state:
          description: C(serving) when the endpoint is available; other values include C(initializing) and C(failed).
          type: str
          sample: serving
        error:
          description: An error reported by the platform.
          type: str
          sample: ""
        message:
          description: A message reported by the platform.
          type: str
          sample: ""
    product_id:
      description: The serverless product ID.
      type: str
      sample: "1"
    rootfs_size:
      description: Root file system size in GB.
      type: int
      sample: 100
    port:
      description: The HTTP port.
      type: int
      sample: 8000
    cluster_id:
      description: The cluster ID; empty when none is set.
      type: str
      sample: ""
    image:
      description: The image settings.
      type: dict
      sample: {"image": "vllm/vllm-openai:latest", "auth_id": "", "command": ""}
    worker_config:
      description: The worker settings; C(request_timeout) and C(cuda_version) are V(null) when not set.
      type: dict
      sample: {"min_num": 0, "max_num": 2, "free_timeout": 300, "max_concurrent": 1, "gpu_num": 1, "request_timeout": null, "cuda_version": null}
    policy:
      description: The auto-scaling policy.
      type: dict
      sample: {"type": "queue", "value": 1}
    healthy:
      description: The health check settings.
      type: dict
      sample: {"path": "/health", "initial_delay": 10, "period": 10, "timeout": 10, "success_threshold": 1, "failure_threshold": 3}
    envs:
      description: Environment variables, name to value. Values are C(********) except those of the variables the task declares
        plain, in O(novita.cloud.novita_endpoint#module:envs) or O(novita.cloud.novita_endpoint_info#module:show_envs).
      type: dict
      sample: {"LOG_LEVEL": "info", "HF_TOKEN": "********"}
    volume_mounts:
      description: The volume mounts, sorted by mount path.
      type: list
      elements: dict
      sample: [{"type": "local", "size": 30, "mount_path": "/workspace"}]
    workers:
      description: The endpoint's current workers as the API reports them.
      type: list
      elements: dict
      sample: []
    # END generated endpoint keys
declarations:
  description:
    - With O(output=declaration), one declaration per endpoint found, in the order the API lists them, with the options of
      O(novita.cloud.novita_endpoint_fleet#module:endpoints), every option whose value is not its default, ready to be
      written to a vars file (see O(output)).
    - An endpoint that shares its name with another, or has none, has no declaration; see RV(export_notes).
    - Environment variable values are in clear. A value with C({{), C({%) or C({#) is exported as it is; Ansible templates
      such text when it reads a vars file, so RV(export_notes) names it (mark it C(!unsafe) in the file).
  returned: when O(output=declaration)
  type: list
  elements: dict
  sample:
    - name: llama-chat
      product_id: "1"
      image: {image: "vllm/vllm-openai:latest", auth_name: ghcr-team}
      port: 8000
      worker_config: {max_num: 2}
      envs: {LOG_LEVEL: info, HF_TOKEN: hf_abc123}
      volume_mounts: [{type: network, storage_name: models, mount_path: /models}]
      cluster_id: cluster-1
export_notes:
  description:
    - With O(output=declaration), the endpoints whose export needs a review, in the order the API lists them.
    - Each has C(id), C(name), C(declared) (whether RV(declarations) has it) and C(warnings), the reasons, each a sentence
      naming the option (a credential or storage kept by ID because its name is not unique or it no longer exists, a
      name several endpoints share, a value Ansible would template).
  returned: when O(output=declaration)
  type: list
  elements: dict
  sample:
    - id: 3f2a9c0e7b1d4a55
      name: chat
      declared: false
      warnings: ["not declared: 2 endpoints are named chat (IDs: 3f2a9c0e7b1d4a55, 9c1e0b7d5a3f2e10); a declaration must name
                 one endpoint. Rename all but one (novita.cloud.novita_endpoint with id and name) or delete the extra ones, then export again"]
duplicate_names:
  description:
    - With O(output=declaration), every name that several of the endpoints found share, with their IDs. None of these
      endpoints is in RV(declarations), because M(novita.cloud.novita_endpoint_fleet) refuses a name that is not unique in the account.
  returned: when O(output=declaration)
  type: list
  elements: dict
  sample: [{"name": "chat", "ids": ["3f2a9c0e7b1d4a55", "9c1e0b7d5a3f2e10"]}]
registry_auths:
  description:
    - With O(output=declaration), the account's registry credentials as the options of M(novita.cloud.novita_registry_auth).
    - The password is never exported. In its place is a placeholder, C({{ vault_novita_registry_passwords["NAME"] }}); keep the
      passwords in a vault file as the dict C(vault_novita_registry_passwords), credential name to password. Used before that
      variable is defined, the placeholder fails, naming it.
  returned: when O(output=declaration)
  type: list
  elements: dict
  sample: [{"name": "ghcr-team", "username": "ci-bot", "password": "{{ vault_novita_registry_passwords[\"ghcr-team\"] }}"}]
network_storages:
  description:
    - With O(output=declaration), the account's network storages as the options of M(novita.cloud.novita_network_storage).
  returned: when O(output=declaration)
  type: list
  elements: dict
  sample: [{"name": "models", "size": 100, "cluster_id": "cluster-1"}]
limits:
  description:
    - The account's parameter limits (the API's C(GET /endpoint/limit)), with snake_case keys and integer values.
    - The API's C(minGPUNum) and C(maxGPUNum) become C(min_gpu_num) and C(max_gpu_num). Keys the API adds
      later are converted the same way.
  returned: when O(gather_limits=true)
  type: dict
  contains:
    min_rootfs_size:
      description: Smallest root file system, in GB (O(novita.cloud.novita_endpoint#module:rootfs_size)); C(max_rootfs_size) is the largest.
      type: int
      sample: 10
    free_rootfs_size:
      description: Root file system size included at no cost, in GB.
      type: int
      sample: 100
    min_local_volume_size:
      description: Smallest local volume, in GB; C(max_local_volume_size) is the largest, C(free_local_volume_size) the size included at no cost.
      type: int
      sample: 10
    min_worker_num:
      description: >-
        Smallest number of workers (O(novita.cloud.novita_endpoint#module:worker_config.min_num) and
        O(novita.cloud.novita_endpoint#module:worker_config.max_num)); C(max_worker_num) is the largest.
      type: int
      sample: 0
    min_free_timeout:
      description: Shortest idle timeout, in seconds; C(max_free_timeout) is the longest.
      type: int
      sample: 5
    min_concurrency_num:
      description: Smallest number of concurrent requests per worker; C(max_concurrency_num) is the largest.
      type: int
      sample: 1
    min_queue_wait_time:
      description: Smallest policy value for the C(queue) policy, in seconds; C(max_queue_wait_time) is the largest.
      type: int
      sample: 1
    min_request_num:
      description: Smallest policy value for the C(concurrency) policy; C(max_request_num) is the largest.
      type: int
      sample: 1
    min_gpu_num:
      description: Fewest GPUs per worker (the API's C(minGPUNum)); C(max_gpu_num) (C(maxGPUNum)) is the most.
      type: int
      sample: 1
    min_request_timeout:
      description: Shortest request timeout, in seconds; C(max_request_timeout) is the longest.
      type: int
      sample: 1
    cuda_version_list:
      description: The CUDA versions workers may ask for.
      type: list
      elements: str
      sample: ["12.1", "12.4"]
failure:
  description: Details of a failed API request.
  returned: when the module fails on an API request
  type: dict
  contains:
    # BEGIN generated failure keys: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here
    status:
      description: The HTTP status, if a response came.
      type: int
      sample: 400
    method:
      description: The HTTP method.
      type: str
      sample: POST
    path:
      description: The API path, without the base URL.
      type: str
      sample: /endpoint/update
    url:
      description: The full URL of the request, with the base URL.
      type: str
      sample: https://api.novita.ai/gpu-instance/openapi/v1/endpoint/update
    api_code:
      description: The error code in the API's response body, if any.
      type: raw
      sample: 400
    api_reason:
      description: The error name in the C(reason) field of the API's response body, if any, for example
        C(SERVERLESS_ENDPOINT_NOT_FOUND) or C(INVALID_API_KEY).
      type: str
      sample: SERVERLESS_ENDPOINT_NOT_FOUND
    api_message:
      description: The error message in the API's response body, if any.
      type: str
      sample: endpoint 3f2a9c0e7b1d4a55 not found
    request_id:
      description: The request ID the API sent back (a C(X-Request-Id) style header or a C(requestId) key), if any.
      type: str
      sample: 5f1c9a0e-3c1d-4f7e-9d0a-2b7e8c6f4a11
    body_excerpt:
      description: A short, single-line excerpt of the response body when it was not a JSON error; an HTML error page is reduced to
        its title.
      type: str
      sample: "HTML page: 502 Bad Gateway"
    reason:
      description: Why no usable reply came, when there was none (a timeout, a closed connection, a cut-off or non-JSON reply).
      type: str
      sample: no reply within the 30 s timeout
    attempts:
      description: How many times the request was sent.
      type: int
      sample: 6
    # END generated failure keys
# BEGIN generated api_requests: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here
api_requests:
  description:
    - "Every HTTP request the task sent to the API, in the order sent: method, path, status, attempt and duration."
    - Never a request or response body, never a header, so no key and no environment variable value.
  returned: when O(trace_requests=true), or at verbosity C(-vvv) and above; also when the module fails
  type: list
  elements: dict
  contains:
    method:
      description: The HTTP method.
      type: str
      sample: GET
    path:
      description: The API path with its query string, without the base URL.
      type: str
      sample: /endpoints?pageSize=100&pageNum=1
    status:
      description: The HTTP status of the reply; V(null) when none came (see RV(api_requests[].error)).
      type: int
      sample: 200
    error:
      description: Why no usable reply came (a timeout, a closed connection), when there was none.
      type: str
      returned: when the request got no reply
      sample: no reply within the 30 s timeout
    attempt:
      description: 1 for the first send of this request, 2 for its first repeat (see O(retries)), and so on.
      type: int
      sample: 1
    duration_ms:
      description: Milliseconds from sending the request to the end of its reply.
      type: int
      sample: 42
  sample:
    - {"method": "GET", "path": "/endpoints?pageSize=100&pageNum=1", "status": 200, "attempt": 1, "duration_ms": 85}
    - {"method": "GET", "path": "/endpoint/limit", "status": 200, "attempt": 1, "duration_ms": 40}
    - {"method": "POST", "path": "/endpoint/update", "status": 429, "attempt": 1, "duration_ms": 31}
    - {"method": "POST", "path": "/endpoint/update", "status": 200, "attempt": 2, "duration_ms": 120}
# END generated api_requests
"""

from ansible_collections.novita.cloud.plugins.module_utils.api import novita_argument_spec
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import endpoint_result, hidden_env_names, limits_result
from ansible_collections.novita.cloud.plugins.module_utils.endpoint_api import EndpointAPI
from ansible_collections.novita.cloud.plugins.module_utils.export import export_account
from ansible_collections.novita.cloud.plugins.module_utils.module import NovitaModule, Reading, run_module


def find_endpoints(api, endpoint_id=None, name=None):
    """The API objects of the endpoints asked for: one read by ID, else the list pages."""
    if endpoint_id is not None:
        endpoint = api.get(endpoint_id)
        return [endpoint] if endpoint else []
    endpoints = api.list()
    if name is not None:
        endpoints = [e for e in endpoints if (e.get("name") or "") == name]
    return endpoints


def declare(module, client, found, result):
    """``output=declaration``: the endpoints found, the credentials and the storages as declarations; a warning for what
    needs a review."""
    export = export_account(client, found)
    result.update(declarations=export.declarations, export_notes=export.notes, duplicate_names=export.duplicate_names,
                  registry_auths=export.registry_auths(), network_storages=export.network_storages())
    if export.duplicate_names:
        module.warn("%d endpoints have no declaration because their name is not unique: %s; see duplicate_names" % (
            sum(len(d["ids"]) for d in export.duplicate_names), ", ".join("%s (%s)" % (d["name"], ", ".join(d["ids"])) for d in export.duplicate_names)))
    others = [n for n in export.notes if n["declared"] or n["name"] not in set(d["name"] for d in export.duplicate_names)]
    if others:
        module.warn("%d endpoints need a review before their declarations are used: %s; see export_notes" % (
            len(others), ", ".join(n["name"] or n["id"] for n in others)))


def main():
    argument_spec = novita_argument_spec()
    argument_spec.update(
        id=dict(type="str"),
        name=dict(type="str"),
        show_envs=dict(type="list", elements="str", default=[]),
        gather_limits=dict(type="bool", default=False),
        output=dict(type="str", choices=["endpoints", "declaration"], default="endpoints"),
    )
    module = NovitaModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("id", "name")],
        supports_check_mode=True,
    )
    if module.params["id"] is not None and not module.params["id"].strip():
        module.fail_json(msg="id must not be empty; leave it out to list every endpoint")

    def read(client, result):
        api = EndpointAPI(client)
        found = find_endpoints(api, module.params["id"], module.params["name"])
        if module.params["output"] == "declaration":
            result.pop("endpoints")
            declare(module, client, found, result)
        else:
            result["endpoints"] = [endpoint_result(endpoint, hidden_env_names(module.params["show_envs"], endpoint.get("envs")))
                                   for endpoint in found]
        if module.params["gather_limits"]:
            result["limits"] = limits_result(api.limits())

    run_module(module, lambda client: Reading(client, {"changed": False, "endpoints": []}, read))


if __name__ == "__main__":
    main()
