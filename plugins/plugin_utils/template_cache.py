# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compiled Jinja templates and expressions, kept on disk between the forked workers of a run and
between runs.

ansible-core compiles every template string each time it is templated and keeps nothing: the
linear strategy forks one worker per task and host, so each worker parses, generates and compiles
its task's templates again (a third of a worker's CPU in a no-op rerun of the lab). This cache
keeps each compiled code object in a file named by a digest of everything that shapes the code:
whether it is a template or an expression, its text, the environment's syntax settings and
extensions, ansible-core's escaping and embedded-template settings, and the versions of Python,
Jinja and ansible-core (in the directory name). The code object is then loaded as Jinja's own
bytecode cache loads one. Errors are not cached: a template that fails to compile fails as before.

The directory is ${HA_WEB_TEMPLATE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/immersionday.ha_web/templates}.
It must belong to the user and be writable by no one else, since its files are code that runs;
otherwise, and when HA_WEB_TEMPLATE_CACHE is set empty, nothing is cached.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import hashlib
import marshal
import os
import stat
import sys
import tempfile
import threading

import jinja2
from jinja2.environment import TemplateExpression

from ansible.release import __version__ as ANSIBLE_VERSION
from ansible_collections.immersionday.ha_web.plugins.plugin_utils.wrapping import original

try:
    from ansible._internal._templating import _jinja_bits
except ImportError:  # ansible-core before 2.19 templates differently: nothing to cache here
    _jinja_bits = None

# The parts of ansible-core's (internal) templating that the cache key and the patch rely on.
NEEDS = ("AnsibleEnvironment", "_TemplateCompileContext", "_TEMPLATE_OVERRIDE_FIELD_NAMES", "_TemplateConfig")

ENVIRONMENT_VARIABLE = "HA_WEB_TEMPLATE_CACHE"


def default_directory(environ=None):
    environ = os.environ if environ is None else environ
    if ENVIRONMENT_VARIABLE in environ:
        return environ[ENVIRONMENT_VARIABLE] or None
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "immersionday.ha_web", "templates")


def versioned(directory):
    return os.path.join(directory, "%s-jinja%s-ansible%s" % (sys.implementation.cache_tag, jinja2.__version__, ANSIBLE_VERSION))


def private_directory(path):
    """The directory, created if need be, when only its owner (this user) can write to it; else None."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.stat(path)
    except OSError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return path


class CodeCache:
    """Code objects by key: this process's dict, then the directory's files."""

    def __init__(self, directory):
        self.directory = directory
        self.memory = {}

    def get(self, key, compile_code):
        code = self.memory.get(key)
        if code is None:
            code = self._load(key)
            if code is None:
                code = compile_code()
                self._store(key, code)
            self.memory[key] = code
        return code

    def _load(self, key):
        try:
            with open(os.path.join(self.directory, key), "rb") as handle:
                return marshal.loads(handle.read())
        except (OSError, EOFError, ValueError, TypeError):  # absent, or cut short by a crash
            return None

    def _store(self, key, code):
        try:
            descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".")
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(marshal.dumps(code))
            os.replace(temporary, os.path.join(self.directory, key))  # whole or not at all, for concurrent workers
        except OSError:
            pass  # a full or read-only disk costs only the compile


def cache_key(environment, kind, source):
    compile_context = _jinja_bits._TemplateCompileContext.current(optional=True)
    shape = (
        kind,
        str(source),
        tuple(getattr(environment, name) for name in _jinja_bits._TEMPLATE_OVERRIDE_FIELD_NAMES),
        tuple(sorted(environment.extensions)),
        bool(compile_context and compile_context.escape_backslashes),
        bool(_jinja_bits._TemplateConfig.allow_embedded_templates),
    )
    return hashlib.sha256(repr(shape).encode("utf-8", "surrogatepass")).hexdigest()


def install(directory=None):
    """Make ansible-core's Jinja environment compile through the cache; True when it does.
    Idempotent; call it in the controller before workers fork, so that they inherit it."""
    if _jinja_bits is None or not all(hasattr(_jinja_bits, name) for name in NEEDS):
        return False  # another ansible-core: templates compile as it does by itself
    directory = directory or default_directory()
    directory = directory and private_directory(versioned(directory))
    if not directory:
        return False
    cache = CodeCache(directory)
    environment_class = _jinja_bits.AnsibleEnvironment
    compile_, from_string, compile_expression = (original(environment_class.compile), original(environment_class.from_string),
                                                 original(environment_class.compile_expression))
    captured = threading.local()

    @functools.wraps(compile_)
    def compile_and_capture(self, source, *args, **kwargs):
        code = compile_(self, source, *args, **kwargs)
        captured.code = code
        return code

    @functools.wraps(from_string)
    def cached_from_string(self, source, globals=None, template_class=None):  # pylint: disable=redefined-builtin
        if not isinstance(source, str) or getattr(self, "_debuggable_template_source", False):
            return from_string(self, source, globals, template_class)
        code = cache.get(cache_key(self, "template", source), lambda: compile_(self, source))
        return (template_class or self.template_class).from_code(self, code, self.make_globals(globals), None)

    @functools.wraps(compile_expression)
    def cached_compile_expression(self, source, undefined_to_none=True):
        if getattr(self, "_debuggable_template_source", False):
            return compile_expression(self, source, undefined_to_none)

        def compile_code():
            # Jinja parses the expression into a template tree and compiles that: keep the code it makes.
            compile_expression(self, source, undefined_to_none)
            return captured.code

        code = cache.get(cache_key(self, "expression", source), compile_code)
        return TemplateExpression(self.template_class.from_code(self, code, self.make_globals(None), None), undefined_to_none)

    environment_class.compile = compile_and_capture
    environment_class.from_string = cached_from_string
    environment_class.compile_expression = cached_compile_expression
    return True
