#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: novita_endpoint_fleet
short_description: Converge many Novita AI serverless GPU endpoints in one task
version_added: 0.1.0
description:
  - Declares a list of Novita serverless endpoints by name and converges each of them exactly as
    M(novita.cloud.novita_endpoint) would (same options, same validation, same complete update
    bodies, same check mode, diff and secret masking), at the API cost of one task instead of one per endpoint.
  - The endpoint list is read once for the whole fleet and the account's parameter limits at most once,
    only when some endpoint is to be created or updated. An unchanged fleet costs the list pages and nothing else.
  - Every declaration is checked before any write. Names declared twice and the fleet's own options are checked
    first, before any request. Then, against the one list and limits read, each declaration's options together with
    values outside the limits, create-only fields that would change without O(endpoints[].recreate), and names that
    several existing endpoints share; all the problems of a declaration are listed at once, each named by its path
    in the task, for example C(endpoints[2].worker_config.max_num). If any declaration has a problem, nothing is
    written and the message lists the declarations that were not attempted; their results say RV(endpoints[].action=none) and, in
    RV(endpoints[].planned), what they would have done.
  - An unknown option or a value of the wrong type inside an item is named by its item too, for example
    C(endpoints[1].worker_config.max_nmu).
  - The writes and waits then run on up to O(concurrency) threads. If one endpoint fails, the others are
    still converged; the module then fails with a message naming every failed endpoint, the endpoints that
    were written (and how) and the ones left unchanged, and still returns every endpoint's result.
  - With O(exclusive=true), endpoints whose name matches O(exclusive_match) and that are not declared
    are deleted. A pattern that matches every name, such as an empty one, is refused before any request.
author:
  - novita.cloud maintainers (@novita-cloud)
extends_documentation_fragment:
  - novita.cloud.novita
attributes:
  check_mode:
    description: Makes the same reads as a real run and no write; reports the exact C(changed) and every would-be endpoint.
    support: full
  diff_mode:
    description: Returns one diff per changed endpoint, with secret environment values masked.
    support: full
options:
  endpoints:
    description:
      - The endpoints to converge, each declared by its name with the options of M(novita.cloud.novita_endpoint)
        (except O(novita.cloud.novita_endpoint#module:id), O(novita.cloud.novita_endpoint#module:wait) and
        O(novita.cloud.novita_endpoint#module:wait_timeout), which are O(wait) and O(wait_timeout) here, for all).
      - Results come back in this order in RV(endpoints).
      - May be empty, for example to delete every endpoint in scope with O(exclusive).
    type: list
    elements: dict
    required: true
    suboptions:
      # BEGIN generated endpoint options: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here
      state:
        description: V(present) creates or updates the endpoint, V(absent) deletes it (nothing happens when it does not exist).
        type: str
        choices: [present, absent]
        default: present
      name:
        description:
          - The endpoint's name; it must not be empty. The endpoint is looked up by this name.
          - The name must be unique in the account; if several endpoints have it, this declaration fails before any
            write of the fleet and the error lists their IDs. If none has it, the endpoint is created.
          - Each name may be declared once in O(endpoints).
          - To rename an endpoint or manage one by its ID, use M(novita.cloud.novita_endpoint).
          - At most 220 characters.
          - Required to create an endpoint.
        type: str
        required: true
      product_id:
        description:
          - The ID of the serverless product (GPU type) the workers run on, for example V("1").
          - Required to create an endpoint.
          - Set at creation only, see O(endpoints[].recreate).
        type: str
      app_name:
        description:
          - The application name, part of the endpoint's URL. The API uses the endpoint ID when it is not set.
          - Lowercase letters, digits and hyphens only; anything else is refused before any request.
          - App names are unique per account. A name another endpoint already uses is refused by the API
            (C(SERVERLESS_APP_NAME_IS_EXIST)); the module then fails naming O(endpoints[].app_name) and the value, and
            nothing is created.
          - Set at creation only, see O(endpoints[].recreate).
        type: str
      rootfs_size:
        description:
          - Size of each worker's root file system in GB.
          - Defaults to V(100) when an endpoint is created.
          - Checked against the account's limits C(minRootfsSize) and C(maxRootfsSize) before any write.
          - Set at creation only, see O(endpoints[].recreate).
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
              - It must follow the Docker reference grammar, C([registry[:port]/]repository[:tag][@digest]) with a
                lowercase repository; anything else (a space, an empty tag, a trailing C(/)) is refused, and nothing is
                written.
              - At most 511 characters.
              - Required to create an endpoint.
            type: str
          auth_id:
            description:
              - The ID of the registry credential used to pull a private image.
              - An empty string removes the credential.
              - Mutually exclusive with O(endpoints[].image.auth_name).
              - At most 255 characters.
            type: str
          auth_name:
            description:
              - The name of the registry credential used to pull a private image, as an alternative to
                O(endpoints[].image.auth_id).
              - The module reads the account's registry credentials (one request, only when this option is set) and uses
                the ID of the one credential with this name. No credential or several with the name is an error, before
                any write.
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
              - The minimum number of workers; not more than O(endpoints[].worker_config.max_num).
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
              - The HTTP path the platform probes on O(endpoints[].port).
              - Defaults to V(/health) when an endpoint is created.
            type: str
      envs:
        description:
          - Environment variables, name to value. Values are sent as strings (V(true)/V(false) for booleans).
          - Their values are shown in the output and the diff; put secrets in O(endpoints[].secret_envs). The values of
            variables the task does not list here are masked in the output and the diff.
          - Names are kept exactly as written, never case-converted.
          - See O(endpoints[].purge_envs) for variables the endpoint has that are not listed here.
        type: dict
      secret_envs:
        description:
          - Environment variables whose values are secret, name to value.
          - Their values never appear in the output, the logs or the diff, where they are shown as C(********) (in the
            diff followed by the word C(added), C(changed) or C(removed) in parentheses when the task adds, changes or
            removes the variable). They are still compared with the endpoint's values, so a rerun with the same values
            reports no change.
          - A name may not be in both O(endpoints[].envs) and O(endpoints[].secret_envs).
        type: dict
      purge_envs:
        description:
          - Used when O(endpoints[].envs) or O(endpoints[].secret_envs) is given. V(true) makes the endpoint's variables
            exactly the union of O(endpoints[].envs) and O(endpoints[].secret_envs); V(false) only adds and changes
            variables and keeps the others.
          - When neither O(endpoints[].envs) nor O(endpoints[].secret_envs) is given, the endpoint's variables are kept.
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
                O(endpoints[].volume_mounts[].storage_name); local volumes take neither.
              - A network volume given by ID also needs O(endpoints[].cluster_id).
            type: str
          storage_name:
            description:
              - The name of the network storage of a V(network) volume, as an alternative to
                O(endpoints[].volume_mounts[].id).
              - The module looks the name up in the account's network storages (the list pages filtered by name, only
                when this option is set) and uses the ID of the one storage with exactly this name. No storage or
                several with the name is an error, before any write.
              - The storage's cluster fills O(endpoints[].cluster_id) when the task leaves it out; a different
                O(endpoints[].cluster_id) is an error.
            type: str
          mount_path:
            description:
              - Where the volume is mounted in the container.
              - At most 255 characters.
            type: str
            required: true
      cluster_id:
        description:
          - The cluster the workers run in. Required with network volumes given by O(endpoints[].volume_mounts[].id); it
            must be the network storage's cluster. With O(endpoints[].volume_mounts[].storage_name) it defaults to the
            storage's cluster.
          - Left out, the endpoint's current cluster is kept.
          - At most 255 characters.
        type: str
      recreate:
        description:
          - What to do when O(endpoints[].product_id), O(endpoints[].app_name) or O(endpoints[].rootfs_size) differs
            from the endpoint's value; the API cannot change these.
          - V(false) fails before any write and names the field.
          - V(true) replaces the endpoint with a new one that has the endpoint's other settings and the task's options.
            The new endpoint has a new ID, returned in RV(endpoints[].id).
          - The replacement is created first and the old endpoint deleted after it, so a create the API refuses leaves
            the old endpoint untouched.
          - When the new endpoint keeps the old one's O(endpoints[].app_name) (app names are unique), the old endpoint
            is deleted first and its deletion waited for (up to O(wait_timeout)), even with O(wait=false); if the API
            then refuses the create, the old endpoint is created again with every setting it had (a new ID, returned as
            C(restored_endpoint_id)) and the task fails; if even that fails, C(lost_endpoint) holds its complete
            settings.
        type: bool
        default: false
      # END generated endpoint options
  exclusive:
    description:
      - V(true) deletes every existing endpoint whose name matches O(exclusive_match) and that is not declared
        in O(endpoints) (whatever its O(endpoints[].state)).
      - B(Dangerous:) an endpoint another playbook or person created in that scope is deleted too. Choose
        O(exclusive_match) so that it only covers the endpoints this task owns, and try the task with
        C(--check --diff) first; RV(deleted) lists what is (or would be) deleted.
      - A scope that covers every name (an empty O(exclusive_match), V(.*)...) is refused before any request, see
        O(exclusive_match).
      - These deletions run only when every declaration passed the checks before any write.
    type: bool
    default: false
  exclusive_match:
    description:
      - A Python regular expression matched at the start of each endpoint's name (C(re.match)); required with O(exclusive=true).
      - For example V(team-a-) limits O(exclusive) to names that start with C(team-a-), and V((team-a-|team-b-\)) to the
        names of two teams; there is no default scope.
      - With O(exclusive=true), a pattern that matches every endpoint name is refused before any request, naming the
        option and the value. That is an empty pattern (for example an unset variable's default), V(.*), V(^), V(.+),
        V((?:\)), a pattern with an empty alternative such as V(team-a-|), or one that excludes some names only, such as
        V((?!team-b-\)). A pattern counts as matching every name when it matches each of C(a), C(Z), C(0), C(-) and
        C(zz-other-team-9), names that no team's pattern should cover. To delete undeclared endpoints of several teams,
        list their prefixes.
      - Unnamed endpoints have the empty name, which only patterns that also match an empty string cover.
    type: str
  concurrency:
    description:
      - How many endpoints are written and waited for at the same time, 1 to 16.
      - Reads for the plan are not affected; they are one list and at most one limits read.
    type: int
    default: 4
  wait:
    description:
      - After a create or update, poll each changed endpoint until it is ready; after a delete,
        until it no longer exists. Ready means what it means for O(novita.cloud.novita_endpoint#module:wait), that is
        C(serving) with no error and the new settings read back (a stale C(serving) right after an update does not count),
        or, for an endpoint with O(endpoints[].worker_config.min_num=0), the same settled state for three reads.
      - Polls start one second apart and back off to five seconds.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for each endpoint with O(wait). When it runs out for an endpoint, that endpoint fails,
        naming its ID and last state; the others go on.
    type: int
    default: 600
notes:
  - Requests per run, for N declared endpoints of which C changed and D deletions; P is the number of pages
    of the endpoint list (100 endpoints a page). An unchanged fleet costs P list reads, whatever N is
    (a loop of M(novita.cloud.novita_endpoint) by name costs N times P). A fleet with changes adds one
    limits read (when something is created or updated), one write per change (two for a recreate) and the wait
    polls of the changed endpoints. Each existing endpoint to update or recreate is also read by its ID, once for the
    plan and once more right before its write, since its complete replacement is built from that read, never from the list,
    which may lag behind a recent change. Check mode makes the same reads as the plan and no write.
  - After a declaration's write, a lookup of its name (if the converger needs one) reads the list again,
    since the shared list no longer tells its state.
  - The endpoint list is read once at the start; an endpoint created by someone else after that read and
    before the writes is not seen (as with M(novita.cloud.novita_endpoint)).
  - Without O(wait), RV(endpoints[].endpoint) after a create or update is the endpoint as the module sent it, not re-read.
  - All threads share one pace for the API. When the API answers HTTP 429 (rate limited), every thread holds until the
    C(Retry-After) time has passed and then the requests resume spaced out, speeding up again as they succeed, instead of
    every thread retrying on its own.
  - Whatever goes wrong with one endpoint, even an unexpected error after its writes, is reported in its own entry of
    RV(endpoints) (with what was already done) while the others are still converged.
  - Concurrent creates of one name by two runs converge to one endpoint, as with M(novita.cloud.novita_endpoint).
seealso:
  - module: novita.cloud.novita_endpoint
    description: Manage one endpoint, also by ID.
"""

EXAMPLES = r"""
- name: Declare three endpoints in one task
  novita.cloud.novita_endpoint_fleet:
    endpoints:
      - name: team-a-chat
        product_id: "1"
        image:
          image: vllm/vllm-openai:latest
          command: --model meta-llama/Llama-3.1-8B-Instruct
        port: 8000
        worker_config:
          max_num: 2
        secret_envs:
          HF_TOKEN: "{{ vault_hf_token }}"
      - name: team-a-embed
        product_id: "1"
        image:
          image: ghcr.io/huggingface/text-embeddings-inference:latest
        port: 80
      - name: team-a-old
        state: absent
  register: fleet

- name: Show each endpoint's URL
  ansible.builtin.debug:
    msg: "{{ fleet.endpoints | map(attribute='endpoint.url') | list }}"

- name: Scale every endpoint of a list to 4 workers; all their other settings are kept
  novita.cloud.novita_endpoint_fleet:
    endpoints: "{{ team_a_endpoints | map('ansible.builtin.combine', {'worker_config': {'max_num': 4}}) | list }}"
    concurrency: 8
    wait: false
  vars:
    team_a_endpoints:
      - name: team-a-chat
      - name: team-a-embed

- name: Preview making team-a-* exactly the declared endpoints (deletes undeclared team-a-* endpoints)
  novita.cloud.novita_endpoint_fleet:
    endpoints:
      - name: team-a-chat
      - name: team-a-embed
    exclusive: true
    exclusive_match: team-a-
  check_mode: true
  diff: true
  register: preview

- name: Show what would be deleted
  ansible.builtin.debug:
    msg: "{{ preview.deleted | map(attribute='name') | list }}"
"""

RETURN = r"""
endpoints:
  description:
    - One result per item of O(endpoints), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The declared name.
      type: str
      sample: team-a-chat
    id:
      description:
        - The ID of the endpoint this declaration is about, as it exists after the task; V(null) for an endpoint that would
          be created (check mode), that was not created, or that does not exist.
        - After a recreate, the new endpoint's ID. After a refused recreate that had deleted the old endpoint, the ID under
          which the old endpoint was created again (RV(endpoints[].restored_endpoint_id)), or V(null) when that failed too
          (see RV(endpoints[].lost_endpoint)).
        - For a declaration that was not attempted or failed its checks (RV(endpoints[].action) is V(none) and
          RV(endpoints[].changed) false), the existing endpoint's ID, to which nothing was written.
      type: str
      sample: 3f2a9c0e7b1d4a55
    changed:
      description: Whether this endpoint was (or in check mode would be) changed.
      type: bool
      sample: true
    action:
      description:
        - What the module did to this endpoint, would do in check mode, or was doing when RV(endpoints[].failed) is true;
          the same values as RV(novita.cloud.novita_endpoint#module:action).
        - V(unchanged) when nothing was needed.
        - V(none) when a change was needed and not made, RV(endpoints[].planned) saying what it was to be, for a
          declaration that was not attempted because another one failed before any write (RV(endpoints[].msg) then says
          so), for a declaration that failed its own checks, and for one whose write was refused or that failed before its
          write. RV(endpoints[].changed) is then false.
        - After a refused recreate that had deleted the old endpoint, V(recreated) when the old endpoint was created again
          (see RV(endpoints[].restored_endpoint_id)), V(deleted) when that failed too (see RV(endpoints[].lost_endpoint)).
      type: str
      choices: [created, updated, recreated, deleted, unchanged, none]
      sample: updated
    planned:
      description:
        - With RV(endpoints[].action=none), what the module was to do to this endpoint and did not do.
        - Left out when the declaration failed before that was known, for example when several endpoints have its name.
      type: str
      choices: [created, updated, recreated, deleted]
      returned: when RV(endpoints[].action) is V(none) and what was to be done is known
      sample: updated
    endpoint:
      description:
        - The endpoint, in the shape of RV(novita.cloud.novita_endpoint#module:endpoint).
        - As the API has it after the change and the wait; in check mode as it would be; after a delete, as it was before;
          V({}) when there is none. Values of O(endpoints[].secret_envs) are masked.
        - With RV(endpoints[].action=none), the endpoint as it is, not as it would have been; V({}) after a refused recreate
          that had deleted the old endpoint.
      type: dict
      sample: {"id": "3f2a9c0e7b1d4a55", "name": "team-a-chat", "state": {"state": "serving", "error": "", "message": ""},
               "worker_config": {"min_num": 0, "max_num": 2, "free_timeout": 300, "max_concurrent": 1, "gpu_num": 1,
                                 "request_timeout": null, "cuda_version": null}}
    failed:
      description: Whether converging this endpoint failed.
      type: bool
      sample: false
    msg:
      description: Why this endpoint failed, or why it was not attempted; empty otherwise.
      type: str
      sample: ""
    errors:
      description:
        - The problems found in this declaration before any write, each named by its path in the task, for example
          C(endpoints[2].worker_config.max_num). Its own options, names that do not resolve, create-only changes and values
          outside the account's limits are all listed; the fleet then writes nothing.
      type: list
      elements: str
      returned: when this declaration failed on its options
      sample:
        - "endpoints[2].worker_config.max_num: 60 is outside the allowed range 0 to 50 (account limits minWorkerNum/maxWorkerNum)"
    warnings:
      description: Warnings about this endpoint (also shown as the task's warnings, prefixed with the name).
      type: list
      elements: str
      returned: when there are any
      sample:
        - "endpoint 9c0e7b1d4a553f2a is also named team-a-chat: another run created it at the same time, after this one;
          this run keeps 3f2a9c0e7b1d4a55 and the other run deletes its own"
    replaced_endpoint_id:
      description: With O(endpoints[].recreate), the ID of the endpoint that was deleted to create the new one.
      type: str
      returned: when an endpoint was recreated
      sample: 3f2a9c0e7b1d4a55
    restored_endpoint_id:
      description:
        - With O(endpoints[].recreate), when the old endpoint was deleted and its replacement refused, the ID under which the
          old endpoint was created again with its complete settings.
      type: str
      returned: when a refused recreate restored the old endpoint
      sample: 5d1e2f3a4b6c7d8e
    lost_endpoint:
      description:
        - With O(endpoints[].recreate), when the old endpoint was deleted, its replacement refused and restoring it failed too,
          the old endpoint's complete declaration (secret values masked), to create it again from.
      type: dict
      returned: when a refused recreate could not restore the old endpoint
    duplicate_deleted_id:
      description:
        - When another run created an endpoint with the same name at the same time, and that one was created first, the ID
          of the endpoint this run created and deleted again, as in
          RV(novita.cloud.novita_endpoint#module:duplicate_deleted_id).
      type: str
      returned: when a concurrent create of the same name was resolved this way
      sample: 9c0e7b1d4a553f2a
    failure:
      description: Details of the failed API request, as in M(novita.cloud.novita_endpoint).
      type: dict
      returned: when this endpoint failed on an API request
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
          description: A short, single-line excerpt of the response body when it was not a JSON error; an HTML error page is
            reduced to its title.
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
deleted:
  description:
    - With O(exclusive), one result per undeclared endpoint in scope that was (or in check mode would be) deleted,
      with the same keys as RV(endpoints); their C(action) is V(deleted), or V(none) with C(planned) V(deleted) when
      nothing was deleted because a declaration failed before any write or the API refused the delete.
    - Every environment variable value of these endpoints is masked, since nothing declares which are secret.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "team-a-old", "id": "77aa01b2c3d4e5f6", "changed": true, "action": "deleted", "endpoint": {}, "failed": false, "msg": ""}]
errors:
  description:
    - When the task itself is refused before any request, every problem found, one message each. An option inside an item
      of O(endpoints) is named by its path, for example C(endpoints[1].worker_config.max_nmu) for an unknown option.
  returned: when the task's options are refused before any request
  type: list
  elements: str
  sample:
    - "endpoints[1].worker_config.max_nmu: not an option of worker_config; worker_config takes cuda_version, free_timeout, gpu_num,
      max_concurrent, max_num, min_num, request_timeout"
diff:
  description:
    - One entry per changed or deleted endpoint, with secret environment values masked.
  returned: when diff mode is on
  type: list
  elements: dict
  contains:
    before_header:
      description: Which endpoint, by name and ID.
      type: str
      sample: endpoint team-a-chat (3f2a9c0e7b1d4a55)
    after_header:
      description: Which endpoint, by name and ID.
      type: str
      sample: endpoint team-a-chat (3f2a9c0e7b1d4a55)
    before:
      description: The managed settings before the task; V({}) for an endpoint being created.
      type: dict
    after:
      description:
        - The managed settings after the task; V({}) for an endpoint being deleted.
        - Masked values and C(env_changes) say which environment variables are added, removed or changed, as in
          RV(novita.cloud.novita_endpoint#module:diff.after).
      type: dict
failure:
  description: Details of a failed API request that stopped the whole run (reading the endpoint list).
  returned: when the list read fails
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
from ansible_collections.novita.cloud.plugins.module_utils.fleet import FleetConverger, FleetModule, fleet_argument_spec, in_item, validate_fleet
from ansible_collections.novita.cloud.plugins.module_utils.module import run_module


def main():
    argument_spec = novita_argument_spec()
    argument_spec.update(fleet_argument_spec())
    module = FleetModule(
        argument_spec=argument_spec,
        required_if=[("exclusive", True, ("exclusive_match",))],
        supports_check_mode=True,
    )
    errors, item_problems = validate_fleet(module.params)
    if errors:
        # The fleet cannot be planned: every problem found in the task is reported now, before any request.
        errors = [str(error) for error in errors] + [in_item(index, problem) for index in sorted(item_problems) for problem in item_problems[index]]
        module.fail_json(msg=errors[0] if len(errors) == 1 else "%d problems, nothing was sent: %s" % (len(errors), "; ".join(errors)),
                         errors=errors, changed=False, endpoints=[], deleted=[])
    run_module(module, lambda client: FleetConverger(client, module.params, check_mode=module.check_mode, want_diff=module._diff,
                                                     problems=item_problems),
               partial=dict(changed=False, endpoints=[], deleted=[]), failure_message=lambda fleet: fleet.failure_message())


if __name__ == "__main__":
    main()
