namespace Quanta.Core.Tokenizers;

/// <summary>
/// llama.cpp's byte-level BPE session (<c>llm_tokenizer_bpe_session</c>): the pre-tokenizer splits the text
/// into byte-level words; in each word (one symbol per character, or the whole word when merges are ignored
/// and it is a token) adjacent pairs are merged by lowest merge rank (ties: leftmost); each final symbol is
/// emitted as its token, or else its ASCII characters as single-character tokens (others are dropped).
/// </summary>
internal static class BpeEncoder
{
    private struct Symbol
    {
        public int Start;
        public int Length;
        public int Prev;
        public int Next;
    }

    private readonly record struct Bigram(int Left, int Right, int Size);

    public static void Encode(VocabTokenizer vocab, string text, List<int> output)
    {
        var words = new List<string>();
        vocab.PreTokenizer!.SplitByteLevel(text, words);
        char[] pair = new char[64];
        var queue = new PriorityQueue<Bigram, (int Rank, int Left)>();
        var sym = new List<Symbol>();

        foreach (string word in words)
        {
            if (word.Length == 0) continue;
            sym.Clear();
            queue.Clear();
            if (vocab.IgnoreMerges && vocab.Find(word) >= 0)
            {
                output.Add(vocab.Find(word));
                continue;
            }
            for (int i = 0; i < word.Length; i++)
                sym.Add(new Symbol { Start = i, Length = 1, Prev = i - 1, Next = i + 1 == word.Length ? -1 : i + 1 });

            void TryAdd(int left, int right)
            {
                if (left == -1 || right == -1) return;
                Symbol l = sym[left], r = sym[right];
                int need = l.Length + 1 + r.Length;
                if (pair.Length < need) pair = new char[Math.Max(need, pair.Length * 2)];
                word.AsSpan(l.Start, l.Length).CopyTo(pair);
                pair[l.Length] = ' ';
                word.AsSpan(r.Start, r.Length).CopyTo(pair.AsSpan(l.Length + 1));
                int rank = vocab.MergeRank(pair.AsSpan(0, need));
                if (rank < 0) return;
                queue.Enqueue(new Bigram(left, right, l.Length + r.Length), (rank, left));
            }

            for (int i = 1; i < sym.Count; i++) TryAdd(i - 1, i);

            while (queue.TryDequeue(out Bigram b, out _))
            {
                Symbol l = sym[b.Left], r = sym[b.Right];
                // Outdated when either side was merged away or grew since the pair was queued.
                if (l.Length == 0 || r.Length == 0 || l.Length + r.Length != b.Size) continue;
                l.Length += r.Length;
                r.Length = 0;
                l.Next = r.Next;
                sym[b.Left] = l;
                sym[b.Right] = r;
                if (r.Next >= 0)
                {
                    Symbol rn = sym[r.Next];
                    rn.Prev = b.Left;
                    sym[r.Next] = rn;
                }
                TryAdd(l.Prev, b.Left);
                TryAdd(b.Left, l.Next);
            }

            for (int i = 0; i != -1; i = sym[i].Next)
            {
                Symbol s = sym[i];
                ReadOnlySpan<char> piece = word.AsSpan(s.Start, s.Length);
                int id = vocab.Find(piece);
                if (id >= 0)
                {
                    output.Add(id);
                    continue;
                }
                foreach (char c in piece)
                {
                    if (c >= 0x80) continue; // a lone byte of a multi-byte character is never a token
                    int single = vocab.Find([c]);
                    if (single >= 0) output.Add(single);
                }
            }
        }
    }
}
