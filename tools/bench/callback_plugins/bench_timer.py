# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Callback for tools/bench.py: writes each task's wall time (start of the task to start of the next) as JSON."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: Per-task wall times for tools/bench.py
description:
  - Writes a JSON list of {name, seconds} to the file named by the environment variable E(NOVITA_BENCH_TIMES).
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED=bench_timer
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._tasks = []

    def _close_last(self, now):
        if self._tasks and self._tasks[-1]["seconds"] is None:
            self._tasks[-1]["seconds"] = now - self._tasks[-1]["started"]

    def v2_playbook_on_task_start(self, task, is_conditional):
        now = time.monotonic()
        self._close_last(now)
        self._tasks.append({"name": task.get_name(), "started": now, "seconds": None})

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        self._close_last(time.monotonic())
        path = os.environ.get("NOVITA_BENCH_TIMES")
        if path:
            with open(path, "w") as handle:
                json.dump([{"name": t["name"], "seconds": t["seconds"]} for t in self._tasks], handle)
