using System.Collections.Concurrent;
using Quanta.Core.Tokenizers;

namespace Quanta.Engine.Sampling;

/// <summary>
/// A vocabulary prepared once per model for JSON-constrained decoding: every token's UTF-8 piece (as the
/// detokenizer emits it, control tokens empty) in a byte trie, the end-of-generation tokens, and a cache from
/// <see cref="JsonGrammarState"/> to the tokens allowed in it.
/// <para><see cref="Allowed"/> walks the trie with the grammar, forking the state at each branch and pruning a whole
/// subtree at the first refused byte, so a shared prefix is checked once and a state that admits few first bytes
/// visits few nodes. Results are cached per state (equal states allow equal sets); the cache is bounded
/// (<see cref="MaxCachedIds"/> ids in all; it is cleared when full), so steady-state decoding allocates nothing.
/// Tokens with an empty piece and end tokens are never in an allowed set (the processor adds end tokens itself).
/// Thread-safe after construction.</para>
/// </summary>
public sealed class JsonVocabulary
{
    /// <summary>Cache budget: allowed-token ids held over all cached states (4M ids: 20 MB with their completion lengths).</summary>
    public const long MaxCachedIds = 4L << 20;

    private readonly byte[][] _pieces;        // [vocab] token bytes
    private readonly int[] _firstChild;       // [nodes] first child node, −1 none (node 0 is the root)
    private readonly int[] _nextSibling;      // [nodes] next sibling node, −1 none
    private readonly byte[] _label;           // [nodes] byte on the edge into the node
    private readonly int[] _tokenStart;       // [nodes + 1] tokens ending at node i: _tokens[_tokenStart[i].._tokenStart[i+1]]
    private readonly int[] _tokens;           // [tokens in the trie]
    private readonly ConcurrentDictionary<JsonGrammarState, JsonAllowedSet> _cache = new();
    private readonly int[] _endTokens;        // ascending
    private long _cachedIds;

    /// <summary>
    /// Builds the trie over <paramref name="pieces"/> (token id → bytes; null or empty: never allowed);
    /// <paramref name="endTokens"/> end generation and are kept out of the trie.
    /// </summary>
    public JsonVocabulary(IReadOnlyList<byte[]?> pieces, IReadOnlyCollection<int> endTokens)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(endTokens);
        int vocab = pieces.Count;
        ArgumentOutOfRangeException.ThrowIfZero(vocab);
        _pieces = new byte[vocab][];
        var isEnd = new bool[vocab];
        foreach (int e in endTokens)
        {
            if ((uint)e >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(endTokens), e, "end token outside the vocabulary");
            isEnd[e] = true;
        }
        _endTokens = endTokens.Distinct().Order().ToArray();

        var children = new Dictionary<(int Node, byte Label), int>();
        var labels = new List<byte> { 0 };
        var ending = new List<List<int>?> { null };
        int maxLength = 0;
        for (int t = 0; t < vocab; t++)
        {
            byte[] piece = pieces[t] ?? [];
            _pieces[t] = piece;
            if (piece.Length == 0 || isEnd[t]) continue;
            maxLength = Math.Max(maxLength, piece.Length);
            int node = 0;
            foreach (byte b in piece)
            {
                if (!children.TryGetValue((node, b), out int child))
                {
                    child = labels.Count;
                    labels.Add(b);
                    ending.Add(null);
                    children.Add((node, b), child);
                }
                node = child;
            }
            (ending[node] ??= []).Add(t);
        }
        int nodes = labels.Count;
        _label = labels.ToArray();
        _firstChild = new int[nodes];
        _nextSibling = new int[nodes];
        Array.Fill(_firstChild, -1);
        Array.Fill(_nextSibling, -1);
        foreach (var ((parent, _), child) in children)
        {
            _nextSibling[child] = _firstChild[parent];
            _firstChild[parent] = child;
        }
        _tokenStart = new int[nodes + 1];
        var tokens = new List<int>();
        for (int i = 0; i < nodes; i++)
        {
            _tokenStart[i] = tokens.Count;
            if (ending[i] is { } list) tokens.AddRange(list);
        }
        _tokenStart[nodes] = tokens.Count;
        _tokens = tokens.ToArray();
        MaxPieceLength = maxLength;
    }

    /// <summary>Prepares <paramref name="tokenizer"/>'s vocabulary (pieces without special-token text).</summary>
    public static JsonVocabulary FromTokenizer(ITokenizer tokenizer, IReadOnlyCollection<int> endTokens)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var pieces = new byte[tokenizer.VocabSize][];
        for (int t = 0; t < pieces.Length; t++) pieces[t] = tokenizer.TokenToPiece(t, renderSpecial: false).ToArray();
        return new JsonVocabulary(pieces, endTokens);
    }

    /// <summary>Number of token ids.</summary>
    public int VocabSize => _pieces.Length;

    /// <summary>End-of-generation tokens, ascending.</summary>
    public IReadOnlyList<int> EndTokens => _endTokens;

    internal ReadOnlySpan<int> EndTokenSpan => _endTokens;

    /// <summary>Longest token piece in bytes.</summary>
    public int MaxPieceLength { get; }

    /// <summary>Trie nodes (root included): the work bound of an uncached <see cref="Allowed"/>.</summary>
    public int NodeCount => _label.Length;

    /// <summary>Token <paramref name="token"/>'s bytes.</summary>
    public ReadOnlySpan<byte> Piece(int token) => _pieces[token];

    /// <summary>True when <paramref name="token"/> ends generation.</summary>
    public bool IsEnd(int token) => Array.BinarySearch(_endTokens, token) >= 0;

    /// <summary>
    /// The tokens (in trie order, not by id) whose whole piece the grammar accepts from <paramref name="state"/>,
    /// each with the <see cref="JsonGrammarState.CompletionLength"/> after it; cached. <paramref name="walker"/> is
    /// the caller's scratch (one per thread).
    /// </summary>
    public JsonAllowedSet Allowed(in JsonGrammarState state, JsonTrieWalker walker)
    {
        ArgumentNullException.ThrowIfNull(walker);
        if (_cache.TryGetValue(state, out JsonAllowedSet? hit)) return hit;
        int n = Walk(state, walker);
        var set = new JsonAllowedSet(walker.Ids.AsSpan(0, n).ToArray(), walker.Need.AsSpan(0, n).ToArray());
        if (Interlocked.Add(ref _cachedIds, n) > MaxCachedIds)
        {
            _cache.Clear();
            Interlocked.Exchange(ref _cachedIds, n);
        }
        _cache.TryAdd(state, set);
        return set;
    }

    /// <summary>States cached now.</summary>
    public int CachedStates => _cache.Count;

    /// <summary>Creates scratch for <see cref="Allowed"/> and <see cref="Prefixes"/> sized for this vocabulary.</summary>
    public JsonTrieWalker CreateWalker() => new(VocabSize, MaxPieceLength);

    // depth-first walk; per depth the parent's state and the next child to try
    private int Walk(JsonGrammarState state, JsonTrieWalker w)
    {
        int count = 0;
        int[] ids = w.Ids;
        byte[] need = w.Need;
        int[] cursor = w.Cursor;
        JsonGrammarState[] parent = w.States;
        int d = 0;
        parent[0] = state;
        cursor[0] = _firstChild[0];
        while (d >= 0)
        {
            int c = cursor[d];
            if (c < 0) { d--; continue; }
            cursor[d] = _nextSibling[c];
            JsonGrammarState s = parent[d];
            byte b = _label[c];
            // plain string content keeps the state as it is; anything else goes through the grammar
            if (!(s.InPlainString && b is >= 0x20 and < 0x80 and not (byte)'"' and not (byte)'\\') && !s.Feed(b)) continue;
            int start = _tokenStart[c], end = _tokenStart[c + 1];
            if (start < end)
            {
                byte left = (byte)Math.Min(s.CompletionLength, byte.MaxValue);
                for (int i = start; i < end; i++)
                {
                    need[count] = left;
                    ids[count++] = _tokens[i];
                }
            }
            int first = _firstChild[c];
            if (first >= 0)
            {
                d++;
                parent[d] = s;
                cursor[d] = first;
            }
        }
        return count;
    }

    /// <summary>
    /// Writes into <paramref name="output"/> every token whose piece is a non-empty prefix of <paramref name="text"/>
    /// (the tokens that advance along a forced continuation); returns how many.
    /// </summary>
    public int Prefixes(ReadOnlySpan<byte> text, Span<int> output)
    {
        int node = 0, count = 0;
        foreach (byte b in text)
        {
            int c = _firstChild[node];
            while (c >= 0 && _label[c] != b) c = _nextSibling[c];
            if (c < 0) break;
            node = c;
            for (int i = _tokenStart[c]; i < _tokenStart[c + 1] && count < output.Length; i++) output[count++] = _tokens[i];
        }
        return count;
    }
}

/// <summary>Scratch buffers for walking a <see cref="JsonVocabulary"/>; one per thread (each processor owns one).</summary>
public sealed class JsonTrieWalker
{
    internal JsonTrieWalker(int vocab, int maxPiece)
    {
        Ids = new int[vocab];
        Need = new byte[vocab];
        Cursor = new int[maxPiece + 1];
        States = new JsonGrammarState[maxPiece + 1];
    }

    internal int[] Ids { get; }            // [vocab] allowed ids of one walk

    internal byte[] Need { get; }          // [vocab] completion length after each allowed id

    internal int[] Cursor { get; }         // [max piece + 1] next child per depth

    internal JsonGrammarState[] States { get; }   // [max piece + 1] state before the byte at each depth
}

/// <summary>
/// Tokens a grammar state allows, with the completion length (<see cref="JsonGrammarState.CompletionLength"/>) after
/// each: <see cref="Ids"/>[i] leaves <see cref="Need"/>[i] bytes to close the text. Immutable (shared by a cache).
/// </summary>
public sealed class JsonAllowedSet
{
    private readonly int[] _ids;
    private readonly byte[] _need;

    internal JsonAllowedSet(int[] ids, byte[] need)
    {
        _ids = ids;
        _need = need;
        byte max = 0;
        foreach (byte b in need) max = Math.Max(max, b);
        MaxNeed = max;
    }

    /// <summary>Allowed token ids.</summary>
    public ReadOnlySpan<int> Ids => _ids;

    /// <summary>Completion length after each of <see cref="Ids"/>.</summary>
    public ReadOnlySpan<byte> Need => _need;

    /// <summary>Largest of <see cref="Need"/> (0 when empty).</summary>
    public int MaxNeed { get; }

    /// <summary>Number of allowed tokens.</summary>
    public int Count => _ids.Length;
}
