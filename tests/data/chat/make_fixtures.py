#!/usr/bin/env python3
"""Makes the chat-template fixtures under tests/data/chat/ with Python jinja2
configured as Hugging Face transformers configures it (the configuration
renderings.json in ../shared/testdata/templates describes): trim_blocks,
lstrip_blocks, loopcontrols, the immutable sandbox, tojson as json.dumps with
ensure_ascii=False, raise_exception, strftime_now fixed at 2026-11-23 12:00.

    python3 tests/data/chat/make_fixtures.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]

Writes jinja_cases.json (template snippets and what they render to, or the
exception they raise) and, when the GGUF is there, smollm2_renderings.json
(the model's own tokenizer.chat_template rendering a few conversations).
Needs jinja2 (3.1) and gguf.
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = datetime.datetime(2026, 11, 23, 12, 0)


def make_env():
    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return NOW.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(template, context):
    try:
        return {"expected": make_env().from_string(template).render(**context)}
    except Exception as e:  # the type and message ember's error must contain
        return {"expected_error": type(e).__name__ + ": " + str(e)}


SCOPE_CONTEXT = {"l": [1], "m": "ctx"}

MESSAGES = {"messages": [{"role": "user", "content": "Hi"},
                         {"role": "assistant", "content": "Yo",
                          "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}]}

# Snippets covering the lexer (whitespace control), the expression language,
# filters, tests, methods, scoping, macros and the errors jinja2 raises.
CASES = [
    '{{ 1 }}{{ 1.0 }}{{ 1e20 }}{{ 1.5e-5 }}{{ 10/4 }}{{ 10//4 }}{{ -7//2 }}{{ -7%3 }}{{ 7.5%2 }}{{ 2**10 }}{{ 2**-1 }}',
    '{{ -2**2 }} {{ 2**3**2 }} {{ 0.1+0.2 }} {{ 1e16 }} {{ 123456789012345678.0 }} {{ 1e-4 }} {{ -0.0 }} {{ 3.0 * 2 }}',
    '{{ [1,"a",none,true,1.5,(1,),{"k":"v"}] }} {{ (1,2) }} {{ () }} {{ [] }} {{ {} }}',
    '{{ ["it\'s", \'x"y\', "\\u00e9\\u200b\\n\\t\\\\", "a\'b\\"c"] }}',
    '{{ "a\\"b" ~ "\\n" }}{{ "\\x41\\101\\u0042\\U0001F600" }}{{ "\\d\\q" }}',
    '{{ "abc"[::-1] }}{{ "héllo"[1:3] }}{{ "héllo"[-2] }}{{ [1,2,3][-1] }}{{ [1,2,3][5] }}|{{ [1,2,3][1:] }}{{ [1,2,3][::-2] }}',
    '{{ "a,b,,c".split(",") }}{{ " a  b ".split() }}{{ "a b c".split(" ", 1) }}{{ "a b c".rsplit(" ", 1) }}{{ "x\\ny\\r\\nz".splitlines() }}',
    '{{ "x" * 3 }}{{ [1]*2 }}{{ 3 * "ab" }}{{ "ab" * 0 }}|{{ "ab" * -1 }}|',
    '{{ 5 / 0 }}',
    '{{ 5 // 0 }}',
    '{{ 5 % 0 }}',
    '{{ 5.0 / 0 }}',
    '{{ "a" + 1 }}',
    '{{ 1 + "a" }}',
    '{{ [1] + (2,) }}',
    '{{ none + 1 }}',
    '{{ "a" < 1 }}',
    '{{ x < 1 }}',
    '{{ x + 1 }}',
    '{{ 1 + x }}',
    '{{ x.y }}',
    '{{ x["y"] }}',
    '{{ x() }}',
    '{{ "a"() }}',
    '{{ none.y }}|{{ (1).y }}|{{ "s".y }}|{{ [1].y }}|{{ {"a":1}.b }}|{{ {"a":1}["b"] }}|{{ [1][5] }}',
    '{{ "%s-%d" % ("a", 3) }}|{{ "%5.2f|%-4d|%r|%x|%o|%#x|%+d|% d|%05d|%e|%g|%G|%c" % (3.14159, 7, "a", 255, 8, 255, 5, 5, 42, 12345.678, 0.00001234, 1e20, 65) }}',
    '{{ "%(a)s and %(b)d" % {"a": "x", "b": 2} }}|{{ "%s" % [1,2] }}|{{ "%s %s" % (1,) }}',
    '{{ "%s" % (1, 2) }}',
    '{{ "100%%" % () }}',
    '{{ "{}-{:>4}".format("a", 3) }}|{{ "{0} {name}".format(1, name="n") }}|{{ "{:.2f} {:,} {:08.3f} {:x} {!r}".format(3.14159, 1234567, -3.5, 255, "s") }}',
    '{{ "{:^9}|{:*<6}|{:+}|{:e}|{:%}|{:.3}|{}".format("mid", "l", 5, 1234.5, 0.25, 3.14159, 2.0) }}',
    '{{ "{a[0]} {b.x}".format(a=[7], b={"x": 9}) }}',
    '{{ (1,2)|length }}{{ {"a":1}|length }}{{ "héllo"|length }}{{ x|length }}{{ none|length }}',
    '{{ "é"|length }}{{ "x"|center(5) }}|{{ "ab"|center(5) }}|{{ "abc"|center(6, ) }}|',
    '{{ [1,2,3]|map("string")|join(",") }}|{{ [{"a":1},{"a":2}]|map(attribute="a")|list }}|{{ [{"a":1},{}]|map(attribute="a", default=0)|list }}',
    '{{ {"b":1,"a":2}|dictsort }}{{ {"b":1,"A":2, "a": 0}|dictsort(true) }}{{ {"b":1,"a":2}|dictsort(by="value", reverse=true) }}',
    '{{ {"a":{"b":2}, "c": [1, 2.5, "é", none, true]}|tojson(indent=2) }}',
    '{{ [1, "é", 1.0, none, true]|tojson }}',
    '{{ {"a": 1}|tojson(separators=(",", ":")) }}',
    '{{ {"b": 1, "a": 2}|tojson(sort_keys=true) }}{{ "é\\u2028"|tojson(ensure_ascii=true) }}{{ x|tojson }}',
    '{% for k, v in {"a": 1}.items() %}{{k}}={{v}}{% endfor %}{{ {"a": 1}.items() }}{{ {"a": 1}.keys() }}{{ {"a": 1}.values() }}',
    '{{ "abc".startswith(("x","a")) }}{{ "abc".endswith("bc") }}{{ "abc".startswith("b", 1) }}',
    '{{ 1 < 2 < 3 }}{{ 1 < 3 < 2 }}{{ 1 == 1.0 }}{{ {1:"a", true:"b"} }}{{ [1,2] == [1,2] }}{{ (1,2) == [1,2] }}',
    '{{ 3|round }}{{ 2.5|round }}{{ 3.14159|round(2) }}{{ -2.5|round }}{{ 2.675|round(2) }}{{ 15|round(-1) }}{{ 2.5|round(method="ceil") }}{{ 2.5|round(method="floor") }}',
    '{{ True }}{{ true|string }}{{ none|string }}{{ none }}{{ "x"|string }}{{ [1]|string }}',
    '{% raw %}{{ x }}{% endraw %}|{%- raw -%}  {{ y }}  {%- endraw -%}|',
    '{{ "abc"|list }}{{ {"a":1,"b":2}|list }}{{ x|list }}',
    '{% set ns = namespace(a=1) %}{{ ns }}{{ ns.b }}{% set ns.b = 2 %}{{ ns.b }}{{ ns["a"] }}',
    '{% set x = 0 %}{% for i in [1,2,3] %}[{{ x }}]{% set x = i %}{{x}}{% endfor %}|{{x}}',
    '{% for i in [1,2,3] %}[{{ x }}]{% set x = i %}{% endfor %}|{{x}}',
    '{% macro m() %}{{ y }}{% endmacro %}{% set y = 1 %}{{ m() }}{% set y = 2 %}{{ m() }}',
    '{% for i in [1,2] %}{% macro m() %}{{ i }}{% endmacro %}{{ m() }}{% endfor %}',
    '{% for a in [1] %}{{ loop.previtem }}|{{loop.previtem is defined}}{% endfor %}',
    '{{ 1 if false }}|{{ (1 if false) is defined }}',
    '{% for i in range(5) %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.cycle("a","b") }};{% endfor %}',
    '{% for i in range(10) if i is odd %}{{ i }}{% if loop.last %}!{% endif %}{% else %}none{% endfor %}',
    '{% for i in [] %}x{% else %}empty{% endfor %}',
    '{% for i in range(10) %}{% if i > 3 %}{% break %}{% endif %}{% if i is even %}{% continue %}{% endif %}{{ i }}{% endfor %}',
    '{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}',
    '{% for a, b in [(1, 2, 3)] %}{% endfor %}',
    '{% for a, b in [1] %}{% endfor %}',
    '{% for x in 5 %}{% endfor %}',
    '{% for x in none %}{% endfor %}',
    '{% for x in y %}{% endfor %}ok',
    '{% macro f(a, b=2, c=a) %}{{ a }}{{ b }}{{ c }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1) }}|{{ f(1, 3, 4, 5, z=6) }}|{{ f(b=7) }}',
    '{% macro f(a) %}{{ a }}{% endmacro %}{{ f(1, 2) }}',
    '{% macro f(a) %}{{ a }}{% endmacro %}{{ f(z=2) }}',
    '{% macro f() %}[{{ caller() }}]{% endmacro %}{% call f() %}body{% endcall %}',
    '{% macro f() %}[{{ caller(3) }}]{% endmacro %}{% call(x) f() %}b{{ x }}{% endcall %}',
    '{% filter upper %}hello {{ "x" }}{% endfilter %}',
    '{% set x %}  block {{ 1 }} {% endset %}[{{ x }}]',
    '{% set x | trim | upper %}  block  {% endset %}[{{ x }}]',
    '{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}',
    '{% set a, b = 1, 2 %}{{ a }}{{ b }}',
    '{% set t = 1, 2 %}{{ t }}',
    '{{ "a" if true else "b" }}{{ "a" if false else "b" }}{{ none or "x" }}{{ 0 and 1 }}{{ "" or [] }}{{ 1 and 2 }}',
    '{{ not 1 }}{{ not none }}{{ 1 in [1,2] }}{{ "a" in "abc" }}{{ "z" not in "abc" }}{{ 1 in {1: 2} }}{{ "a" in x }}',
    '{{ 1 in "abc" }}',
    '{{ 1 in none }}',
    '{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ 1 is number }}{{ true is number }}{{ 1.0 is integer }}{{ 1 is integer }}{{ true is boolean }}{{ "a" is string }}{{ {} is mapping }}{{ [] is iterable }}{{ "a" is iterable }}{{ x is iterable }}{{ 1 is iterable }}{{ [] is sequence }}{{ x is sequence }}',
    '{{ 4 is divisibleby 2 }}{{ 3 is odd }}{{ 3 is even }}{{ "a" is lower }}{{ "A" is upper }}{{ 1 is eq 1 }}{{ 1 is equalto 2 }}{{ 2 is gt 1 }}{{ 2 is lessthan 1 }}{{ 1 is in [1] }}{{ x is callable }}{{ range is callable }}{{ "upper" is filter }}{{ "odd" is test }}',
    '{{ [1, 2, 3, 4]|select("odd")|list }}{{ [1, 2, 3, 4]|reject("odd")|list }}{{ [{"a": 1}, {"a": 0}, {}]|selectattr("a")|list }}{{ [{"r": "u"}, {"r": "a"}]|selectattr("r", "equalto", "u")|list }}{{ [{"r": "u"}, {"r": "a"}]|rejectattr("r", "==", "u")|list }}',
    '{{ [3, 1, 2]|sort }}{{ [3, 1, 2]|sort(reverse=true) }}{{ ["b", "A", "a"]|sort }}{{ ["b", "A", "a"]|sort(case_sensitive=true) }}{{ [{"n": 2}, {"n": 1}]|sort(attribute="n") }}',
    '{{ [1, 2, 1, 3]|unique|list }}{{ ["a", "A"]|unique|list }}{{ [1, 5, 3]|min }}{{ [1, 5, 3]|max }}{{ []|max }}|{{ [1, 2, 3]|sum }}{{ [{"v": 1}, {"v": 2}]|sum(attribute="v") }}',
    '{{ [1, 2, 3]|first }}{{ [1, 2, 3]|last }}{{ "abc"|first }}{{ "abc"|last }}{{ []|first }}|{{ {"a": 1}|first }}',
    '{{ "  a b  "|trim }}|{{ "xxaxx"|trim("x") }}|{{ "hello world"|title }}|{{ "hello-world (x)"|title }}|{{ "hELLO"|capitalize }}|{{ "aBc"|upper }}{{ "AbC"|lower }}',
    '{{ "a b c"|replace(" ", "-") }}{{ "aaa"|replace("a", "b", 2) }}{{ "abc".replace("", "-") }}{{ "hello world foo"|wordcount }}',
    '{{ [1, 2]|join }}{{ [1, 2]|join(", ") }}{{ [{"a": "x"}, {"a": "y"}]|join(",", attribute="a") }}',
    '{{ x|default("d") }}{{ none|default("d") }}{{ none|default("d", true) }}{{ ""|d("e", boolean=true) }}{{ 0|default(5) }}',
    '{{ "3"|int + 1 }}{{ "3.7"|int }}{{ "abc"|int }}{{ "abc"|int(7) }}{{ 3.9|int }}{{ "0x1f"|int(0, 16) }}{{ "1_000"|int }}{{ "3"|float }}{{ "x"|float }}{{ 3|float }}{{ " 1e3 "|float }}',
    '{{ -3|abs }}{{ -3.5|abs }}{{ "a\\nb\\n\\nc"|indent }}|{{ "a\\nb"|indent(2, true) }}|{{ "a\\n\\nb"|indent(2, blank=true) }}|{{ "a\\nb"|indent("> ") }}',
    '{{ "<b>&\'\\""|e }}{{ "<b>"|escape|safe }}{{ "<x>"|safe + "<y>" }}{{ "<y>" + "<x>"|safe }}{{ "<x>"|forceescape }}',
    '{{ [1, 2, 3, 4, 5]|batch(2)|list }}{{ [1, 2, 3, 4, 5]|batch(2, 0)|list }}{{ [1, 2, 3, 4, 5]|slice(2)|list }}{{ [1, 2, 3, 4, 5]|slice(3, "x")|list }}',
    '{% for g in [{"t": "a", "v": 1}, {"t": "b", "v": 2}, {"t": "a", "v": 3}]|groupby("t") %}{{ g.grouper }}:{{ g.list|map(attribute="v")|list }};{{ g }}{% endfor %}',
    '{{ "%s=%s"|format("a", 1) }}{{ "%(x)s"|format(x=1) }}{{ "abcdef"|truncate(5) }}|{{ "abc def ghi jkl mno"|truncate(12) }}|{{ "abc def ghi jkl mno"|truncate(12, true) }}|{{ "a b"|urlencode }}{{ {"a": "b c", "d": 1}|urlencode }}',
    '{{ 1000|filesizeformat }}{{ 1|filesizeformat }}{{ 1500000|filesizeformat }}{{ 2048|filesizeformat(true) }}{{ {"a": 1, "b": none}|xmlattr }}',
    '{{ [1,2]|reverse|list }}{{ "abc"|reverse }}{{ {"a": 1, "b": 2}|reverse|list }}{{ range(3)|list }}{{ range(1, 10, 3)|list }}{{ range(5, 0, -2)|list }}',
    '{{ range(100001)|length }}',
    '{{ dict(a=1, b=2) }}{{ dict([("x", 1)]) }}{{ dict({"q": 1}, r=2) }}',
    '{{ raise_exception("boom") }}',
    '{{ strftime_now("%Y-%m-%d %H:%M:%S %A %a %B %b %d %j %U %W %V %G %u %w %y %p %I %e %-d %-m %%") }}',
    '{{ strftime_now("%d %b %Y") }}|{{ strftime_now("%c|%x|%X|%D|%F|%T|%R|%r|%h|%C|%g|%k|%l|%n|%t|%s|%Z|%z|%f|%Q") }}',
    ('{% for m in messages %}{{ m.role }}:{{ m.content }}{% if m.tool_calls %}{{ m.tool_calls[0].function.arguments|tojson }}{% endif %};{% endfor %}', MESSAGES),
    ('{% if messages|selectattr("role", "equalto", "system") %}gen-truthy{% endif %}{{ messages|map(attribute="role")|join(",") }}', MESSAGES),
    '{{ [].append }}',
    '{% set l = [1] %}{{ l.append(2) }}',
    '{% set l = [1] %}{{ l.pop() }}',
    '{% set d = {} %}{{ d.update({"a": 1}) }}',
    '{{ {}.pop }}|{{ {}.pop is defined }}',
    '{{ "abc".__class__ }}',
    '{{ ().__len__ }}',
    '{{ x.__class__ }}',
    '{{ "abc".find("c") }}{{ "abc".index("b") }}{{ "aXbXc".count("X") }}{{ "abc".rfind("z") }}{{ "a-b".partition("-") }}{{ "  x".lstrip() }}{{ "x  ".rstrip() + "|" }}',
    '{{ "abc".index("z") }}',
    '{{ "Hello World".swapcase() }}{{ "hello world".title() }}{{ "hello world".capitalize() }}{{ "42".isdigit() }}{{ "ab".isalpha() }}{{ " ".isspace() }}{{ "Ab".istitle() }}{{ "x".zfill(3) }}{{ "-1".zfill(4) }}{{ "ab".ljust(4, "*") }}{{ "ab".rjust(4) }}{{ "ab".center(5, "-") }}',
    '{{ "a,b".split(",", maxsplit=0) }}{{ "a\\tb".expandtabs(4) }}{{ "prefix_x".removeprefix("prefix_") }}{{ ",".join(["a", "b"]) }}',
    '{{ ",".join([1, 2]) }}',
    '{{ 5.0.is_integer() }}{{ 5.5.is_integer() }}{{ (5).real }}{{ (5).bit_length() }}',
    '{{ [1, 2, 3].index(2) }}{{ [1, 1].count(1) }}{{ (1, 2).index(2) }}{{ [1].copy() }}',
    'a\n{% if true %}\nb\n{% endif %}\nc\n',
    'a\n  {% if true %}\n  b\n  {% endif %}\nc',
    '  {% if true %}x{% endif %}  \n  y',
    'a  {%- if true -%}  b  {%- endif -%}  c',
    "a\n\n  {{- 'x' -}}  \n\nb",
    'a {# comment #}\nb\n  {# c2 #}\nc {#- c3 -#}  d',
    '{%+ if true %}x{% endif %}\n  {%+ if true %}y{% endif %}',
    '{% if true +%}\nx{% endif +%}\ny',
    'x\r\ny\rz\n',
    'trailing\n\n',
    'trailing\n',
    "{{ 'a' }}\n{{ 'b' }}\n",
    '{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}\n',
    '{% for i in [1,2] -%}\n  {{ i }}\n{%- endfor %}',
    '\t{% if true %}\tx\n\t{% endif %}\ty',
    '{% raw %}\n  {% if %}\n{% endraw %}\nafter',
    '  {% raw %}x{% endraw %}  \n',
    "{{ {'a': {'b': 1}} }}",
    "{{ {'a': 1}}}",
    '{{ [1,[2,[3]]] }}',
    '{{ \'a\' \'b\' "c" }}',
    "{{ 'multi\nline' }}",
    '{{ 0b101 }}{{ 0o17 }}{{ 0x1F }}{{ 1_000 }}{{ 1.5e3 }}{{ 1E3 }}{{ 1_0.0_1 }}',
    '{{ 1.foo }}',
    '{{ x.0 }}',
    '{{ [1,2].0 }}',
    '{{ (1,2).1 }}',
    '{% if %}',
    '{% endif %}',
    '{% for %}',
    '{% for x in %}{% endfor %}',
    '{{ }}',
    '{{ 1 + }}',
    '{% set %}',
    '{% foo %}',
    "{{ 'abc }}",
    '{{ (1 }}',
    '{{ 1) }}',
    '{# unclosed',
    '{% raw %}unclosed',
    '{% if true %}x',
    '{% if x %}{% endfor %}',
    '{% for x in y %}{% if x %}{% endif %}{% endif %}',
    '{% macro m() %}{% foo %}{% endmacro %}',
    '{% for x in y %}',
    '{% macro m( %}',
    '{{ x | }}',
    '{{ x is }}',
    '{% set x = 1 %}{% set x.y = 2 %}',
    '{% set 1 = 2 %}',
    '{% break %}',
    '{% for i in [1] %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}',
    '{{ x|nosuchfilter }}',
    '{% if x %}{{ x|nosuchfilter }}{% endif %}ok',
    '{% if true %}{{ 1|nosuchfilter }}{% endif %}',
    '{{ x is nosuchtest }}',
    '{% if 1 is nosuchtest %}{% endif %}',
    '{% block b %}blk{% endblock %}',
    "{% include 'x' %}",
    "{% extends 'x' %}",
    '{{ a.b.c }}',
    '{{ loop.index }}',
    '{% for i in [1] %}{{ loop(1) }}{% endfor %}',
    '{% for i in [[1, [2]], [3]] recursive %}<{{ i[0] if i is iterable else i }}{% if i is iterable and i|length > 1 %}{{ loop(i[1:]) }}{% endif %}>{% endfor %}',
    "{% for item in [{'c': [{'c': []}]}, {'c': []}] recursive %}[{{ loop.depth }}{{ loop(item.c) }}]{% endfor %}",
    '{% for i in [1, 1, 2] %}{% if loop.changed(i) %}{{ i }}{% endif %}{% endfor %}',
    "{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}",
    "{% set j = joiner('|') %}{% for i in [1,2,3] %}{{ j() }}{{ i }}{% endfor %}",
    "{% set x = [1,2,3] %}{{ x[1:] }}{{ x[:-1] }}{{ x[::2] }}{{ x['a'] }}|{{ x[1.0] }}|",
    "{% macro m(a, b) %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }}|{{ m(b=2, a=1) }}|{{ m(*[1, 2]) }}|{{ m(**{'a': 3, 'b': 4}) }}",
    '{% macro m() %}{{ caller() }}{% endmacro %}{{ m() }}',
    '{% macro m(caller) %}{{ caller }}{% endmacro %}{{ m(1) }}',
    '{{ m }}{% macro m() %}x{% endmacro %}{{ m }}{{ m.name }}{{ m.arguments }}',
    '{% set ns = namespace() %}{% for i in range(3) %}{% set ns.total = (ns.total or 0) + i %}{% endfor %}{{ ns.total }}',
    '{% set ns = namespace(items=[]) %}{% set ns.items = ns.items + [1] %}{{ ns.items }}',
    "{{ namespace(a=1).a }}{{ namespace({'b': 2}).b }}",
    "{{ 'x' ~ 1 ~ none ~ [1] ~ x }}",
    "{{ [1,2,3]|length > 2 and 'yes' or 'no' }}",
    '{{ -x|default(3) }}',
    "{{ - 'a' }}",
    '{{ not x }}',
    "{{ x or 'default' }}",
    '{{ 10 ** 18 }}',
    '{{ 1e308 * 10 }}{{ -1e308 * 10 }}{{ (1e308*10) - (1e308*10) }}',
    '{{ 7 // -2 }}{{ -7 % -3 }}{{ 7.0 // -2 }}{{ -7.5 % 2 }}{{ 5 % -3 }}',
    '{{ 1 / 3 }}{{ 2 / 3 }}{{ 1 / 7 * 7 }}{{ 100 / 3 }}{{ 1e100 }}{{ 1.23456789e-7 }}{{ 12345678901234567890.0 }}',
    "{{ [1, 2] < [1, 3] }}{{ (1, 'a') < (1, 'b') }}{{ 'B' < 'a' }}{{ [] < [1] }}{{ 1 < 1.5 }}{{ true < 2 }}",
    "{{ [1] < 'a' }}",
    '{{ {} < {} }}',
    '{{ none < 1 }}',
    '{% for i in [1, 2] %}{% set x %}a{% break %}{% endset %}{{ i }}{% endfor %}[{{ x }}]',
    '{% for i in [1, 2] %}{% filter upper %}a{% continue %}{% endfilter %}{{ i }}{% endfor %}',
    '{% for i in [1, 2] %}{% with %}{% break %}{% endwith %}{{ i }}{% endfor %}',
    '{% for i in [1] %}{% else %}{% break %}{% endfor %}',
    '{% for i in [1] %}{% call(x) m() %}{% break %}{% endcall %}{% endfor %}',
    "{{ '  a  b '.split(None, 1) }}{{ '  a  b '.rsplit(None, 1) }}{{ 'a  b'.split(' ') }}{{ ''.split() }}{{ ''.split(',') }}",
    "{{ 'ab'.center(5, '*') }}{{ 'abc'.center(6, '*') }}{{ 'x'|center(4) }}|",
    "{{ 'ß'|upper }}{{ 'ΟΔΟΣ.'|lower }}{{ 'ǆemal'|title }}{{ 'ǆemal'.title() }}{{ 'ǆ'|capitalize }}{{ 'Straße'.casefold() }}{{ 'İx'|lower }}",
    "{{ ['\\u200b', '\\u00a0', '\\x07', '\\U0001F999', '\\ud7ff'] }}{{ ('a',) }}{{ {'k': ('v', 1.5)} }}",
    "{{ '\\u00a0\\u3000 x \\u2028'|trim }}|{{ 'a\\u2029b\\x1cc\\x85d'.splitlines() }}{{ 'x\\n'.splitlines(true) }}",
    "{{ '١٢٣'.isdigit() }}{{ 'abc١'.isalnum() }}{{ '½'.isnumeric() }}{{ '½'.isdigit() }}{{ 'ǅ'.istitle() }}{{ 'Ab Cd'.istitle() }}{{ 'ab'.isupper() }}",
    "{{ 'tab\\there'.expandtabs() }}|{{ 'a\\tbc\\td'.expandtabs(4) }}",
    "{{ 'hello world'|wordcount }}{{ 'a-b c_d é1'|wordcount }}",
    '{{ x is callable }}{{ none is callable }}{{ loop is defined }}{{ namespace() is mapping }}',
    '{% set ns = namespace(a=[]) %}{{ ns.a is sequence }}{{ ns is iterable }}',
    "{{ {'a': 1}.items()|list }}{{ {'a': 1}.keys()|first }}{{ {'a': 1}.values()|list }}{{ {'a': 1}.items() is sequence }}",
    '{{ self }}|{{ self.foo }}|',
    '{% macro m(a, caller=none) %}{{ a }}{{ caller is none }}{% endmacro %}{{ m(1) }}',
    '{% macro m() %}{{ varargs }}{% endmacro %}{{ m(1, 2) }}',
    "{% macro m() %}{{ kwargs }}{% endmacro %}{{ m(a=1, b='x') }}",
    '{% macro outer() %}{% macro inner() %}in{% endmacro %}{{ inner() }}{% endmacro %}{{ outer() }}{{ inner is defined }}',
    '{% set x = 1 %}{% macro m() %}{% set x = 2 %}{{ x }}{% endmacro %}{{ m() }}{{ x }}',
    '{% for a in [1, 2] %}{% for b in [3, 4] %}{{ loop.index }}{{ loop.previtem }}{% endfor %}{{ loop.index }}{% endfor %}',
    '{% for i in range(3) %}{{ loop.nextitem }}{{ loop.revindex0 }}{{ loop.depth0 }}{{ loop }}{% endfor %}',
    "{{ 'a%sb' % none }}{{ '%5s|%-5s|%.2s' % ('ab', 'cd', 'xyz') }}{{ '%3d|%-3d|%03d|%+.1f|%.0f|%.0f' % (5, 5, 5, 2.25, 0.5, 1.5) }}",
    "{{ '%s' % {'a': 1} }}{{ '%(a)s %(a)r' % {'a': 'q'} }}{{ '%x %X %o %#o' % (255, 255, 8, 8) }}",
    "{{ '{:>10.3f}|{:<8}|{:^8}|{:08d}|{:,}|{:_}|{:b}|{:#x}|{:e}|{:.2%}'.format(3.14159, 'ab', 'cd', -42, 1234567, 1234567, 5, 255, 0.00012, 0.1234) }}",
    "{{ '{}'.format(none) }}{{ '{!r}'.format('x') }}{{ '{0}{0}'.format('y') }}{{ '{:}'.format(1.5) }}{{ '{:.3}'.format(2.0) }}{{ '{:g}'.format(1e20) }}",
    "{{ '{'.format(1) }}",
    "{{ '{:d}'.format('x') }}",
    "{{ '{0}{}'.format(1, 2) }}",
    '{{ 1.5|string }}{{ 1e300 * 1e10 }}{{ -1e300 * 1e10 }}{{ 0.1 * 3 }}{{ 1/3 }}{{ 2.0 ** 0.5 }}{{ 10 ** -2 }}{{ 3 % 2.5 }}',
    "{{ [3, 1, 2]|sort|first }}{{ [[2, 'b'], [1, 'a']]|sort }}{{ [{'a': 2, 'b': 1}, {'a': 1, 'b': 2}]|sort(attribute='a,b')|map(attribute='b')|list }}",
    "{{ ['b', 'a']|sort(reverse=true) }}{{ [1, 'a']|sort }}",
    "{{ [1, 2, 3]|map('string')|map('upper')|join('-') }}{{ ['a', 'b']|map('replace', 'a', 'x')|list }}",
    "{{ []|map('nosuch')|list }}{{ [1]|map('nosuch')|list }}",
    "{{ [{'n': {'m': 1}}, {'n': {'m': 2}}]|map(attribute='n.m')|list }}{{ [[1, 2], [3, 4]]|map(attribute='1')|list }}",
    "{{ [1, none, 0, '', 'a']|select|list }}{{ [1, none, 0, '', 'a']|reject|list }}{{ [1, 2, 3]|select('in', [2, 3])|list }}{{ [1, 2, 3]|select('>', 1)|list }}",
    "{{ none|map('x')|list }}{{ none|select|list }}",
    "{{ {'a': 1, 'b': 2}|items|list }}{{ x|items|list }}",
    '{{ [1]|items|list }}',
    "{{ 'abc'|truncate(2) }}",
    "{{ 'Hello World This Is Long'|truncate(10, false, '..', 0) }}",
    '{{ [1, 2, 3]|batch(0)|list }}{{ [1, 2, 3]|batch(-1, 0)|list }}',
    "{{ 'x'|int(base=2) }}{{ '101'|int(base=2) }}{{ '  12  '|int }}{{ '1e3'|int }}{{ 'nan'|int }}{{ 'inf'|float }}{{ '-0'|float }}{{ true|int }}{{ none|int }}{{ [1]|float }}",
    "{{ 42|tojson }}{{ 4.0|tojson }}{{ 'a\\u0001\\u007f'|tojson }}{{ [1, [2, [3]]]|tojson(indent=1) }}{{ {}|tojson(indent=2) }}{{ []|tojson(indent=2) }}{{ {'a': []}|tojson(indent='\\t') }}",
    "{{ {1: 'a', 2.5: 'b', none: 'c', true: 'd'}|tojson }}",
    "{{ {(1, 2): 'a'}|tojson }}",
    '{{ x|tojson }}',
    "{{ (1, 2)|tojson }}{{ 'é'|tojson(ensure_ascii=true) }}{{ '🦙'|tojson(true) }}",
    "{{ {'b': {'d': 1, 'c': 2}, 'a': 0}|tojson(sort_keys=true, indent=2) }}",
    "{{ {'a': 1}|dictsort(false, 'x') }}",
    '{{ range(3)|reverse|list }}{{ range(0) is iterable }}{{ range(2, 5)|sum }}{{ range(-3)|list }}{{ range(1, 10, -1)|list }}',
    '{{ range(0, 10, 0) }}',
    '{{ range(1.5) }}',
    "{{ range('a') }}",
    '{{ dict() }}{{ dict(a=dict(b=1)).a.b }}{{ dict([[1, 2]]) }}',
    '{{ dict([1]) }}',
    "{% set d = {'a': 1} %}{% set e = d %}{{ d is sameas e }}{{ 1 is sameas 1 }}{{ none is sameas none }}",
    "{{ 'é'|escape }}{{ 'a<b'|e|length }}{{ ('<'|e) ~ '>' }}{{ '<'|e + '>' }}{{ ('<'|safe)|e }}{{ '<a>'|safe|string }}{{ ('<' ~ '>'|safe) }}",
    "{{ '<a>'|safe is escaped }}{{ '<a>' is escaped }}{{ ('<a>'|safe).upper() }}{{ ('<a>'|safe)[1:] }}",
    "{{ 'a' if x is defined else 'b' }}{{ 'a' if 'x' in 'xyz' }}{{ 1 if none else 2 if 0 else 3 }}",
    "{{ (1 if false) ~ 'x' }}",
    "{{ 'a' ~ (1 if false) }}",
    '{{ x.y is defined }}',
    "{{ x['y'] is defined }}",
    '{{ messages | length }}{{ messages is defined }}',
    "{{ 'a' is in 'cat' }}",
    '{% if true %}{{ x|nosuch }}{% endif %}',
    '{% for i in [1] %}{{ i|nosuch }}{% endfor %}',
    '{% set a = [1, 2] %}{% set b = a %}{{ a is sameas b }}{{ [1, 2] is sameas [1, 2] }}',
    "{{ {'a': 1} == {'a': 1.0} }}{{ [1] != [1] }}{{ (1,) == (1,) }}{{ 'a' == 'a'|safe }}{{ none == false }}{{ 0 == false }}{{ x == x }}",
    "{{ 1 is eq(1) }}{{ 2 is ge 2 }}{{ 2 is le(1) }}{{ 'b' is gt 'a' }}",
    '{{ 3 is divisibleby(0) }}',
    "{{ 'a' is odd }}",
    '{{ 2.5 is odd }}{{ 3.0 is odd }}{{ -3 is odd }}',
    ('{{ l }}{% set l = 5 %}{{ l }}', SCOPE_CONTEXT),
    ('{{ l }}{% if false %}{% set l = 5 %}{% endif %}{{ l }}', SCOPE_CONTEXT),
    ('{% for i in [1] %}{{ l }}{% endfor %}{% set l = 5 %}', SCOPE_CONTEXT),
    ('{% macro f() %}{{ l }}{% endmacro %}{{ f() }}{% set l = 5 %}{{ f() }}', SCOPE_CONTEXT),
    ('{% for i in [1,2] %}{{ m }}{% set m = i %}{% endfor %}', SCOPE_CONTEXT),
    ('{% for i in [1,2] %}{% if i == 2 %}{{ m }}{% endif %}{% set m = i %}{% endfor %}{{ m }}', SCOPE_CONTEXT),
    ('{% set m = m ~ "x" %}{{ m }}', SCOPE_CONTEXT),
    ('{% if true %}{{ m }}{% set m = 1 %}{% endif %}', SCOPE_CONTEXT),
    ('{% for m in [m] %}{{ m }}{% endfor %}', SCOPE_CONTEXT),
    ('{% set x = 1 %}{% for i in [1] %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}', SCOPE_CONTEXT),
    ('{% for i in [1,2] %}{% for j in [1] %}{{ m }}{% endfor %}{% set m = i %}{% endfor %}', SCOPE_CONTEXT),
    ('{% for i in [1] %}{{ m }}{% endfor %}{% if true %}{% set m = 1 %}{% endif %}', SCOPE_CONTEXT),
    ('{% for i in [1] %}{{ m }}{% endfor %}{% if true %}{% set m = 1 %}{% else %}{% set m = 2 %}{% endif %}', SCOPE_CONTEXT),
    ('{% for i in [1] %}{{ m }}{% endfor %}{% if true %}{% set m = 1 %}{% elif false %}{% set m = 3 %}{% else %}{% set m = 2 %}{% endif %}', SCOPE_CONTEXT),
    ('{% macro g() %}{{ m }}{% endmacro %}{% for i in [1] %}{{ g() }}{% set m = 5 %}{{ g() }}{% endfor %}{{ g() }}', SCOPE_CONTEXT),
    ('{% set m = 1 %}{% macro g() %}{{ m }}{% set m = 2 %}{{ m }}{% endmacro %}{{ g() }}{{ m }}', SCOPE_CONTEXT),
    ('{% macro g() %}{% for i in [1] %}{{ m }}{% endfor %}{% set m = 2 %}{% endmacro %}{{ g() }}', SCOPE_CONTEXT),
    ('{% with %}{% for i in [1] %}{{ m }}{% endfor %}{% set m = 2 %}{% endwith %}{{ m }}', SCOPE_CONTEXT),
    ('{% set y %}{% for i in [1] %}{{ m }}{% endfor %}{% set m = 2 %}{% endset %}[{{ y }}]{{ m }}', SCOPE_CONTEXT),
    ('{% for i in [1] %}{{ n }}{% endfor %}{% set n = 1 %}{{ n }}', SCOPE_CONTEXT),
    ('{% macro a() %}{{ b() }}{% endmacro %}{{ a() }}{% macro b() %}B{% endmacro %}', SCOPE_CONTEXT),
    ('{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}B{% endmacro %}{{ a() }}', SCOPE_CONTEXT),
    ('{% set ns = namespace(v=0) %}{% for i in [1] %}{% set ns.v = m %}{% endfor %}{{ ns.v }}{% set m = 2 %}', SCOPE_CONTEXT),
    ('{% for i in [1] %}{% set m = m ~ "!" %}{{ m }}{% endfor %}{{ m }}', SCOPE_CONTEXT),
    ('{% for a, b in [(1, 2)] %}{{ a }}{{ b }}{% set a = 5 %}{{ a }}{% endfor %}', SCOPE_CONTEXT),
    ('{% for i in [] %}{% else %}{{ m }}{% set m = 3 %}{{ m }}{% endfor %}', SCOPE_CONTEXT),
    ('{% for i in [] %}{% else %}{% for j in [1] %}{{ m }}{% endfor %}{% set m = 3 %}{% endfor %}', SCOPE_CONTEXT),
    ('{% filter upper %}{% for i in [1] %}{{ m }}{% endfor %}{% set m = "q" %}{% endfilter %}', SCOPE_CONTEXT),
    ('{% call(x) f() %}{% endcall %}', SCOPE_CONTEXT),
    ('{% macro f() %}{{ caller() }}{% endmacro %}{% call f() %}{% for i in [1] %}{{ m }}{% endfor %}{% set m = "c" %}{{ m }}{% endcall %}', SCOPE_CONTEXT),
    ("{{ ('a<b'|safe).split('<') }}{{ ('x'|safe).replace('x', '<') }}{{ (','|safe).join(['<', 1]) }}{{ ('ab'|safe).center(6, '<') }}", SCOPE_CONTEXT),
    ("{{ ('<{}>'|safe).format('<') }}{{ ('%s|%r'|safe) % ('<', '<') }}{{ ('%s'|safe) % ('<'|safe) }}{{ ('{}'|safe).format('<'|safe) }}", SCOPE_CONTEXT),
    ("{{ ('<a>'|safe)[0] }}{{ ('<a>'|safe)|reverse }}{{ ('a<b'|safe).partition('<') }}{{ ('<A>'|safe).lower() }}{{ ('<'|safe)|title }}{{ ('<a>'|safe).splitlines() }}", SCOPE_CONTEXT),
    ("{{ ('a\nb'|safe)|indent('<') }}{{ ('<'|safe)|format() }}{{ '<' + ('<'|safe) }}{{ ('<'|safe) * 2 }}{{ ('<'|safe)|string }}", SCOPE_CONTEXT),
    ('{{ m|safe + m }}{{ m ~ m|safe }}{{ (m|safe).strip() }}{{ m|e|upper }}{{ m|e|length }}', SCOPE_CONTEXT),
    ("{{ ('x'|safe) + 1 }}", SCOPE_CONTEXT),
    ("{{ 1 + ('x'|safe) }}", SCOPE_CONTEXT),
    ("{{ ('{:>5}'|safe).format('<') }}", SCOPE_CONTEXT),
    ("{{ ('{}'|safe).format(m|safe) }}", SCOPE_CONTEXT),
    "{{ '{}' % [1] }}{{ '%s' % [1] }}{{ 'x' % x }}",
    "{{ 'x' % 5 }}",
    "{{ '%(a)s' % [1] }}",
    '{{ none[1:] }}|{{ (1)[1:] is defined }}|{{ ({})[1:] is mapping }}|{{ [1, 2][1:] }}',
    '{% set n = none %}{{ n[1:] }}',
    "{{ (true|select('odd')|reverse) }}",
    "{{ [1, 2]|select('odd')|first }}{% set g = [1, 2, 3]|select %}{{ 1 in g }}{{ g|list }}",
    "{{ ['a', 1]|map('upper')|first }}",
    "{{ [1]|select('nosuch')|list }}",
    "{{ []|select('nosuch')|list }}",
    '{{ range(4) }}{{ range(1, 7, 2) }}{{ range(4)[1:] }}{{ range(4)[::-1] }}{{ range(5, 0) }}{{ range(3) == [0, 1, 2] }}{{ range(3) == range(3) }}{{ range(3).start }}{{ range(3).count(1) }}{{ [range(1, 3), 1]|unique|list }}',
    '{{ range(3) + [1] }}',
    '{{ [1] + range(3) }}',
    '{{ range(3)|tojson }}',
    '{% for i in [1] %}{% break %}{% else %}E{% endfor %}|{% for i in [1, 2] %}{% continue %}{% else %}E{% endfor %}|{% for i in [1, 2] %}{% if i == 2 %}{% continue %}{% endif %}{% else %}E{% endfor %}',
    '{% for i in [1, 2, 3, 4] %}{{ i }}{{ loop|list|length }}{{ loop.index }}{% endfor %}',
    "{{ '{:>3}'.format(x) }}",
    "{{ '{}'.format(x) }}|",
    '{{ x|xmlattr }}',
    '{{ x|filesizeformat }}',
]

CHATML = (r"{% for message in messages %}"
          r"{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
          r"{% endfor %}"
          r"{% if add_generation_prompt %}"
          r"{{ '<|im_start|>assistant\n' }}"
          r"{% endif %}")

CONVERSATIONS = {
    "single_user": [{"role": "user", "content": "Hello! Who are you?"}],
    "system_user": [{"role": "system", "content": "You are a terse assistant."},
                    {"role": "user", "content": "Name three primes."}],
    "multi_turn": [{"role": "user", "content": "Hi"},
                   {"role": "assistant", "content": "Hello! How can I help?"},
                   {"role": "user", "content": "Tell me a joke about llamas.\nMake it short."}],
    "unicode": [{"role": "user", "content": "Traduis « bonjour » en 日本語 🦙  "}],
    "empty": [],
}


def conversation_cases(template):
    out = []
    for name, messages in CONVERSATIONS.items():
        for agp in (True, False):
            context = {"messages": messages, "add_generation_prompt": agp, "bos_token": "<|im_start|>",
                       "eos_token": "<|im_end|>"}
            out.append({"conversation": name, "context": context, **render(template, context)})
    return out


def main():
    cases = []
    for c in CASES:
        template, context = (c, {}) if isinstance(c, str) else c
        cases.append({"template": template, "context": context, **render(template, context)})
    for c in conversation_cases(CHATML):
        cases.append({"template": CHATML, "name": "chatml " + c.pop("conversation"), **c})
    with open(os.path.join(HERE, "jinja_cases.json"), "w", encoding="utf-8") as f:
        json.dump({"description": "Made by make_fixtures.py with jinja2 " + jinja2.__version__ +
                   " in transformers' configuration; chatml cases use ember's chatml_template().",
                   "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")

    gguf_path = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser(
        "~/.cache/ember/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(gguf_path):
        print("no " + gguf_path + ": smollm2_renderings.json not remade")
        return
    from gguf import GGUFReader
    field = GGUFReader(gguf_path).fields["tokenizer.chat_template"]
    template = bytes(field.parts[field.data[0]]).decode("utf-8")
    with open(os.path.join(HERE, "smollm2_renderings.json"), "w", encoding="utf-8") as f:
        json.dump({"description": "SmolLM2-135M-Instruct's tokenizer.chat_template rendered by make_fixtures.py "
                   "with jinja2 " + jinja2.__version__ + " in transformers' configuration.",
                   "template": template, "cases": conversation_cases(template)}, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
