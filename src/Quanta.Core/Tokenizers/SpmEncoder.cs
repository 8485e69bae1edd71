using System.Text;

namespace Quanta.Core.Tokenizers;

/// <summary>
/// llama.cpp's SentencePiece BPE session (<c>llm_tokenizer_spm_session</c>): the text (spaces already escaped to
/// U+2581) starts as one symbol per code point; adjacent pairs whose concatenation is a vocabulary token are
/// merged, highest token score first (ties: leftmost); each final symbol is emitted as its token, or as byte
/// tokens (&lt;0xXX&gt;) of its UTF-8 bytes when it is not a token.
/// </summary>
internal static class SpmEncoder
{
    private struct Symbol
    {
        public int Start;  // char offset in the text
        public int Length; // chars; 0 once merged into the left neighbour
        public int Prev;
        public int Next;
    }

    private readonly record struct Bigram(int Left, int Right, int Size);

    private sealed class BigramOrder : IComparer<(float Score, int Left)>
    {
        public static readonly BigramOrder Instance = new();
        // Highest score first, then the leftmost pair.
        public int Compare((float Score, int Left) a, (float Score, int Left) b) =>
            a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left);
    }

    public static void Encode(VocabTokenizer vocab, string text, List<int> output)
    {
        if (text.Length == 0) return;
        var symbols = new List<Symbol>(text.Length);
        for (int offs = 0; offs < text.Length;)
        {
            int len = char.IsHighSurrogate(text[offs]) && offs + 1 < text.Length && char.IsLowSurrogate(text[offs + 1]) ? 2 : 1;
            int index = symbols.Count;
            symbols.Add(new Symbol { Start = offs, Length = len, Prev = index - 1, Next = offs + len == text.Length ? -1 : index + 1 });
            offs += len;
        }
        Symbol[] sym = symbols.ToArray();

        var queue = new PriorityQueue<Bigram, (float, int)>(BigramOrder.Instance);
        void TryAdd(int left, int right)
        {
            if (left == -1 || right == -1) return;
            int size = sym[left].Length + sym[right].Length;
            int id = vocab.Find(text.AsSpan(sym[left].Start, size));
            if (id < 0) return;
            queue.Enqueue(new Bigram(left, right, size), (vocab.Score(id), left));
        }

        for (int i = 1; i < sym.Length; i++) TryAdd(i - 1, i);

        while (queue.TryDequeue(out Bigram b, out _))
        {
            ref Symbol l = ref sym[b.Left];
            ref Symbol r = ref sym[b.Right];
            if (l.Length == 0 || r.Length == 0 || l.Length + r.Length != b.Size) continue;
            l.Length += r.Length;
            r.Length = 0;
            l.Next = r.Next;
            if (r.Next >= 0) sym[r.Next].Prev = b.Left;
            TryAdd(l.Prev, b.Left);
            TryAdd(b.Left, l.Next);
        }

        Span<byte> utf8 = stackalloc byte[8];
        for (int i = 0; i != -1; i = sym[i].Next)
        {
            ReadOnlySpan<char> piece = text.AsSpan(sym[i].Start, sym[i].Length);
            int id = vocab.Find(piece);
            if (id >= 0)
            {
                output.Add(id);
                continue;
            }
            // Not a token: its UTF-8 bytes as byte tokens (a merged symbol is always a token, so this
            // is a single code point).
            int n = Encoding.UTF8.GetBytes(piece, utf8);
            for (int k = 0; k < n; k++) output.Add(vocab.ByteToToken(utf8[k]));
        }
    }
}
