# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: gzip_b64
short_description: Text gzipped, then base64-encoded in lines of 76 characters
version_added: 0.1.0
description:
  - Compresses UTF-8 text with gzip (level 9, no file name, time stamp 0) and encodes it in base64,
    76 characters a line, for C(base64 -d | gzip -dc) on the other side.
  - The C(web_ami) role packs the builder's user data with it (EC2 takes at most 16 KB of user data).
    The image fingerprint is taken over the text before packing, so that another zlib on another
    controller does not make another image.
options:
  _input:
    description: The text.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Pack a script for a 16 KB user data
  ansible.builtin.set_fact:
    packed: |
      #!/usr/bin/env bash
      base64 -d <<'EOF' | gzip -dc | bash
      {{ script | immersionday.ha_web.gzip_b64 }}
      EOF
"""

RETURN = r"""
_value:
  description: The base64 text, lines of 76 characters, without a final newline.
  type: str
"""

import base64
import gzip


def gzip_b64(text):
    data = gzip.compress(str(text).encode("utf-8"), compresslevel=9, mtime=0)
    return base64.encodebytes(data).decode("ascii").rstrip("\n")


class FilterModule(object):
    def filters(self):
        return {"gzip_b64": gzip_b64}
