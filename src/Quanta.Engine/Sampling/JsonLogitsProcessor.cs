namespace Quanta.Engine.Sampling;

/// <summary>
/// Constrains one sequence's output to a single JSON object (OpenAI response_format json_object) by masking logits:
/// every token whose piece would make the text so far no longer a prefix of a valid JSON object
/// (<see cref="JsonGrammarState"/> with objectOnly) gets −∞; end-of-generation tokens are allowed only once the
/// top-level object is closed, and then nothing else is.
/// <para>Token budget: with <c>maxTokens</c> known, a token is allowed only if the bytes of the shortest completion
/// after it (<see cref="JsonGrammarState.CompletionLength"/>: close the open string, number or literal, give a pending
/// key a value, close every container) fit in the tokens left after it, counting one byte per token. So the object
/// closes within the limit whenever the vocabulary has single-byte tokens for the closing bytes (every SentencePiece
/// byte-fallback and byte-level BPE vocabulary has). If the limit still cuts the output (a limit of one token, or a
/// vocabulary without those tokens) the output is an incomplete prefix of a JSON object and the finish reason is
/// "length", as with OpenAI. The end token is not budgeted: an object closed by the last allowed token also ends
/// with "length", though complete.</para>
/// <para>Works for greedy and sampled decoding (it only edits logits). If the bias/penalties already set every
/// grammar-allowed token to −∞, the allowed tokens get logit 0 (a uniform choice among them) so the output stays
/// valid. Per token: a cache lookup (or a trie walk on a miss), one fill of the logits and a gather/scatter of the
/// allowed ones; no allocation after the first visit of a grammar state. Not thread-safe; one per sequence.</para>
/// </summary>
public sealed class JsonLogitsProcessor : ILogitsProcessor
{
    private readonly JsonVocabulary _vocab;
    private readonly JsonTrieWalker _walker;
    private readonly int _maxTokens;
    private readonly float[] _kept;                 // [vocab] logits of the allowed tokens, gathered
    private readonly int[] _closing;                // [vocab] allowed tokens that keep the object closable in budget
    private JsonGrammarState _state;
    private int _generated;

    /// <summary>
    /// A processor over <paramref name="vocabulary"/>; <paramref name="maxTokens"/> is the sequence's token limit
    /// (0: none) that the forced completion aims to respect. The vocabulary needs at least one end token.
    /// </summary>
    public JsonLogitsProcessor(JsonVocabulary vocabulary, int maxTokens)
    {
        _vocab = vocabulary ?? throw new ArgumentNullException(nameof(vocabulary));
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        if (vocabulary.EndTokens.Count == 0)
            throw new ArgumentException("JSON mode needs an end-of-generation token to end the output after the object", nameof(vocabulary));
        _walker = vocabulary.CreateWalker();
        _maxTokens = maxTokens;
        _kept = new float[vocabulary.VocabSize];
        _closing = new int[vocabulary.VocabSize];
        _state = JsonGrammarState.Start(objectOnly: true);
    }

    /// <summary>The grammar state after the tokens accepted so far.</summary>
    public JsonGrammarState State => _state;

    /// <inheritdoc/>
    public void Process(Span<float> logits)
    {
        if (logits.Length != _vocab.VocabSize) throw new ArgumentException($"Expected {_vocab.VocabSize} logits, got {logits.Length}.", nameof(logits));
        if (_state.IsDone || _state.IsFailed)
        {
            Mask(logits, _vocab.EndTokenSpan);
            return;
        }
        JsonAllowedSet set = _vocab.Allowed(_state, _walker);
        ReadOnlySpan<int> allowed = set.Ids;
        if (_maxTokens > 0)
        {
            // keep the object closable: after this token, the tokens left must cover the completion
            int after = _maxTokens - _generated - 1;
            if (set.MaxNeed > after)
            {
                ReadOnlySpan<byte> need = set.Need;
                int n = 0;
                for (int i = 0; i < allowed.Length; i++) if (need[i] <= after) _closing[n++] = allowed[i];
                if (n > 0) allowed = _closing.AsSpan(0, n);   // none: the limit will cut the output anyway ("length")
            }
        }
        if (allowed.IsEmpty) allowed = _vocab.EndTokenSpan;   // the vocabulary cannot continue the text: stop (incomplete)
        Mask(logits, allowed);
    }

    private void Mask(Span<float> logits, ReadOnlySpan<int> allowed)
    {
        float best = float.NegativeInfinity;
        for (int i = 0; i < allowed.Length; i++)
        {
            float x = logits[allowed[i]];
            _kept[i] = x;
            best = MathF.Max(best, x);
        }
        logits.Fill(float.NegativeInfinity);
        bool none = !(best > float.NegativeInfinity);
        for (int i = 0; i < allowed.Length; i++) logits[allowed[i]] = none ? 0f : _kept[i];
    }

    /// <inheritdoc/>
    public void Accept(int token)
    {
        _generated++;
        if (_vocab.IsEnd(token)) return;
        _state.Feed(_vocab.Piece(token));
    }

    /// <inheritdoc/>
    public void Reset()
    {
        _state = JsonGrammarState.Start(objectOnly: true);
        _generated = 0;
    }
}
