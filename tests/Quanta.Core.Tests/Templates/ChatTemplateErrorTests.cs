using System.Text.Json.Nodes;
using Quanta.Core.Templates;

namespace Quanta.Core.Tests.Templates;

/// <summary>Syntax errors carry the original line/column; runtime errors and raise_exception surface as TemplateException.</summary>
public sealed class ChatTemplateErrorTests
{
    [Theory]
    [InlineData("{% if x %}a", 1, 11)]                       // missing endif: reported at end of template
    [InlineData("line1\n  {{ 1 + }}", 2, 10)]                 // '}}' where an operand is expected
    [InlineData("a\nb\n{% frobnicate %}", 3, 4)]              // unknown statement name
    [InlineData("{{ 'abc\\q' }}", 1, 8)]                      // bad escape
    [InlineData("ok\n{{ x ? y }}", 2, 6)]                     // unexpected character
    [InlineData("{% for in xs %}{% endfor %}", 1, 11)]        // "in" taken as the loop variable; `in` missing at xs
    [InlineData("\t\t{# never closed", 1, 3)]
    public void SyntaxErrorsReportPosition(string source, int line, int column)
    {
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source));
        Assert.False(e.IsRaisedByTemplate);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains($"line {line}, column {column}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RaiseExceptionCarriesTemplateMessage()
    {
        var t = ChatTemplate.Parse("{% if messages | length == 0 %}\n  {{ raise_exception('No messages: ' ~ 0) }}\n{% endif %}");
        var e = Assert.Throws<TemplateException>(() => t.Render(new ChatTemplateContext()));
        Assert.True(e.IsRaisedByTemplate);
        Assert.Equal("No messages: 0", e.Reason);
        Assert.Equal(2, e.Line);
    }

    [Theory]
    [InlineData("{{ x.y + 1 }}", "Cannot perform operation + on undefined values")]
    [InlineData("{{ none ~ 'a' }}", "Cannot perform operation on null values")]
    [InlineData("{{ 3 | trim }}", "Unknown NumericValue filter: trim")]
    [InlineData("{{ x() }}", "Cannot call something that is not a function: got UndefinedValue")]
    [InlineData("{% for x in 3 %}{% endfor %}", "Expected iterable or object type in for loop: got IntegerValue")]
    [InlineData("{% set d = {} %}{% set d.a = 1 %}", "cannot assign attribute on non-namespace object")]
    public void RuntimeErrors(string source, string reason)
    {
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source).Render(new JsonObject()));
        Assert.Equal(reason, e.Reason);
        Assert.True(e.Line >= 1);
    }

    [Fact]
    public void ContextCannotRedefineGlobals()
    {
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.Parse("x").Render(new JsonObject { ["range"] = 1 }));
        Assert.Contains("range", e.Message, StringComparison.Ordinal);
    }
}
