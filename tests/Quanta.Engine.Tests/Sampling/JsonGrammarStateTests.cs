using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Quanta.Engine.Sampling;

namespace Quanta.Engine.Tests.Sampling;

/// <summary>The incremental JSON recognizer agrees with System.Text.Json (the oracle) and with RFC 8259 / RFC 3629.</summary>
public sealed class JsonGrammarStateTests
{
    private static bool OracleAccepts(byte[] text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool OursAccepts(ReadOnlySpan<byte> text, bool objectOnly = false)
    {
        var s = JsonGrammarState.Start(objectOnly);
        return s.Feed(text) && s.IsComplete;
    }

    // inputs inside our two documented limits (depth, whitespace run), where the oracle must agree exactly
    private static bool WithinLimits(byte[] text)
    {
        int run = 0, depth = 0, maxDepth = 0;
        foreach (byte b in text)
        {
            run = b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' ? run + 1 : 0;
            if (run > JsonGrammarState.MaxWhitespaceRun) return false;
            if (b is (byte)'{' or (byte)'[') maxDepth = Math.Max(maxDepth, ++depth);   // upper bound (brackets in strings count too)
        }
        return maxDepth <= JsonGrammarState.MaxDepth;
    }

    private static readonly string[] Fragments =
    [
        "{", "}", "[", "]", ",", ":", "\"", "\"k\"", "\"a b\"", "\\", "\\n", "\\\"", "\\u00e9", "\\uD83D\\uDE00", "\\u12", "\\x",
        "é", "😀", "\u0001", "\t", " ", "\n", "\r", "0", "1", "7", "-", ".", "e", "E", "+", "00", "01", "-0", "1.5", "2e10",
        "true", "tru", "false", "null", "nul", "x", "/", "'",
    ];

    private static readonly Gen<string> FragmentText = Gen.Int[0, Fragments.Length - 1].Select(i => Fragments[i]).Array[0, 24].Select(parts => string.Concat(parts));

    [Fact]
    public void Agrees_with_System_Text_Json_on_random_fragment_strings()
    {
        FragmentText.Sample(text =>
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            if (!WithinLimits(bytes)) return;
            Assert.True(OracleAccepts(bytes) == OursAccepts(bytes), $"{text} (oracle accepts: {OracleAccepts(bytes)})");
        }, iter: 20_000);
    }

    private static Gen<JsonNode?> Node(int depth)
    {
        Gen<JsonNode?> scalar = Gen.OneOf(
            Gen.Int.Select(i => (JsonNode?)JsonValue.Create(i)),
            Gen.Double.Where(double.IsFinite).Select(d => (JsonNode?)JsonValue.Create(d)),
            Gen.String.Select(s => (JsonNode?)JsonValue.Create(s)),
            Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
            Gen.Const((JsonNode?)null));
        if (depth == 0) return scalar;
        Gen<JsonNode?> child = Node(depth - 1);
        return Gen.Frequency(
            (3, scalar),
            (1, child.Array[0, 4].Select(items => (JsonNode?)new JsonArray(items))),
            (1, Gen.Select(Gen.String[0, 6], child).Array[0, 4].Select(pairs =>
            {
                var o = new JsonObject();
                foreach (var (k, v) in pairs) o[k] = v;
                return (JsonNode?)o;
            })));
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    [Fact]
    public void Agrees_with_System_Text_Json_on_serialized_and_mutated_documents()
    {
        byte[] alphabet = "{}[],:\"\\ \n0123456789-+.eEtfnrul"u8.ToArray();
        var gen = Gen.Select(Node(4), Gen.Bool, Gen.Int[0, 3], Gen.Int, Gen.Int[0, alphabet.Length - 1]);
        gen.Sample((node, indent, mutation, where, pick) =>
        {
            string text = node is null ? "null" : node.ToJsonString(indent ? Indented : null);
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            if (mutation > 0 && bytes.Length > 0)
            {
                int at = (int)((uint)where % (uint)bytes.Length);
                var list = bytes.ToList();
                if (mutation == 1) list.RemoveAt(at);
                else if (mutation == 2) list.Insert(at, alphabet[pick]);
                else list[at] = alphabet[pick];
                bytes = [.. list];
            }
            if (!WithinLimits(bytes)) return;
            Assert.True(OracleAccepts(bytes) == OursAccepts(bytes), $"{Encoding.UTF8.GetString(bytes)} (oracle accepts: {OracleAccepts(bytes)})");
        }, iter: 5_000);
    }

    [Fact]
    public void Every_accepted_prefix_completes_to_a_document_the_oracle_accepts()
    {
        FragmentText.Sample(text =>
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            var s = JsonGrammarState.Start(objectOnly: false);
            Span<byte> tail = stackalloc byte[JsonGrammarState.MaxDepth + 16];
            for (int i = 0; i <= bytes.Length; i++)
            {
                int n = s.Completion(tail);
                Assert.True(n >= 0, $"no completion after {i} bytes of {text}");
                Assert.True(n == s.CompletionLength, $"CompletionLength {s.CompletionLength} != {n} after {i} bytes of {text}");
                byte[] whole = [.. bytes.AsSpan(0, i), .. tail[..n]];
                Assert.True(OracleAccepts(whole), $"'{Encoding.UTF8.GetString(whole)}' (prefix {i} of {text})");
                var check = s;
                Assert.True(check.Feed(tail[..n]) && check.IsComplete);
                if (i == bytes.Length || !s.Feed(bytes[i])) break;
            }
        }, iter: 5_000);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0xA9 }, true)]              // é
    [InlineData(new byte[] { 0xE2, 0x82, 0xAC }, true)]        // €
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98, 0x80 }, true)]  // 😀
    [InlineData(new byte[] { 0xF4, 0x8F, 0xBF, 0xBF }, true)]  // U+10FFFF
    [InlineData(new byte[] { 0xC0, 0x80 }, false)]             // overlong NUL
    [InlineData(new byte[] { 0xC1, 0xBF }, false)]             // overlong
    [InlineData(new byte[] { 0xE0, 0x80, 0x80 }, false)]       // overlong 3-byte
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, false)]       // surrogate D800
    [InlineData(new byte[] { 0xF0, 0x80, 0x80, 0x80 }, false)] // overlong 4-byte
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 }, false)] // above U+10FFFF
    [InlineData(new byte[] { 0xF5, 0x80, 0x80, 0x80 }, false)]
    [InlineData(new byte[] { 0x80 }, false)]                   // lone continuation
    [InlineData(new byte[] { 0xC3 }, false)]                   // truncated before the closing quote
    [InlineData(new byte[] { 0x1F }, false)]                   // raw control character
    [InlineData(new byte[] { 0x7F }, true)]                    // DEL is allowed raw
    public void Strings_hold_well_formed_utf8_only(byte[] content, bool valid)
    {
        byte[] text = [(byte)'"', .. content, (byte)'"'];
        Assert.Equal(valid, OursAccepts(text));
    }

    [Fact]
    public void Object_only_mode_requires_an_object_at_the_top()
    {
        Assert.True(OursAccepts("{}"u8, objectOnly: true));
        Assert.True(OursAccepts(" {\"a\": [1, {\"b\": null}]} "u8, objectOnly: true));
        Assert.False(OursAccepts("[1]"u8, objectOnly: true));
        Assert.False(OursAccepts("1"u8, objectOnly: true));
        Assert.False(OursAccepts("\"x\""u8, objectOnly: true));
        var s = JsonGrammarState.Start(objectOnly: true);
        Assert.True(s.Feed("{\"a\":1}"u8));
        Assert.True(s.IsDone);
        Assert.False(s.Feed((byte)'{'));   // one object only
    }

    [Fact]
    public void Whitespace_runs_and_depth_are_bounded()
    {
        var s = JsonGrammarState.Start(objectOnly: true);
        for (int i = 0; i < JsonGrammarState.MaxWhitespaceRun; i++) Assert.True(s.Feed((byte)' '));
        Assert.False(s.Feed((byte)'\n'));
        s = JsonGrammarState.Start(objectOnly: false);
        for (int i = 0; i < JsonGrammarState.MaxDepth; i++) Assert.True(s.Feed((byte)'['));
        Assert.False(s.Feed((byte)'['));
        s = JsonGrammarState.Start(objectOnly: false);
        Assert.True(s.Feed("[\"          \"]"u8));   // spaces inside strings are content, not counted
    }

    [Fact]
    public void Completion_closes_every_open_construct()
    {
        static string Complete(string prefix)
        {
            var s = JsonGrammarState.Start(objectOnly: true);
            Assert.True(s.Feed(Encoding.UTF8.GetBytes(prefix)));
            Span<byte> tail = stackalloc byte[64];
            return prefix + Encoding.UTF8.GetString(tail[..s.Completion(tail)]);
        }
        Assert.Equal("{}", Complete(""));
        Assert.Equal("{\"a\":[1,tru" + "e]}", Complete("{\"a\":[1,tru"));
        Assert.Equal("{\"k\\u0000\":0}", Complete("{\"k\\u0"));
        Assert.Equal("{\"a\":-0}", Complete("{\"a\":-"));
        Assert.Equal("{\"a\":{\"\":0}}", Complete("{\"a\":{\""));
        foreach (string p in new[] { "{\"k\\u0", "{\"a\":1e", "{\"a\":[[1.", "{\"x\\" })
            Assert.True(OracleAccepts(Encoding.UTF8.GetBytes(Complete(p))), Complete(p));
    }
}
