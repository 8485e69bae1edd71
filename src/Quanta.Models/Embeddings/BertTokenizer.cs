using System.Globalization;
using System.Text;

namespace Quanta.Models.Embeddings;

/// <summary>
/// The BERT WordPiece tokenizer of a <c>vocab.txt</c> (one token per line, id = line number; continuation pieces
/// start with "##"), as Hugging Face's BertTokenizer does it: clean text (drop NUL, U+FFFD and control characters,
/// map whitespace to spaces), isolate CJK ideographs, optionally lower-case and strip accents (NFD, drop Mn), split
/// on whitespace and punctuation (Unicode P* plus the ASCII symbols), then cover each word greedily by the longest
/// vocabulary piece; a word longer than 100 characters or not fully coverable becomes [UNK].
/// </summary>
public sealed class BertTokenizer
{
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <summary>Builds the tokenizer from vocab.txt text.</summary>
    public BertTokenizer(string vocabText, bool lowercase = true)
    {
        ArgumentNullException.ThrowIfNull(vocabText);
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var lines = vocabText.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string t = lines[i].TrimEnd('\r');
            if (t.Length == 0 && i == lines.Length - 1) break;
            _ids.TryAdd(t, i);
        }
        _lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        Lowercase = lowercase;
        Cls = Id("[CLS]");
        Sep = Id("[SEP]");
        Pad = Id("[PAD]");
        Unk = Id("[UNK]");
    }

    private int Id(string token) => _ids.TryGetValue(token, out int id) ? id : throw new InvalidDataException($"vocab.txt has no {token} token");

    /// <summary>Whether text is lower-cased and accent-stripped first (uncased models).</summary>
    public bool Lowercase { get; }
    /// <summary>Id of [CLS].</summary>
    public int Cls { get; }
    /// <summary>Id of [SEP].</summary>
    public int Sep { get; }
    /// <summary>Id of [PAD].</summary>
    public int Pad { get; }
    /// <summary>Id of [UNK].</summary>
    public int Unk { get; }
    /// <summary>Vocabulary size.</summary>
    public int VocabularySize => _ids.Count;

    /// <summary>WordPiece ids of <paramref name="text"/> without [CLS]/[SEP].</summary>
    public List<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        var buf = new char[104];
        foreach (string word in BasicTokens(text))
        {
            if (word.Length > 100) { ids.Add(Unk); continue; }
            int before = ids.Count;
            var span = word.AsSpan();
            for (int start = 0; start < span.Length;)
            {
                int found = -1, end = span.Length;
                for (; end > start; end--)
                {
                    ReadOnlySpan<char> piece;
                    if (start == 0) piece = span[..end];
                    else
                    {
                        buf[0] = '#'; buf[1] = '#';
                        span[start..end].CopyTo(buf.AsSpan(2));
                        piece = buf.AsSpan(0, end - start + 2);
                    }
                    if (_lookup.TryGetValue(piece, out found)) break;
                    found = -1;
                }
                if (found < 0) { ids.RemoveRange(before, ids.Count - before); ids.Add(Unk); break; }
                ids.Add(found);
                start = end;
            }
        }
        return ids;
    }

    /// <summary>[CLS] + ids + [SEP], the ids cut so the whole fits <paramref name="maxTokens"/>.</summary>
    public long[] EncodeForModel(string text, int maxTokens)
    {
        var ids = Encode(text);
        int keep = Math.Min(ids.Count, Math.Max(0, maxTokens - 2));
        var r = new long[keep + 2];
        r[0] = Cls;
        for (int i = 0; i < keep; i++) r[i + 1] = ids[i];
        r[^1] = Sep;
        return r;
    }

    /// <summary>HF BasicTokenizer words (after cleaning, CJK isolation, casing/accents, whitespace and punctuation split).</summary>
    internal List<string> BasicTokens(string text)
    {
        var words = new List<string>();
        var cur = new StringBuilder();
        void Flush() { if (cur.Length > 0) { words.Add(cur.ToString()); cur.Clear(); } }
        foreach (var word in Clean(text).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string w = word;
            if (Lowercase) w = StripAccents(w.ToLowerInvariant());
            for (int i = 0; i < w.Length; i += char.IsSurrogatePair(w, i) ? 2 : 1)
            {
                int cp = char.ConvertToUtf32(w, i);
                if (IsPunctuation(cp))
                {
                    Flush();
                    words.Add(char.ConvertFromUtf32(cp));
                }
                else cur.Append(char.ConvertFromUtf32(cp));
            }
            Flush();
        }
        return words;
    }

    private static string Clean(string text)
    {
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i += char.IsSurrogatePair(text, i) ? 2 : 1)
        {
            int cp = char.IsSurrogatePair(text, i) ? char.ConvertToUtf32(text, i) : text[i];
            if (cp == 0 || cp == 0xFFFD) continue;
            if (cp is ' ' or '\t' or '\n' or '\r') { sb.Append(' '); continue; }
            var cat = CharUnicodeInfo.GetUnicodeCategory(cp);
            if (cat == UnicodeCategory.SpaceSeparator) { sb.Append(' '); continue; }
            if (cat is UnicodeCategory.Control or UnicodeCategory.Format) continue;
            if (IsCjk(cp)) { sb.Append(' ').Append(char.ConvertFromUtf32(cp)).Append(' '); continue; }
            sb.Append(char.ConvertFromUtf32(cp));
        }
        return sb.ToString();
    }

    private static string StripAccents(string s) => AccentStripper.Strip(s);

    private static bool IsPunctuation(int cp)
    {
        if (cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126)) return true;
        return CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    private static bool IsCjk(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
