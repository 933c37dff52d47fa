#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: novita_endpoint
short_description: Create, update and delete Novita AI serverless GPU endpoints
version_added: 0.1.0
description:
  - Declares one Novita serverless endpoint and converges it. The endpoint is created when it does not
    exist, updated when it differs from the task, deleted with O(state=absent), and left alone
    (C(changed=false), no write request) when it already matches.
  - Novita's update call replaces the whole endpoint. The module therefore starts from the endpoint as
    it is, lays over it only what the task sets (inside a dictionary option, only the sub-options
    given), and always sends the complete set of fields. An option the task leaves out keeps its
    current value, including environment variables, volume mounts, the health check path, the name,
    the image command, the registry credential and the cluster.
  - Values are normalised before they are compared (the API returns some numbers as strings and lists
    in any order), so a rerun of the same task reports no change.
  - Everything is validated before any write. Before any write (and in check mode when a change is
    predicted, or when the task has a problem) the account's parameter limits are read once from the API
    and every value is checked against them. All the problems of a task are reported together in one run
    (its own values and lengths, names that do not resolve, create-only changes without O(recreate), values
    outside the limits), in RV(errors) and in the message; each names the option, the value and the allowed range.
author:
  - novita.cloud maintainers (@novita-cloud)
extends_documentation_fragment:
  - novita.cloud.novita
attributes:
  check_mode:
    description: Makes the same reads as a real run and no write; reports the exact C(changed) and the would-be endpoint.
    support: full
  diff_mode:
    description: Returns the managed settings before and after, with secret environment values masked.
    support: full
options:
  # BEGIN generated endpoint options: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here
  state:
    description: V(present) creates or updates the endpoint, V(absent) deletes it (nothing happens when it does not exist).
    type: str
    choices: [present, absent]
    default: present
  id:
    description:
      - The ID of the endpoint to manage.
      - With O(id), O(name) is the desired name, so setting both renames the endpoint.
      - An endpoint cannot be created with a chosen ID; if no endpoint has this ID, the module fails.
      - One of O(id) and O(name) is required.
    type: str
  name:
    description:
      - The endpoint's name; it must not be empty.
      - Without O(id), the endpoint is looked up by this name. The name must be unique; if several endpoints have it,
        the module fails and lists their IDs. If none has it, the endpoint is created.
      - At most 220 characters.
      - Required to create an endpoint.
    type: str
  product_id:
    description:
      - The ID of the serverless product (GPU type) the workers run on, for example V("1").
      - Required to create an endpoint.
      - Set at creation only, see O(recreate).
    type: str
  app_name:
    description:
      - The application name, part of the endpoint's URL. The API uses the endpoint ID when it is not set.
      - Lowercase letters, digits and hyphens only; anything else is refused before any request.
      - App names are unique per account. A name another endpoint already uses is refused by the API
        (C(SERVERLESS_APP_NAME_IS_EXIST)); the module then fails naming O(app_name) and the value, and nothing is
        created.
      - Set at creation only, see O(recreate).
    type: str
  rootfs_size:
    description:
      - Size of each worker's root file system in GB.
      - Defaults to V(100) when an endpoint is created.
      - Checked against the account's limits C(minRootfsSize) and C(maxRootfsSize) before any write.
      - Set at creation only, see O(recreate).
    type: int
  image:
    description:
      - The container image the workers run.
      - Only the sub-options given are changed on an existing endpoint.
    type: dict
    suboptions:
      image:
        description:
          - The image reference, for example V(vllm/vllm-openai:latest).
          - It must follow the Docker reference grammar, C([registry[:port]/]repository[:tag][@digest]) with a lowercase
            repository; anything else (a space, an empty tag, a trailing C(/)) is refused, and nothing is written.
          - At most 511 characters.
          - Required to create an endpoint.
        type: str
      auth_id:
        description:
          - The ID of the registry credential used to pull a private image.
          - An empty string removes the credential.
          - Mutually exclusive with O(image.auth_name).
          - At most 255 characters.
        type: str
      auth_name:
        description:
          - The name of the registry credential used to pull a private image, as an alternative to O(image.auth_id).
          - The module reads the account's registry credentials (one request, only when this option is set) and uses the
            ID of the one credential with this name. No credential or several with the name is an error, before any
            write.
          - The credential's user name and password are never read into the result.
        type: str
      command:
        description:
          - The command the container runs instead of the image's default.
          - An empty string removes the command.
          - At most 2047 characters.
        type: str
  port:
    description:
      - The HTTP port the container listens on, 1 to 65535 except 2222, 2223 and 2224.
      - Required to create an endpoint.
    type: int
  worker_config:
    description: Scaling and worker settings. Only the sub-options given are changed on an existing endpoint.
    type: dict
    suboptions:
      min_num:
        description:
          - The minimum number of workers; not more than O(worker_config.max_num).
          - Defaults to V(0) when an endpoint is created.
          - Checked against the account's limits C(minWorkerNum) and C(maxWorkerNum) before any write.
        type: int
      max_num:
        description:
          - The maximum number of workers.
          - Defaults to V(1) when an endpoint is created.
          - Checked against the account's limits C(minWorkerNum) and C(maxWorkerNum) before any write.
        type: int
      free_timeout:
        description:
          - Seconds a worker may stay idle before it is released.
          - Defaults to V(300) when an endpoint is created.
          - Checked against the account's limits C(minFreeTimeout) and C(maxFreeTimeout) before any write.
        type: int
      max_concurrent:
        description:
          - Concurrent requests per worker.
          - Defaults to V(1) when an endpoint is created.
          - Checked against the account's limits C(minConcurrencyNum) and C(maxConcurrencyNum) before any write.
        type: int
      gpu_num:
        description:
          - GPUs per worker.
          - Defaults to V(1) when an endpoint is created.
          - Checked against the account's limits C(minGPUNum) and C(maxGPUNum) before any write.
        type: int
      request_timeout:
        description:
          - Seconds a request may take. Sent only when set; an existing value is kept when left out.
          - Checked against the account's limits C(minRequestTimeout) and C(maxRequestTimeout) before any write.
        type: int
      cuda_version:
        description:
          - The CUDA version the workers need, one of the account's C(cudaVersionList) limit.
          - Sent only when set; an existing value is kept when left out.
        type: str
  policy:
    description: The auto-scaling policy. Only the sub-options given are changed on an existing endpoint.
    type: dict
    suboptions:
      type:
        description:
          - V(queue) scales on the time requests wait in the queue (value in seconds); V(concurrency) scales on the
            number of queued requests.
          - Defaults to V(queue) when an endpoint is created.
        type: str
        choices: [queue, concurrency]
      value:
        description:
          - The threshold for the policy type.
          - Defaults to V(1) when an endpoint is created.
          - Checked against the account's limits for the policy type before any write, C(minQueueWaitTime) and
            C(maxQueueWaitTime) for V(queue), C(minRequestNum) and C(maxRequestNum) for V(concurrency).
        type: int
  healthy:
    description: The health check. Only the path can be set.
    type: dict
    suboptions:
      path:
        description:
          - The HTTP path the platform probes on O(port).
          - Defaults to V(/health) when an endpoint is created.
        type: str
  envs:
    description:
      - Environment variables, name to value. Values are sent as strings (V(true)/V(false) for booleans).
      - Their values are shown in the output and the diff; put secrets in O(secret_envs). The values of variables the
        task does not list here are masked in the output and the diff.
      - Names are kept exactly as written, never case-converted.
      - See O(purge_envs) for variables the endpoint has that are not listed here.
    type: dict
  secret_envs:
    description:
      - Environment variables whose values are secret, name to value.
      - Their values never appear in the output, the logs or the diff, where they are shown as C(********) (in the diff
        followed by the word C(added), C(changed) or C(removed) in parentheses when the task adds, changes or removes
        the variable). They are still compared with the endpoint's values, so a rerun with the same values reports no
        change.
      - A name may not be in both O(envs) and O(secret_envs).
    type: dict
  purge_envs:
    description:
      - Used when O(envs) or O(secret_envs) is given. V(true) makes the endpoint's variables exactly the union of
        O(envs) and O(secret_envs); V(false) only adds and changes variables and keeps the others.
      - When neither O(envs) nor O(secret_envs) is given, the endpoint's variables are kept.
    type: bool
    default: true
  volume_mounts:
    description:
      - The volumes mounted into each worker. When given, the endpoint gets exactly this list (the order does not
        matter); when left out, its current mounts are kept.
      - On create the default is one local volume of 30 GB at C(/workspace).
      - Mount paths must be unique.
    type: list
    elements: dict
    suboptions:
      type:
        description: V(local) for a volume on the worker, V(network) for a network storage.
        type: str
        choices: [local, network]
        required: true
      size:
        description:
          - Size in GB of a V(local) volume, checked against the account's limits C(minLocalVolumeSize) and
            C(maxLocalVolumeSize). Required for local volumes.
          - Not accepted for network volumes.
        type: int
      id:
        description:
          - The network storage ID of a V(network) volume. A network volume needs this or
            O(volume_mounts[].storage_name); local volumes take neither.
          - A network volume given by ID also needs O(cluster_id).
        type: str
      storage_name:
        description:
          - The name of the network storage of a V(network) volume, as an alternative to O(volume_mounts[].id).
          - The module looks the name up in the account's network storages (the list pages filtered by name, only when
            this option is set) and uses the ID of the one storage with exactly this name. No storage or several with
            the name is an error, before any write.
          - The storage's cluster fills O(cluster_id) when the task leaves it out; a different O(cluster_id) is an
            error.
        type: str
      mount_path:
        description:
          - Where the volume is mounted in the container.
          - At most 255 characters.
        type: str
        required: true
  cluster_id:
    description:
      - The cluster the workers run in. Required with network volumes given by O(volume_mounts[].id); it must be the
        network storage's cluster. With O(volume_mounts[].storage_name) it defaults to the storage's cluster.
      - Left out, the endpoint's current cluster is kept.
      - At most 255 characters.
    type: str
  recreate:
    description:
      - What to do when O(product_id), O(app_name) or O(rootfs_size) differs from the endpoint's value; the API cannot
        change these.
      - V(false) fails before any write and names the field.
      - V(true) replaces the endpoint with a new one that has the endpoint's other settings and the task's options. The
        new endpoint has a new ID, returned in RV(endpoint.id).
      - The replacement is created first and the old endpoint deleted after it, so a create the API refuses leaves the
        old endpoint untouched.
      - When the new endpoint keeps the old one's O(app_name) (app names are unique), the old endpoint is deleted first
        and its deletion waited for (up to O(wait_timeout)), even with O(wait=false); if the API then refuses the
        create, the old endpoint is created again with every setting it had (a new ID, returned as
        C(restored_endpoint_id)) and the task fails; if even that fails, C(lost_endpoint) holds its complete settings.
    type: bool
    default: false
  wait:
    description:
      - After a create or update, poll the endpoint until it is ready; after a delete, until it no longer exists (the
        API may answer "not found" as HTTP 404 or as HTTP 400 C(SERVERLESS_ENDPOINT_NOT_FOUND); both count as gone).
      - Ready means the state is C(serving), the state carries no error and, after an update, the read shows the
        settings the update sent. Right after an update the API may still report the old endpoint as C(serving); such a
        stale read does not end the wait.
      - Any other state (C(pending), C(creating), C(initializing), C(updating), C(stopped), or one the module does not
        know) means "not ready yet". C(failed), C(error) or a non-empty error in the state fails at once, naming it.
      - An endpoint with O(worker_config.min_num=0) may run no worker and never report C(serving). Its wait ends when
        its settings read back, it reports no error and the same state, other than a transition such as C(pending),
        C(creating), C(updating) or C(deleting), holds for three reads in a row; the result then carries a warning
        naming that state.
      - Polls start one second apart and back off to five seconds.
    type: bool
    default: true
  wait_timeout:
    description: How many seconds to wait with O(wait). When it runs out the module fails, naming the endpoint ID and its last
      state.
    type: int
    default: 600
  # END generated endpoint options
notes:
  - The module needs the Novita v1 GPU instance API. Lookups by name read every page of the endpoint
    list; lookups by O(id) read one endpoint.
  - Requests per run are bounded. An unchanged endpoint costs one read by O(id), or the list pages by
    O(name). An update adds one limits read, the update and the wait polls; a create adds the limits read, the create
    call, one more read of the list pages (the check for a concurrent create of the same name, see below) and the wait polls;
    a delete is the lookup, the delete call and the wait polls.
  - Without O(wait), RV(endpoint) after a create or update is the endpoint as the module sent it, not re-read.
  - Two runs that create the same name at the same time (two playbooks, two AWX jobs) converge to one endpoint. After every
    create the module reads the endpoint list once more. If another endpoint has the same name, every run keeps the one
    created first (by the API's C(createdAt), then by ID); a run whose own endpoint is not that one deletes it, adopts the
    first one (updating it if the task asks for other settings) and warns, returning the deleted ID in RV(duplicate_deleted_id).
    When the API gives no readable C(createdAt), nothing tells which to keep, so both endpoints are kept and the run fails
    naming the other one.
  - For duplicate safety the create request is never repeated blindly. When a create gets no clear reply (a timeout, a dropped
    connection, a cut-off or non-JSON reply, an HTTP 5xx), the module reads the endpoint list again and adopts the endpoint
    with the declared name if the API did create it (the result then carries a warning); only when no such endpoint exists
    does it send the create again. A run never leaves two endpoints with one name.
  - Updates and deletes are repeated on the same transient failures as reads (see O(retries)). An update replaces the whole
    endpoint, so it is either applied completely or not at all, and a delete that finds the endpoint already gone counts as done.
  - 'A failure after a write says what was already done, for example C(created endpoint 3f2a9c0e7b1d4a55, then: timed out
    waiting for endpoint 3f2a9c0e7b1d4a55 to serve; last state: initializing), and returns RV(endpoint_id).'
  - The API key never appears in the output, error messages or the diff. Error texts of the API may quote a request body,
    which carries every env value of the endpoint; the module masks in every message and failure detail the API key, the
    values of O(secret_envs) and the values of the endpoint's variables the task does not list in O(envs), literally as well
    as JSON-escaped or URL-encoded. Values shorter than four characters are not masked in messages.
    Values of O(secret_envs) are replaced by C(********) in RV(endpoint) and the diff, and in the diff a changed secret
    shows as C(********) followed by the word C(changed) in parentheses (C(added) for a new one, and C(removed) on the
    before side for one the task removes). The after side of the diff also has C(env_changes), which names every
    variable that is added, removed or changed, masked or not. Values of O(envs) are not secret and are shown.
    The API cannot say which of an endpoint's variables are secret, so the value of every variable the task does not list
    in O(envs) is masked too (for example all of them in a task that only scales, or in a delete).
seealso:
  - name: Novita serverless endpoint API
    description: The API reference of the calls this module makes.
    link: https://novita.ai/docs/api-reference/serverless-create-endpoint
"""

EXAMPLES = r"""
- name: Create a vLLM endpoint (or make an existing one match)
  novita.cloud.novita_endpoint:
    name: llama-chat
    product_id: "1"
    image:
      image: vllm/vllm-openai:latest
      command: --model meta-llama/Llama-3.1-8B-Instruct
    port: 8000
    worker_config:
      min_num: 0
      max_num: 2
      gpu_num: 1
    healthy:
      path: /health
    envs:
      LOG_LEVEL: info
  register: chat

- name: Scale it out; every other setting is kept
  novita.cloud.novita_endpoint:
    name: llama-chat
    worker_config:
      max_num: 4

- name: Pass a token without showing it in logs or diffs
  novita.cloud.novita_endpoint:
    name: llama-chat
    envs:
      LOG_LEVEL: info
    secret_envs:
      HF_TOKEN: "{{ vault_hf_token }}"

- name: Add one variable and keep the others, addressing the endpoint by the ID the create returned
  novita.cloud.novita_endpoint:
    id: "{{ chat.endpoint.id }}"
    envs:
      MAX_MODEL_LEN: "8192"
    purge_envs: false

- name: Mount a network storage by its ID (it needs the storage's cluster)
  novita.cloud.novita_endpoint:
    name: llama-chat
    cluster_id: cluster-1
    volume_mounts:
      - type: network
        id: ns-1
        mount_path: /models

- name: Pull a private image with a registry credential, and mount a network storage, both by name
  novita.cloud.novita_endpoint:
    name: llama-chat
    image:
      image: ghcr.io/example-team/llm-server:2.1
      auth_name: ghcr-team
    volume_mounts:
      - type: network
        storage_name: models
        mount_path: /models

- name: Rename the endpoint by its ID
  novita.cloud.novita_endpoint:
    id: "{{ chat.endpoint.id }}"
    name: llama-chat-v2

- name: Move to another product; the API cannot change it, so delete and create anew (the ID changes)
  novita.cloud.novita_endpoint:
    name: llama-chat-v2
    product_id: "2"
    recreate: true
  register: moved

- name: Set the connection once for every module of the collection
  module_defaults:
    group/novita.cloud.novita:
      api_key: "{{ vault_novita_api_key }}"
      api_base_url: "{{ novita_api_base_url | default('https://api.novita.ai') }}"
  block:
    - name: Check what scaling down would change, without changing anything
      novita.cloud.novita_endpoint:
        id: "{{ moved.endpoint.id }}"
        worker_config:
          max_num: 2
      check_mode: true
      diff: true

- name: Delete the endpoint
  novita.cloud.novita_endpoint:
    name: llama-chat-v2
    state: absent
"""

RETURN = r"""
action:
  description:
    - What the module did to the endpoint, or in check mode would do. V(recreated) is a create and a delete, see O(recreate).
    - V(none) when the module failed before its write (a problem found, a write refused); nothing was done, and RV(planned)
      says what it was about to do. When it failed after a write, the action that was done, and C(changed) is V(true).
    - After a refused O(recreate) that had deleted the old endpoint first, V(recreated) when the old endpoint was created
      again (see RV(restored_endpoint_id)), V(deleted) when that failed too (see RV(lost_endpoint)).
  returned: always
  type: str
  choices: [created, updated, recreated, deleted, unchanged, none]
  sample: updated
planned:
  description: When RV(action) is V(none), what the module was about to do when it failed.
  returned: when the module failed before its write
  type: str
  choices: [created, updated, recreated, deleted]
  sample: recreated
endpoint:
  description:
    - The endpoint as the API now has it, after the change and the wait.
    - In check mode, the endpoint as it would be; RV(endpoint.id) is V(null) for an endpoint that would be created.
    - After a delete, the endpoint as it was before; V({}) when there was nothing to delete.
    - Keys are snake_case and numbers are integers. User data such as environment variable names is
      returned verbatim. Values of O(secret_envs) are masked.
  returned: always
  type: dict
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
duplicate_deleted_id:
  description:
    - When another run created an endpoint with the same name at the same time, and that one was created first, the ID of
      the endpoint this run created and deleted again; RV(endpoint) is then the other run's endpoint.
  returned: when a concurrent create of the same name was resolved this way
  type: str
  sample: 9c0e7b1d4a553f2a
replaced_endpoint_id:
  description: With O(recreate), the ID of the endpoint that was deleted to create the new one.
  returned: when an endpoint was recreated
  type: str
  sample: 3f2a9c0e7b1d4a55
restored_endpoint_id:
  description:
    - With O(recreate), when the old endpoint had to be deleted first (the new one keeps its O(app_name)) and the API then
      refused the create, the ID of the old endpoint, created again with every setting it had. The module still fails.
  returned: when a refused recreate was undone
  type: str
  sample: 9d41c7a2e05b3f68
lost_endpoint:
  description:
    - With O(recreate), when the old endpoint was deleted, its replacement refused and restoring it failed too, the old
      endpoint's complete settings (in the shape of RV(endpoint), secret environment values masked), to create it again by hand.
  returned: when a refused recreate could not be undone
  type: dict
  sample: {"name": "llama-chat", "app_name": "llama-chat", "product_id": "1", "envs": {"HF_TOKEN": "********"}}
diff:
  description: The managed settings before and after, with secret environment values masked.
  returned: when diff mode is on
  type: dict
  contains:
    before_header:
      description: The endpoint the diff is about, C(endpoint NAME (ID)), without the ID for an endpoint not created yet.
      type: str
      sample: endpoint llama-chat (3f2a9c0e7b1d4a55)
    after_header:
      description: The same for the endpoint after the task, with its new name when the task renames it.
      type: str
      sample: endpoint llama-chat (3f2a9c0e7b1d4a55)
    before:
      description:
        - The settings before the task; V({}) for an endpoint being created.
        - A masked environment value that the task removes reads C(********) followed by the word C(removed) in parentheses.
      type: dict
    after:
      description:
        - The settings after the task; V({}) for an endpoint being deleted.
        - A masked environment value that the task adds or changes reads C(********) followed by the word C(added) or
          C(changed) in parentheses.
        - When the endpoint exists and its environment variables change, C(env_changes) maps the name of every variable that
          differs, masked or not, to V(added), V(removed) or V(changed).
      type: dict
      sample: {"worker_config": {"max_num": 3}, "envs": {"LOG_LEVEL": "debug", "HF_TOKEN": "******** (changed)"},
               "env_changes": {"LOG_LEVEL": "changed", "HF_TOKEN": "changed"}}
errors:
  description:
    - Every problem the module found before its first write, one message each, each naming its option. The task's own
      problems (values, lengths), names that do not resolve, create-only changes without O(recreate) and values outside the
      account's limits are all reported together; nothing was written.
  returned: when the module fails because of the task's options
  type: list
  elements: str
  sample:
    - "product_id: endpoint 3f2a9c0e7b1d4a55 cannot change product_id from '1' to '2': it is set at creation only; set recreate=true to
      delete the endpoint and create it anew"
    - "worker_config.max_num: 60 is outside the allowed range 0 to 50 (account limits minWorkerNum/maxWorkerNum)"
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
endpoint_id:
  description: The ID of the endpoint a failed run had already created, updated or deleted, so that nothing done goes unreported.
  returned: when the module fails after a write
  type: str
  sample: 3f2a9c0e7b1d4a55
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
from ansible_collections.novita.cloud.plugins.module_utils.converge import EndpointConverger
from ansible_collections.novita.cloud.plugins.module_utils.endpoint import endpoint_argument_spec, validate_options
from ansible_collections.novita.cloud.plugins.module_utils.endpoint_api import EndpointAPI
from ansible_collections.novita.cloud.plugins.module_utils.module import NovitaModule, run_module
from ansible_collections.novita.cloud.plugins.module_utils.secrets import endpoint_secret_values


def main():
    argument_spec = novita_argument_spec()
    argument_spec.update(endpoint_argument_spec())
    # secret_envs given as a JSON or key=value string: its values are hidden as they are after conversion.
    module = NovitaModule(
        argument_spec=argument_spec,
        required_one_of=[("id", "name")],
        supports_check_mode=True,
        secret_values=endpoint_secret_values,
    )
    # The task's own problems are reported together with the ones the reads find (limits, create-only changes).
    problems = validate_options(module.params)
    run_module(module, lambda client: EndpointConverger(EndpointAPI(client), module.params, check_mode=module.check_mode,
                                                        want_diff=module._diff, problems=problems), problems)


if __name__ == "__main__":
    main()
