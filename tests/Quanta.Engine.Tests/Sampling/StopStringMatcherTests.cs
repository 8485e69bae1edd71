using System.Text;
using Quanta.Engine.Sampling;

namespace Quanta.Engine.Tests.Sampling;

public sealed class StopStringMatcherTests
{
    /// <summary>Feeds chunks; returns everything emitted (including the final flush) and the stop result.</summary>
    private static (string Text, bool Stopped, int StopIndex, List<string> Emitted) Run(string[] stops, params string[] chunks)
    {
        var m = new StopStringMatcher(stops);
        var all = new StringBuilder();
        var emitted = new List<string>();
        foreach (string c in chunks)
        {
            var r = m.Append(c);
            emitted.Add(r.Text);
            all.Append(r.Text);
            if (r.Stopped) return (all.ToString(), true, r.StopIndex, emitted);
        }
        all.Append(m.Flush());
        return (all.ToString(), false, -1, emitted);
    }

    [Fact]
    public void NoStops_PassesTextThrough()
    {
        var r = Run([], "Hello", ", ", "world");
        Assert.Equal("Hello, world", r.Text);
        Assert.Equal(["Hello", ", ", "world"], r.Emitted);
        Assert.False(r.Stopped);
    }

    [Fact]
    public void StopWithinOneChunk_IsCut_AndNotEmitted()
    {
        var r = Run(["END"], "abc", "deENDfg", "more");
        Assert.True(r.Stopped);
        Assert.Equal("abcde", r.Text);
        Assert.Equal(0, r.StopIndex);
    }

    [Fact]
    public void StopAcrossTokenBoundaries_HoldsBackPrefix()
    {
        var m = new StopStringMatcher(["</s>"]);
        var a = m.Append("Hi <");
        Assert.Equal("Hi ", a.Text); // "<" may start the stop: held
        Assert.Equal(1, m.PendingLength);
        var b = m.Append("/");
        Assert.Equal("", b.Text);
        var c = m.Append("s");
        Assert.Equal("", c.Text);
        var d = m.Append(">tail");
        Assert.True(d.Stopped);
        Assert.Equal("", d.Text);
        Assert.True(m.Stopped);
        Assert.Equal("", m.Flush());
        Assert.True(m.Append("ignored").Stopped);
    }

    [Fact]
    public void HeldPrefix_IsReleased_WhenItCannotBeAStop()
    {
        var m = new StopStringMatcher(["</s>"]);
        Assert.Equal("x", m.Append("x</").Text);
        Assert.Equal("</b", m.Append("b").Text); // "</b" cannot start "</s>": released in full
        Assert.Equal(0, m.PendingLength);
        Assert.Equal("a", m.Append("a<").Text);
        Assert.Equal("<", m.Flush()); // end of generation releases what was held
    }

    [Fact]
    public void OverlappingPrefixes_FindStopAfterFalseStart()
    {
        // "aab": after "aa" the held text must be re-examined; the stop "ab" starts at the second 'a'.
        var r = Run(["ab"], "xa", "a", "b", "z");
        Assert.True(r.Stopped);
        Assert.Equal("xa", r.Text);
        // Self-overlapping stop "abab" in "ababab" split oddly.
        var r2 = Run(["abab"], "ab", "a", "ba", "b");
        Assert.True(r2.Stopped);
        Assert.Equal("", r2.Text);
        var r3 = Run(["abac"], "ab", "ab", "ac!");
        Assert.True(r3.Stopped);
        Assert.Equal("ab", r3.Text);
    }

    [Fact]
    public void MultipleStops_EarliestCompletedWins()
    {
        var r = Run(["world", "lo"], "hel", "lo world");
        Assert.True(r.Stopped);
        Assert.Equal("hel", r.Text);
        Assert.Equal(1, r.StopIndex);
        // Both complete in the same chunk: the one starting earlier wins.
        var r2 = Run(["cd", "bcde"], "a", "bcdef");
        Assert.Equal("a", r2.Text);
        Assert.Equal(1, r2.StopIndex);
        // Same start: the longer one.
        var r3 = Run(["ab", "abc"], "xabcd");
        Assert.Equal("x", r3.Text);
        Assert.Equal(1, r3.StopIndex);
        // Held text covers the longest possible prefix among all stops.
        var m = new StopStringMatcher(["xyz", "yq"]);
        Assert.Equal("a", m.Append("axy").Text);
        var s = m.Append("q");
        Assert.True(s.Stopped);
        Assert.Equal("x", s.Text);
    }

    [Fact]
    public void Unicode_StopsAcrossSurrogatesAndMultibyteText()
    {
        const string stop = "終わり🛑";
        string full = "これで" + stop + "after";
        // Every possible split into single UTF-16 units (the emoji is a surrogate pair, split across chunks).
        var chunks = full.Select(c => c.ToString()).ToArray();
        var r = Run([stop], chunks);
        Assert.True(r.Stopped);
        Assert.Equal("これで", r.Text);
        // Emitted chunks never end in half a surrogate pair.
        var m = new StopStringMatcher(["zz"]);
        string emoji = "😀";
        var a = m.Append("a" + emoji[0]);
        Assert.Equal("a", a.Text);
        var b = m.Append(emoji[1] + "b");
        Assert.Equal(emoji + "b", b.Text);
        // Ordinal matching: a precomposed é does not match e + combining accent.
        var n = Run(["é"], "cafe\u0301");
        Assert.False(n.Stopped);
        Assert.Equal("cafe\u0301", n.Text);
    }

    [Fact]
    public void RandomSplits_AgreeWithWholeTextSearch()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        const string alphabet = "abc";
        for (int trial = 0; trial < 500; trial++)
        {
            var stops = Enumerable.Range(0, 1 + rng.Next(3))
                .Select(_ => new string(Enumerable.Range(0, 1 + rng.Next(4)).Select(_ => alphabet[rng.Next(3)]).ToArray())).ToArray();
            string text = new(Enumerable.Range(0, rng.Next(30)).Select(_ => alphabet[rng.Next(3)]).ToArray());
            var chunks = new List<string>();
            for (int i = 0; i < text.Length;)
            {
                int len = Math.Min(text.Length - i, 1 + rng.Next(4));
                chunks.Add(text.Substring(i, len));
                i += len;
            }
            // Expected: stop at the first chunk boundary where some stop is complete; cut at the earliest start
            // among the stops complete there (occurrences inside earlier text would have stopped earlier).
            string expected = text;
            bool expectStop = false;
            int seen = 0;
            foreach (string c in chunks)
            {
                seen += c.Length;
                string prefix = text[..seen];
                int cut = stops.Select(s => prefix.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
                if (cut >= 0) { expected = text[..cut]; expectStop = true; break; }
            }
            var r = Run(stops, [.. chunks]);
            string context = $"seed {seed} trial {trial}: stops [{string.Join(",", stops)}] chunks [{string.Join("|", chunks)}]";
            Assert.True(expectStop == r.Stopped, context);
            Assert.True(expected == r.Text, $"{context}: got '{r.Text}', expected '{expected}'");
        }
    }
}
