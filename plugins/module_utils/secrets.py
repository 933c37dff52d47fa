# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secret option values hidden as the module ends up with them, not only as the task gave them.

Ansible chooses the values to hide (``no_log``) before it converts the options: a ``dict`` option such as
``secret_envs`` given as a JSON or ``key=value`` string hides that whole string, and the values converted
from it are then shown in clear wherever the module's parameters are, the invocation printed at ``-vvv``
and written to the log file among them. ``SecretsModule`` hides the converted values too.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections.abc import Mapping

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.validation import check_type_dict


def secret_strings(value):
    """The texts to hide for a secret value, as Ansible chooses them for a ``no_log`` option: every non-empty string and
    number in it (the values of a dict, the items of a list, at any depth), as text. ``None`` and booleans are not hidden:
    hiding ``true`` would mask that word everywhere in the output."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return [value] if value else []
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [str(value)]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in secret_strings(item)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [text for item in value for text in secret_strings(item)]
    return [str(value)]


def register_secret_values(module, values):
    """Hide every text of ``values`` (see ``secret_strings``) in everything ``module`` returns and logs from now on."""
    module.no_log_values.update(text for value in values for text in secret_strings(value))


def dict_values(value):
    """The values of a ``dict`` option as the module gets them: a JSON or ``key=value`` string is converted as Ansible
    converts it; a string that does not convert is itself the value (Ansible refuses it, and hides it already)."""
    if isinstance(value, (str, bytes)):
        try:
            value = check_type_dict(value)
        except (TypeError, ValueError):
            return [value]
    if isinstance(value, Mapping):
        return list(value.values())
    return [] if value is None else [value]


def endpoint_secret_values(params):
    """The secret values of an endpoint declaration (``secret_envs``), or of a list of them; a non-dict item is skipped."""
    if isinstance(params, list):
        return [value for item in params for value in endpoint_secret_values(item)]
    if not isinstance(params, Mapping):
        return []
    return dict_values(params.get("secret_envs"))


class SecretsModule(AnsibleModule):
    """An AnsibleModule that also hides the secret values of its options after Ansible converted them.

    ``secret_values`` (keyword): a function of the module's parameters returning its secret values (see ``secret_strings``).
    They are registered when the module has parsed its options, before it logs its invocation, and again before any
    failure, so that a task refused for another option does not print them either.
    """

    def __init__(self, *args, **kwargs):
        self._secret_values = kwargs.pop("secret_values")
        super(SecretsModule, self).__init__(*args, **kwargs)
        self.hide_secrets()

    def hide_secrets(self):
        """Register the secret values the parameters hold now (the parameters may be incomplete when the task is refused)."""
        params = getattr(self, "params", None)
        if isinstance(params, Mapping):
            register_secret_values(self, self._secret_values(params))

    def _log_invocation(self):
        # The invocation goes to the host's log (syslog or the journal) at the end of the argument parsing.
        self.hide_secrets()
        super(SecretsModule, self)._log_invocation()

    def fail_json(self, msg=None, **kwargs):  # pylint: disable=arguments-differ
        self.hide_secrets()
        super(SecretsModule, self).fail_json(msg=msg, **kwargs)
