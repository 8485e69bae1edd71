namespace Quanta.Core.Templates;

/// <summary>
/// The template source after @huggingface/jinja's preprocessing (drop one trailing newline,
/// lstrip_blocks, trim_blocks, generation tags), with a map from each preprocessed character
/// back to its offset in the original source so errors can report original line/column.
/// </summary>
internal sealed class SourceText
{
    private readonly string _original;
    private readonly int[] _map; // [Text.Length + 1]: preprocessed index -> original offset

    public string Text { get; }

    private SourceText(string original, string text, int[] map)
    {
        _original = original;
        Text = text;
        _map = map;
    }

    public int OriginalOffset(int index) => _map[Math.Clamp(index, 0, _map.Length - 1)];

    /// <summary>1-based (line, column) of an original-source offset.</summary>
    public (int Line, int Column) Position(int originalOffset)
    {
        int line = 1, col = 1;
        int end = Math.Min(originalOffset, _original.Length);
        for (int i = 0; i < end; i++)
        {
            if (_original[i] == '\n') { line++; col = 1; }
            else col++;
        }
        return (line, col);
    }

    public static SourceText Preprocess(string source)
    {
        var chars = new List<char>(source.Length);
        var map = new List<int>(source.Length + 1);
        int n = source.EndsWith('\n') ? source.Length - 1 : source.Length;
        for (int i = 0; i < n; i++) { chars.Add(source[i]); map.Add(i); }

        // lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1" (JS multiline ^ also follows \r, \u2028, \u2029)
        var c2 = new List<char>(chars.Count);
        var m2 = new List<int>(chars.Count + 1);
        for (int i = 0; i < chars.Count;)
        {
            bool lineStart = i == 0 || IsJsLineTerminator(chars[i - 1]);
            if (lineStart)
            {
                int j = i;
                while (j < chars.Count && (chars[j] == ' ' || chars[j] == '\t')) j++;
                if (j + 1 < chars.Count && chars[j] == '{' && (chars[j + 1] == '#' || chars[j + 1] == '%' || chars[j + 1] == '-'))
                {
                    i = j; // drop the indentation
                }
            }
            c2.Add(chars[i]); m2.Add(map[i]); i++;
            // keep scanning; the removed run only applies at line starts
            while (i < chars.Count && !(IsJsLineTerminator(chars[i - 1])))
            {
                c2.Add(chars[i]); m2.Add(map[i]); i++;
            }
        }

        // trim_blocks: /([#%-]})\n/g -> "$1"
        var c3 = new List<char>(c2.Count);
        var m3 = new List<int>(c2.Count + 1);
        for (int i = 0; i < c2.Count; i++)
        {
            if (i + 2 < c2.Count && (c2[i] == '#' || c2[i] == '%' || c2[i] == '-') && c2[i + 1] == '}' && c2[i + 2] == '\n')
            {
                c3.Add(c2[i]); m3.Add(m2[i]);
                c3.Add(c2[i + 1]); m3.Add(m2[i + 1]);
                i += 2; // skip the newline
                continue;
            }
            c3.Add(c2[i]); m3.Add(m2[i]);
        }

        // {% generation %} / {% endgeneration %} tags are removed (with optional whitespace control).
        var c4 = new List<char>(c3.Count);
        var m4 = new List<int>(c3.Count + 1);
        for (int i = 0; i < c3.Count;)
        {
            if (c3[i] == '{' && i + 1 < c3.Count && c3[i + 1] == '%' && TryMatchGenerationTag(c3, i, out int tagEnd, out bool lstrip, out bool rstrip))
            {
                if (lstrip)
                {
                    while (c4.Count > 0 && JsText.IsWhitespace(c4[^1])) { c4.RemoveAt(c4.Count - 1); m4.RemoveAt(m4.Count - 1); }
                }
                i = tagEnd;
                if (rstrip)
                {
                    while (i < c3.Count && JsText.IsWhitespace(c3[i])) i++;
                }
                continue;
            }
            c4.Add(c3[i]); m4.Add(m3[i]); i++;
        }
        m4.Add(source.Length);
        return new SourceText(source, new string(c4.ToArray()), m4.ToArray());
    }

    private static bool TryMatchGenerationTag(List<char> s, int start, out int end, out bool lstrip, out bool rstrip)
    {
        end = 0; lstrip = false; rstrip = false;
        int i = start + 2;
        if (i < s.Count && s[i] == '-') { lstrip = true; i++; }
        while (i < s.Count && JsText.IsWhitespace(s[i])) i++;
        if (Matches(s, i, "end")) i += 3;
        if (!Matches(s, i, "generation")) return false;
        i += "generation".Length;
        while (i < s.Count && JsText.IsWhitespace(s[i])) i++;
        if (i < s.Count && s[i] == '-') { rstrip = true; i++; }
        if (!Matches(s, i, "%}")) return false;
        end = i + 2;
        return true;
    }

    private static bool Matches(List<char> s, int i, string word)
    {
        if (i + word.Length > s.Count) return false;
        for (int k = 0; k < word.Length; k++) if (s[i + k] != word[k]) return false;
        return true;
    }

    private static bool IsJsLineTerminator(char c) => c is '\n' or '\r' or '\u2028' or '\u2029';
}
