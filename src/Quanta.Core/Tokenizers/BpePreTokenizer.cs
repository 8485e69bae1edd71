using System.Text;
using System.Text.RegularExpressions;

namespace Quanta.Core.Tokenizers;

/// <summary>The regex families llama.cpp uses to split text into words before byte-level BPE.</summary>
public enum BpePreTokenizerKind
{
    /// <summary>llama.cpp's fallback for a missing or "default" pre-tokenizer name.</summary>
    Default,
    /// <summary>Llama 3 ("llama-bpe", "llama3", ...): contractions, letters, 1-3 digit groups, punctuation, newlines.</summary>
    Llama3,
    /// <summary>Qwen2: as Llama 3 but single digits.</summary>
    Qwen2,
    /// <summary>GPT-2 ("gpt-2", "mpt", ...).</summary>
    Gpt2,
    /// <summary>StarCoder / Refact: single digits, then the GPT-2 regex.</summary>
    StarCoder,
    /// <summary>Falcon: punctuation runs, the GPT-2 regex, then 3-digit groups.</summary>
    Falcon,
    /// <summary>DeepSeek LLM.</summary>
    DeepSeekLlm,
    /// <summary>DeepSeek Coder.</summary>
    DeepSeekCoder,
}

/// <summary>
/// Splits text into pre-tokenizer words exactly as llama.cpp's <c>unicode_regex_split</c> does for one
/// <see cref="BpePreTokenizerKind"/>: a chain of regexes, each splitting every piece the previous one produced
/// (text between matches stays as its own piece). The GPT-2 and Llama 3 regexes run as llama.cpp's
/// hand-written scanners; the others run as .NET regexes over one character per code point: either
/// llama.cpp's "collapsed" text (ASCII kept, other code points replaced by a category byte: whitespace
/// 0x0B, \p{N} 0xD1, \p{L} 0xD2, \p{P} 0xD3, \p{M} 0xD4, \p{S} 0xD5, anything else 0xD0) with \p{..}
/// classes rewritten to match, or, for regexes without \p{..}, the code points themselves with non-ASCII
/// whitespace replaced by 0x0B. Instances are immutable and thread-safe.
/// </summary>
internal sealed class BpePreTokenizer
{
    private abstract record Step;
    private sealed record Gpt2Step : Step;
    private sealed record Llama3Step : Step;
    private sealed record RegexStep(Regex Regex, bool Collapsed) : Step;

    private readonly Step[] _steps;

    public BpePreTokenizerKind Kind { get; }

    // The GPT-2 regex string llama.cpp recognises and runs with its custom scanner.
    private const string Gpt2Regex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

    // Code point classes from llama-vocab.cpp (no \p{..}, so they run on code points, "wregex" mode).
    private const string CjkRun = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";
    // DeepSeek LLM's cased-letter class; its supplementary-plane ranges are represented by SupplementaryLetter.
    private const string DeepSeekLetters =
        "A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373" +
        "\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481" +
        "\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B" +
        "\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B" +
        "\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB" +
        "\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128" +
        "\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4" +
        "\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF" +
        "\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A";

    /// <summary>Stands for a supplementary-plane code point inside DeepSeek LLM's letter class.</summary>
    private const char SupplementaryLetter = '\uDB00';
    /// <summary>Stands for any other supplementary-plane code point.</summary>
    private const char SupplementaryOther = '\uDC00';

    public BpePreTokenizer(BpePreTokenizerKind kind)
    {
        Kind = kind;
        _steps = kind switch
        {
            BpePreTokenizerKind.Llama3 => [new Llama3Step()],
            BpePreTokenizerKind.Gpt2 => [new Gpt2Step()],
            BpePreTokenizerKind.Qwen2 =>
            [
                Collapsed("(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            ],
            BpePreTokenizerKind.StarCoder => [Collapsed("\\p{N}"), new Gpt2Step()],
            BpePreTokenizerKind.Falcon =>
            [
                Collapsed("[\\p{P}\\$\\+<=>\\^~\\|`]+"),
                new Gpt2Step(),
                Codepoints("[0-9][0-9][0-9]"),
            ],
            BpePreTokenizerKind.DeepSeekLlm =>
            [
                Codepoints("[\r\n]"),
                Codepoints("\\s?[" + DeepSeekLetters + SupplementaryLetter + "]+"),
                Codepoints("\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+"),
                Codepoints("\\s+\\z"), // ECMAScript '$' (no multiline) is the end of the piece
                Codepoints(CjkRun),
                Collapsed("\\p{N}+"),
            ],
            BpePreTokenizerKind.DeepSeekCoder =>
            [
                Codepoints("[\r\n]"),
                Collapsed("\\s?\\p{L}+"),
                Collapsed("\\s?\\p{P}+"),
                Codepoints(CjkRun),
                Collapsed("\\p{N}"),
            ],
            _ =>
            [
                Collapsed("[\\p{P}\\$\\+<=>\\^~\\|]+"),
                new Gpt2Step(),
                Collapsed("\\p{N}+"),
                Codepoints("[0-9][0-9][0-9]"),
            ],
        };
    }

    private static RegexStep Codepoints(string pattern) => new(new Regex(pattern, RegexOptions.CultureInvariant), false);

    private static RegexStep Collapsed(string llamaPattern) =>
        new(new Regex(CollapsePattern(llamaPattern), RegexOptions.CultureInvariant), true);

    /// <summary>
    /// llama.cpp's rewrite of a regex for collapsed text: each \p{X} becomes the category byte plus the
    /// ASCII members of that category, wrapped in [...] unless already inside a bracket expression.
    /// </summary>
    internal static string CollapsePattern(string pattern)
    {
        var sb = new StringBuilder(pattern.Length * 2);
        bool inside = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '[' && (i == 0 || pattern[i - 1] != '\\'))
            {
                sb.Append('[');
                inside = true;
                continue;
            }
            if (inside && c == ']' && pattern[i - 1] != '\\')
            {
                sb.Append(']');
                inside = false;
                continue;
            }
            if (c == '\\' && i + 3 < pattern.Length && pattern[i + 1] == 'p' && pattern[i + 2] == '{')
            {
                int close = pattern.IndexOf('}', i + 3);
                if (close >= 0 && close <= i + 10)
                {
                    (char code, string ascii)? cat = pattern.Substring(i, close - i + 1) switch
                    {
                        "\\p{N}" => ('\u00D1', "0-9"),
                        "\\p{L}" or "\\p{Lu}" or "\\p{Ll}" or "\\p{Lt}" or "\\p{Lm}" or "\\p{Lo}" => ('\u00D2', "A-Za-z"),
                        "\\p{P}" => ('\u00D3', "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}"),
                        "\\p{M}" => ('\u00D4', ""),
                        "\\p{S}" => ('\u00D5', "\\$\\+<->\\^`\\|"),
                        _ => null,
                    };
                    if (cat is { } k)
                    {
                        if (!inside) sb.Append('[');
                        sb.Append(k.code).Append(k.ascii);
                        if (!inside) sb.Append(']');
                        i = close;
                        continue;
                    }
                }
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Splits <paramref name="text"/> into words and appends each word's byte-level form (GPT-2 byte map over
    /// its UTF-8 bytes) to <paramref name="words"/>.
    /// </summary>
    public void SplitByteLevel(string text, List<string> words)
    {
        int[] cpts = Unicode.Codepoints(text);
        if (cpts.Length == 0) return;
        var offsets = new List<int> { cpts.Length };
        string? collapsed = null, wide = null;
        foreach (Step step in _steps)
        {
            offsets = step switch
            {
                Gpt2Step => SplitGpt2(cpts, offsets),
                Llama3Step => SplitLlama3(cpts, offsets),
                RegexStep r => SplitRegex(r.Regex, r.Collapsed ? collapsed ??= CollapseText(cpts) : wide ??= WideText(cpts), offsets),
                _ => throw new InvalidOperationException("unknown pre-tokenizer step"),
            };
        }

        var sb = new StringBuilder();
        Span<char> utf16 = stackalloc char[2];
        int start = 0;
        foreach (int len in offsets)
        {
            sb.Clear();
            var word = new StringBuilder(len);
            for (int i = start; i < start + len; i++)
            {
                int n = new Rune(cpts[i]).EncodeToUtf16(utf16);
                word.Append(utf16[..n]);
            }
            ByteLevelMap.Encode(word.ToString(), sb);
            words.Add(sb.ToString());
            start += len;
        }
    }

    private static string CollapseText(int[] cpts)
    {
        var chars = new char[cpts.Length];
        for (int i = 0; i < cpts.Length; i++)
        {
            int cp = cpts[i];
            if (cp < 128) { chars[i] = (char)cp; continue; }
            CodepointFlags f = Unicode.Flags(cp);
            chars[i] = (f & CodepointFlags.Whitespace) != 0 ? '\v' : (f & CodepointFlags.CategoryMask) switch
            {
                CodepointFlags.Number => '\u00D1',
                CodepointFlags.Letter => '\u00D2',
                CodepointFlags.Punctuation => '\u00D3',
                CodepointFlags.AccentMark => '\u00D4',
                CodepointFlags.Symbol => '\u00D5',
                _ => '\u00D0',
            };
        }
        return new string(chars);
    }

    private static string WideText(int[] cpts)
    {
        var chars = new char[cpts.Length];
        for (int i = 0; i < cpts.Length; i++)
        {
            int cp = cpts[i];
            if (cp > 0x7F && Unicode.IsWhiteSpaceProperty(cp)) chars[i] = '\v';
            else if (cp <= 0xFFFF) chars[i] = (char)cp;
            else chars[i] = IsDeepSeekSupplementaryLetter(cp) ? SupplementaryLetter : SupplementaryOther;
        }
        return new string(chars);
    }

    private static bool IsDeepSeekSupplementaryLetter(int cp) =>
        cp is (>= 0x10400 and <= 0x1044F) or (>= 0x104B0 and <= 0x104D3) or (>= 0x104D8 and <= 0x104FB)
            or (>= 0x10C80 and <= 0x10CB2) or (>= 0x10CC0 and <= 0x10CF2) or (>= 0x118A0 and <= 0x118DF)
            or (>= 0x1E900 and <= 0x1E943);

    private static List<int> SplitRegex(Regex regex, string text, List<int> offsets)
    {
        var result = new List<int>(offsets.Count * 2);
        int start = 0;
        foreach (int len in offsets)
        {
            string piece = text.Substring(start, len);
            int idx = 0;
            for (Match m = regex.Match(piece); m.Success; m = m.NextMatch())
            {
                if (m.Index > idx) result.Add(m.Index - idx);
                if (m.Length > 0) result.Add(m.Length);
                idx = m.Index + m.Length;
            }
            if (idx < len) result.Add(len - idx);
            start += len;
        }
        return result;
    }

    // ---- llama.cpp's hand-written scanners -------------------------------------------------------------

    private const int OutOfRange = -1;

    private static List<int> SplitGpt2(int[] cpts, List<int> offsets)
    {
        var result = new List<int>(offsets.Count * 2);
        int start = 0;
        foreach (int offset in offsets)
        {
            int ini = start, end = start + offset;
            start = end;
            int prevEnd = ini;
            int Cpt(int p) => p >= ini && p < end ? cpts[p] : OutOfRange;
            CodepointFlags Fl(int p) => p >= ini && p < end ? Unicode.Flags(cpts[p]) : CodepointFlags.None;
            int Add(int e)
            {
                int len = e - prevEnd;
                if (len > 0) result.Add(len);
                prevEnd = e;
                return len;
            }

            for (int pos = ini; pos < end;)
            {
                int cpt = Cpt(pos);
                CodepointFlags flags = Fl(pos);

                if (cpt == '\'' && pos + 1 < end)
                {
                    int next = Cpt(pos + 1);
                    if (next is 's' or 't' or 'm' or 'd') { pos += Add(pos + 2); continue; }
                    if (pos + 2 < end)
                    {
                        int next2 = Cpt(pos + 2);
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                        {
                            pos += Add(pos + 3);
                            continue;
                        }
                    }
                }

                CodepointFlags flags2 = cpt == ' ' ? Fl(pos + 1) : flags;
                if ((flags2 & CodepointFlags.Letter) != 0)
                {
                    pos += cpt == ' ' ? 1 : 0;
                    while ((flags2 & CodepointFlags.Letter) != 0) flags2 = Fl(++pos);
                    Add(pos);
                    continue;
                }
                if ((flags2 & CodepointFlags.Number) != 0)
                {
                    pos += cpt == ' ' ? 1 : 0;
                    while ((flags2 & CodepointFlags.Number) != 0) flags2 = Fl(++pos);
                    Add(pos);
                    continue;
                }
                if (IsOther(flags2))
                {
                    pos += cpt == ' ' ? 1 : 0;
                    while (IsOther(flags2)) flags2 = Fl(++pos);
                    Add(pos);
                    continue;
                }

                int ws = 0;
                while ((Fl(pos + ws) & CodepointFlags.Whitespace) != 0) ws++;
                if (ws > 1 && Cpt(pos + ws) != OutOfRange)
                {
                    pos += ws - 1;
                    Add(pos);
                    continue;
                }
                if (ws > 0)
                {
                    pos += ws;
                    Add(pos);
                    continue;
                }
                Add(++pos);
            }
        }
        return result;
    }

    // [^\s\p{L}\p{N}] for an in-range code point (flags None means out of range).
    private static bool IsOther(CodepointFlags f) =>
        f != CodepointFlags.None && (f & (CodepointFlags.Whitespace | CodepointFlags.Letter | CodepointFlags.Number)) == 0;

    private static List<int> SplitLlama3(int[] cpts, List<int> offsets)
    {
        var result = new List<int>(offsets.Count * 2);
        int start = 0;
        foreach (int offset in offsets)
        {
            int ini = start, end = start + offset;
            start = end;
            int prevEnd = ini;
            int Cpt(int p) => p >= ini && p < end ? cpts[p] : OutOfRange;
            CodepointFlags Fl(int p) => p >= ini && p < end ? Unicode.Flags(cpts[p]) : CodepointFlags.None;
            int Add(int e)
            {
                int len = e - prevEnd;
                if (len > 0) result.Add(len);
                prevEnd = e;
                return len;
            }

            for (int pos = ini; pos < end;)
            {
                int cpt = Cpt(pos);
                CodepointFlags flags = Fl(pos);

                // (?i:'s|'t|'re|'ve|'m|'ll|'d)
                if (cpt == '\'' && pos + 1 < end)
                {
                    int next = Unicode.ToLower(Cpt(pos + 1));
                    if (next is 's' or 't' or 'm' or 'd') { pos += Add(pos + 2); continue; }
                    if (pos + 2 < end)
                    {
                        int next2 = Unicode.ToLower(Cpt(pos + 2));
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                        {
                            pos += Add(pos + 3);
                            continue;
                        }
                    }
                }

                // [^\r\n\p{L}\p{N}]?\p{L}+
                if (!(cpt == '\r' || cpt == '\n' || (flags & CodepointFlags.Number) != 0))
                {
                    if ((flags & CodepointFlags.Letter) != 0 || (Fl(pos + 1) & CodepointFlags.Letter) != 0)
                    {
                        pos++;
                        while ((Fl(pos) & CodepointFlags.Letter) != 0) pos++;
                        Add(pos);
                        continue;
                    }
                }

                // \p{N}{1,3}
                if ((flags & CodepointFlags.Number) != 0)
                {
                    int first = pos;
                    while ((Fl(pos) & CodepointFlags.Number) != 0)
                    {
                        if (++pos - first >= 3)
                        {
                            Add(pos);
                            first = pos;
                        }
                    }
                    Add(pos);
                    continue;
                }

                // <space>?[^\s\p{L}\p{N}]+[\r\n]*
                CodepointFlags flags2 = cpt == ' ' ? Fl(pos + 1) : flags;
                if ((flags2 & (CodepointFlags.Whitespace | CodepointFlags.Letter | CodepointFlags.Number)) == 0 && flags != CodepointFlags.None)
                {
                    pos += cpt == ' ' ? 1 : 0;
                    while (IsOther(flags2)) flags2 = Fl(++pos);
                    int c2 = Cpt(pos);
                    while (c2 is '\r' or '\n') c2 = Cpt(++pos);
                    Add(pos);
                    continue;
                }

                int ws = 0, lastRn = 0;
                while ((Fl(pos + ws) & CodepointFlags.Whitespace) != 0)
                {
                    int c2 = Cpt(pos + ws);
                    if (c2 is '\r' or '\n') lastRn = pos + ws + 1;
                    ws++;
                }
                // \s*[\r\n]+
                if (lastRn > 0)
                {
                    pos = lastRn;
                    Add(pos);
                    continue;
                }
                // \s+(?!\S)
                if (ws > 1 && Cpt(pos + ws) != OutOfRange)
                {
                    pos += ws - 1;
                    Add(pos);
                    continue;
                }
                // \s+
                if (ws > 0)
                {
                    pos += ws;
                    Add(pos);
                    continue;
                }
                Add(++pos);
            }
        }
        return result;
    }
}
