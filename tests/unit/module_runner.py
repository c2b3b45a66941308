from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest.mock import patch

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule


class ModuleExit(Exception):
    """A module's main() ended: `result` is what it returned, `failed` whether through fail_json."""

    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result)
        self.result = result
        self.failed = failed


def _exit_json(self, **result):
    raise ModuleExit(result, False)


def _fail_json(self, **result):
    raise ModuleExit(result, True)


def run_module(module, args, check=False):
    """(failed, result) of `module.main()` run with `args` (in check mode when `check`), in this
    process: exit_json and fail_json, ours (AnsibleModule) and amazon.aws's (AnsibleAWSModule),
    raise instead of ending it."""
    module_args = dict(args, _ansible_check_mode=True) if check else dict(args)
    with patch.object(AnsibleModule, "exit_json", _exit_json), patch.object(AnsibleModule, "fail_json", _fail_json), \
            patch.object(AnsibleAWSModule, "exit_json", _exit_json), patch.object(AnsibleAWSModule, "fail_json", _fail_json), \
            patch_module_args(module_args):
        with pytest.raises(ModuleExit) as ended:
            module.main()
    return ended.value.failed, ended.value.result
