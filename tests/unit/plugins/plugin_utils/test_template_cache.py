# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible._internal._templating import _jinja_bits
from ansible.errors import AnsibleTemplateSyntaxError
from ansible.template import Templar, trust_as_template

from ansible_collections.immersionday.ha_web.plugins.plugin_utils import template_cache

ENVIRONMENT = _jinja_bits.AnsibleEnvironment


@pytest.fixture
def cache_dir(monkeypatch, tmp_path):
    """install() patches ansible-core's environment class: the originals come back after the test."""
    for name in ("compile", "from_string", "compile_expression"):
        monkeypatch.setattr(ENVIRONMENT, name, getattr(ENVIRONMENT, name))
    directory = tmp_path / "templates"
    assert template_cache.install(str(directory))
    return directory


@pytest.fixture
def compiles(monkeypatch, cache_dir):
    """The template trees Jinja generates code for: a cached one is not generated again."""
    generated = []
    generate = ENVIRONMENT._generate

    def counting_generate(self, source, *args, **kwargs):
        generated.append(source)
        return generate(self, source, *args, **kwargs)

    monkeypatch.setattr(ENVIRONMENT, "_generate", counting_generate)
    return generated


def render(text, **variables):
    return Templar(loader=None, variables=variables).template(trust_as_template(text))


def new_process():
    """What a new worker starts with: the files, not the dict of the process that wrote them."""
    for function in (ENVIRONMENT.from_string, ENVIRONMENT.compile_expression):
        for cell in function.__closure__:
            if isinstance(cell.cell_contents, template_cache.CodeCache):
                cell.cell_contents.memory.clear()


def cached_files(cache_dir):
    return [name for directory, _dirs, names in os.walk(str(cache_dir)) for name in names]


def test_a_template_is_compiled_once_then_loaded_from_its_file(cache_dir, compiles):
    assert render("{{ greeting }}, {{ names | join(' and ') }}", greeting="hello", names=["a", "c"]) == "hello, a and c"
    assert len(compiles) == 1
    assert len(cached_files(cache_dir)) == 1

    new_process()
    assert render("{{ greeting }}, {{ names | join(' and ') }}", greeting="bye", names=["b"]) == "bye, b"
    assert len(compiles) == 1


def test_a_conditional_is_compiled_once_then_loaded_from_its_file(cache_dir, compiles):
    templar = Templar(loader=None, variables={"size": 2})
    assert templar.evaluate_conditional(trust_as_template("size > 1")) is True
    new_process()
    assert Templar(loader=None, variables={"size": 0}).evaluate_conditional(trust_as_template("size > 1")) is False
    assert render("{{ size > 1 }}", size=3) is True
    assert len(compiles) == 2  # the expression once, the template once


def test_settings_that_shape_the_code_are_part_of_the_key(cache_dir):
    environment = Templar(loader=None).environment
    key = template_cache.cache_key(environment, "template", "{{ x }}")
    assert template_cache.cache_key(environment, "expression", "{{ x }}") != key
    assert template_cache.cache_key(environment, "template", "{{ y }}") != key
    overlay = environment.overlay(variable_start_string="[[", variable_end_string="]]")
    assert template_cache.cache_key(overlay, "template", "{{ x }}") != key
    with _jinja_bits._TemplateCompileContext(escape_backslashes=True):
        escaped = template_cache.cache_key(environment, "template", "{{ x }}")
    with _jinja_bits._TemplateCompileContext(escape_backslashes=False):
        assert template_cache.cache_key(environment, "template", "{{ x }}") != escaped


def test_a_template_with_its_own_delimiters_renders_with_them(cache_dir):
    assert render("#jinja2:variable_start_string:'[[', variable_end_string:']]'\n[[ x ]] {{ x }}", x=1) == "1 {{ x }}"
    new_process()
    assert render("#jinja2:variable_start_string:'[[', variable_end_string:']]'\n[[ x ]] {{ x }}", x=2) == "2 {{ x }}"
    assert render("[[ x ]] {{ x }}", x=3) == "[[ x ]] 3"


def test_a_syntax_error_is_raised_as_before_and_not_cached(cache_dir):
    for _attempt in range(2):
        with pytest.raises(AnsibleTemplateSyntaxError, match="Expected an expression, got 'end of print statement'"):
            render("{{ x }} {{ }}", x=1)
    assert cached_files(cache_dir) == []


def test_a_file_cut_short_is_compiled_again(cache_dir, compiles):
    assert render("{{ x + 1 }}", x=1) == 2
    (path,) = [os.path.join(d, n) for d, _s, names in os.walk(str(cache_dir)) for n in names]
    with open(path, "r+b") as handle:
        handle.truncate(5)
    new_process()
    assert render("{{ x + 1 }}", x=2) == 3
    assert len(compiles) == 2


def test_the_directory_is_private_and_versioned(cache_dir):
    (versioned,) = os.listdir(str(cache_dir))
    assert versioned.startswith(template_cache.sys.implementation.cache_tag + "-jinja")
    assert os.stat(str(cache_dir / versioned)).st_mode & 0o777 == 0o700


def test_no_cache_in_a_directory_others_can_write(monkeypatch, tmp_path):
    shared = tmp_path / "shared"
    versioned = template_cache.versioned(str(shared))
    os.makedirs(versioned)
    os.chmod(versioned, 0o777)
    monkeypatch.setattr(ENVIRONMENT, "from_string", ENVIRONMENT.from_string)
    before = ENVIRONMENT.from_string
    assert template_cache.install(str(shared)) is False
    assert ENVIRONMENT.from_string is before


def test_no_cache_when_ansible_core_templates_differently(monkeypatch, tmp_path):
    monkeypatch.delattr(_jinja_bits, "_TemplateCompileContext")
    monkeypatch.setattr(ENVIRONMENT, "from_string", ENVIRONMENT.from_string)
    before = ENVIRONMENT.from_string
    assert template_cache.install(str(tmp_path)) is False
    assert ENVIRONMENT.from_string is before


def test_the_directory_comes_from_the_environment():
    assert template_cache.default_directory({"HA_WEB_TEMPLATE_CACHE": "/srv/t"}) == "/srv/t"
    assert template_cache.default_directory({"HA_WEB_TEMPLATE_CACHE": ""}) is None
    assert template_cache.default_directory({"XDG_CACHE_HOME": "/c"}) == "/c/immersionday.ha_web/templates"


def test_installing_again_wraps_ansible_cores_own_functions(monkeypatch, cache_dir):
    first = ENVIRONMENT.from_string
    assert template_cache.install(str(cache_dir))
    assert ENVIRONMENT.from_string is not first
    assert ENVIRONMENT.from_string.__wrapped__ is first.__wrapped__
