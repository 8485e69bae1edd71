namespace Quanta.Core.Tokenizers;

/// <summary>
/// llama.cpp's WordPiece session (<c>llm_tokenizer_wpm_session</c>). Pre-processing: optional NFD (only the
/// first code point of each decomposition is kept, as llama.cpp does) with accent marks dropped, lower-casing,
/// splitting on whitespace, dropping NUL, U+FFFD and control characters, and isolating punctuation, ASCII
/// symbols and CJK ideographs as one-character words. Each word, prefixed with U+2581 (the GGUF BERT vocabulary
/// marks word starts that way instead of "##" continuations), is covered greedily by longest matching tokens;
/// a word that cannot be fully covered becomes [UNK].
/// </summary>
internal static class WpmEncoder
{
    public static void Encode(VocabTokenizer vocab, string text, List<int> output)
    {
        foreach (string word in Preprocess(text, vocab.Lowercase, vocab.StripAccents))
        {
            if (word.Length == 0) continue;
            string w = "\u2581" + word;
            int before = output.Count;
            for (int i = 0; i < w.Length;)
            {
                bool match = false;
                int maxLen = Math.Min(w.Length - i, vocab.MaxTokenBytes);
                for (int len = maxLen; len > 0; len--)
                {
                    if (char.IsHighSurrogate(w[i + len - 1])) continue; // never cut a surrogate pair
                    int id = vocab.Find(w.AsSpan(i, len));
                    if (id < 0) continue;
                    output.Add(id);
                    match = true;
                    i += len;
                    break;
                }
                if (!match)
                {
                    output.RemoveRange(before, output.Count - before);
                    break;
                }
            }
            if (output.Count == before)
                output.Add(vocab.Unk ?? throw new InvalidOperationException("WordPiece vocabulary without an unknown token"));
        }
    }

    internal static List<string> Preprocess(string text, bool lowercase, bool stripAccents)
    {
        int[] cpts = Unicode.Codepoints(text);
        var words = new List<string>();
        var cur = new System.Text.StringBuilder();
        foreach (int raw in cpts)
        {
            int cpt = stripAccents ? Unicode.NfdFirst(raw) : raw;
            CodepointFlags f = Unicode.Flags(cpt);
            if ((f & CodepointFlags.Whitespace) != 0)
            {
                if (cur.Length > 0) { words.Add(cur.ToString()); cur.Clear(); }
                continue;
            }
            if (cpt == 0 || cpt == 0xFFFD || (f & CodepointFlags.Control) != 0) continue;
            if (stripAccents && (f & CodepointFlags.AccentMark) != 0) continue;
            string s = char.ConvertFromUtf32(lowercase ? Unicode.ToLower(cpt) : cpt);
            if ((f & CodepointFlags.Punctuation) != 0 || (cpt < 0x7F && (f & CodepointFlags.Symbol) != 0) || IsChineseChar(cpt))
            {
                if (cur.Length > 0) { words.Add(cur.ToString()); cur.Clear(); }
                words.Add(s);
            }
            else
            {
                cur.Append(s);
            }
        }
        if (cur.Length > 0) words.Add(cur.ToString());
        return words;
    }

    private static bool IsChineseChar(int cpt) =>
        cpt is (>= 0x04E00 and <= 0x09FFF) or (>= 0x03400 and <= 0x04DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0x0F900 and <= 0x0FAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
