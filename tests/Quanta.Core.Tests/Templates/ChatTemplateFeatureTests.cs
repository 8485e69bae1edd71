using System.Text.Json.Nodes;
using Quanta.Core.Templates;

namespace Quanta.Core.Tests.Templates;

/// <summary>
/// Interpreter features against expected strings worked out by hand from Jinja semantics
/// (as @huggingface/jinja implements them: trim_blocks + lstrip_blocks on, none prints empty).
/// </summary>
public sealed class ChatTemplateFeatureTests
{
    private static string R(string template, string? json = null)
    {
        var vars = json is null ? new JsonObject() : JsonNode.Parse(json)!.AsObject();
        return ChatTemplate.Parse(template).Render(vars, () => new DateTime(2024, 12, 31, 23, 59, 0));
    }

    [Theory]
    [InlineData("{{ 'a' }}{# c #}{{ 'b' }}", "ab")]
    [InlineData("x  {{- 'y' -}}  z", "xyz")]
    [InlineData("a\n  {%- if true %}b{% endif %}", "ab")]
    [InlineData("{% if true %}\nyes\n{% endif %}\n", "yes\n")]          // trim_blocks + trailing newline dropped
    [InlineData("  {% if true %}x{% endif %}", "x")]                       // lstrip_blocks
    [InlineData("{% if 0 %}a{% elif '' %}b{% elif [1] %}c{% else %}d{% endif %}", "c")]
    [InlineData("{% for x in [1,2,3] %}{{ loop.index0 }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", "01,12,23")]
    [InlineData("{% for x in [] %}a{% else %}empty{% endfor %}", "empty")]
    [InlineData("{% for x in [1,2,3,4] if x is even %}{{ x }}{{ loop.length }}{% endfor %}", "2242")]
    [InlineData("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;")]
    [InlineData("{% for x in [1,2,3][::-1] %}{{ x }}{% endfor %}", "321")]
    [InlineData("{{ 'hello'[1:3] }}|{{ [1,2,3,4][-2:] }}|{{ 'abc'[-1] }}", "el|[3, 4]|c")]
    [InlineData("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}", "6")]
    [InlineData("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", "1")] // loop scope
    [InlineData("{{ 7 // 2 }} {{ 7 / 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ -7 // 2 }} {{ 1.5 + 1 }} {{ 2.0 }}", "3 3.5 1 1024 -4 2.5 2.0")]
    [InlineData("{{ 'a' ~ 1 ~ true }} {{ 'a' + 'b' }}", "a1true ab")]
    [InlineData("{{ 1 if false else 2 }}{{ 'x' if true }}{{ 'y' if false }}", "2x")]
    [InlineData("{{ 'b' in 'abc' }} {{ 2 not in [1, 3] }} {{ 'k' in {'k': 1} }}", "true true true")]
    [InlineData("{{ none }}{{ undefined_var }}{{ undefined_var.attr.deeper }}", "")]
    [InlineData("{{ x is defined }} {{ y is undefined }} {{ none is none }} {{ 'a' is string }} {{ 3 is number }}", "false true true true true")]
    [InlineData("{{ {} is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 3 is odd }} {{ true is boolean }} {{ false is false }}", "true true true true true true")]
    [InlineData("{{ '  pad  ' | trim }}|{{ 'ab' | upper }}|{{ 'AB' | lower }}|{{ 'hello world' | title }}|{{ 'hello' | capitalize }}", "pad|AB|ab|Hello World|Hello")]
    [InlineData("{{ [1,2,3] | length }} {{ 'abcd' | length }} {{ [3,1,2] | first }} {{ [3,1,2] | last }} {{ ['a','b'] | join(', ') }}", "3 4 3 2 a, b")]
    [InlineData("{{ [3,1,2] | sort | join }} {{ [1,1,2] | unique | join('-') }} {{ [1,2] | reverse | join }}", "123 1-2 21")]
    [InlineData("{{ x | default('d') }} {{ '' | default('e', true) }} {{ 'v' | default('f') }}", "d e v")]
    [InlineData("{{ '42' | int + 1 }} {{ '2.5' | float }} {{ -3 | abs }} {{ 3 | string }}", "43 2.5 3 3")]
    [InlineData("{{ 'a-b-c'.split('-') | join('+') }} {{ ' a  b '.split() | length }} {{ 'a-b-c'.split('-', 1)[1] }}", "a+b+c 2 b-c")]
    [InlineData("{{ 'xhix'.startswith('x') }} {{ 'xhix'.endswith(('q', 'ix')) }} {{ 'aaa'.replace('a', 'b', 2) }} {{ ' s '.strip() }}|", "true true bba s|")]
    [InlineData("{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b', 'z') }} {{ {'a': 1, 'b': 2}.keys() | join }} {{ {'a': 1}.values() | first }}", "1 z ab 1")]
    [InlineData("{{ ({'b': 2, 'a': 1} | dictsort)[0][0] }}{{ ({'a': 1, 'b': 2} | dictsort(by='value', reverse=true))[0][0] }}", "ab")]
    [InlineData("{{ 'l1\nl2\n\nl3' | indent(2) }}", "l1\n  l2\n\n  l3")]
    [InlineData("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }}", "Hi Bob! Hi Al?")]
    [InlineData("{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inner{% endcall %}", "[inner]")]
    [InlineData("{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}", "02")]
    [InlineData("{% set a, b = [1, 2] %}{{ b }}{{ a }}", "21")]
    [InlineData("{% set block %}inner {{ 1 }}{% endset %}{{ block }}", "inner 1")]
    [InlineData("{{ strftime_now('%Y-%m-%d %H:%M %b %B') }}", "2024-12-31 23:59 Dec December")]
    [InlineData("{{ [1, 'a', none, true, 1.5] }} {{ {'k': [1, {'n': none}]} }}", "[1, \"a\", null, true, 1.5] {\"k\": [1, {\"n\": null}]}")]
    [InlineData("{{ 'a' \"b\" 'c' }}{{ \"\\u00e9\\n\" }}", "abcé\n")]
    [InlineData("{% filter upper %}shout{% endfilter %}", "SHOUT")]
    public void RendersExpected(string template, string expected) => Assert.Equal(expected, R(template));

    [Fact]
    public void ContextVariablesAndMessages()
    {
        var ctx = new ChatTemplateContext { BosToken = "<s>", AddGenerationPrompt = true };
        ctx.Messages.Add(new ChatMessage("user", "hi"));
        ctx.Messages.Add(new ChatMessage("assistant", "yo") { ReasoningContent = "think" });
        ctx.Variables["enable_thinking"] = false;
        const string t = "{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m['content'] }}{% if m.reasoning_content is defined %}({{ m.reasoning_content }}){% endif %};{% endfor %}"
            + "{{ add_generation_prompt }}{{ enable_thinking is false }}{{ eos_token is defined }}{{ tools is defined }}";
        Assert.Equal("<s>user:hi;assistant:yo(think);truetruefalsefalse", ChatTemplate.Parse(t).Render(ctx));
    }

    [Theory]
    // tojson: Python-json spacing, JS number formatting, key order kept, indent and separators.
    [InlineData("{{ x | tojson }}", """{"x": {"b": 1, "a": [1.5, "é\"\n", true, null], "c": 1e21, "d": 0.000001, "e": 1e-7}}""",
        "{\"b\": 1, \"a\": [1.5, \"é\\\"\\n\", true, null], \"c\": 1e+21, \"d\": 0.000001, \"e\": 1e-7}")]
    [InlineData("{{ x | tojson(indent=2) }}", """{"x": {"a": [1, {}], "b": []}}""", "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}")]
    [InlineData("{{ x | tojson(separators=(',', ':')) }}", """{"x": {"a": [1, 2]}}""", "{\"a\":[1,2]}")]
    [InlineData("{{ x | tojson(ensure_ascii=true) }}", """{"x": "é漢"}""", "\"\\u00e9\\u6f22\"")]
    [InlineData("{{ x | tojson }}", """{"x": {"b": 1, "2": 2, "1": 3}}""", "{\"1\": 3, \"2\": 2, \"b\": 1}")] // JS integer-key order
    [InlineData("{{ x }} {{ x + 1 }} {{ y }}", """{"x": 2.0, "y": 0.5}""", "2 3 0.5")] // JSON 2.0 is an integer in JS
    public void JsonFormatting(string template, string json, string expected) => Assert.Equal(expected, R(template, json));

    [Fact]
    public void StripIgnoresCharsArgumentLikeHuggingFaceJinja()
    {
        // @huggingface/jinja's str.strip/lstrip/rstrip take no characters argument: all whitespace goes.
        Assert.Equal("[x]", R("[{{ ' \n x \n '.strip('\n') }}]"));
        Assert.Equal("[x \n]", R("[{{ '\n x \n'.lstrip('\n') }}]"));
    }
}
