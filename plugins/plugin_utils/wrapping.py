# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the controller-side plugins patch in mitogen and ansible-core is wrapped with
functools.wraps, so that patching again wraps the original, not the previous wrapper."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def original(function):
    """The function a wrapper of ours wraps, or the function itself. One level only (unlike
    inspect.unwrap): a wrapper the patched library put there itself stays."""
    return getattr(function, "__wrapped__", function)
