using System.Security.Cryptography;
using Quanta.Core.Kernels.Ops;

namespace Quanta.Engine.Sampling;

/// <summary>
/// Picks the next token of one sequence from the model's logits (see <see cref="SamplingParameters"/> for the
/// order of operations). One instance per sequence: it owns the PRNG and the token history the penalties read.
/// Every buffer is sized to the vocabulary in the constructor, so <see cref="Sample"/> allocates nothing.
/// Not thread-safe.
/// <para>
/// Truncation never sorts the vocabulary: small top-k (and top_logprobs) use a size-k heap over a vectorized scan;
/// top-p first finds, in one vectorized pass, a logit threshold below which no kept token can lie, then runs a
/// quickselect-style mass selection on the few tokens above it; min-p is a plain threshold
/// (p ≥ min_p·p_max ⇔ logit ≥ max + T·ln min_p). Without truncation the draw scans chunk sums of exp weights.
/// </para>
/// <para>
/// Determinism: the same seed, parameters and logit sequence give the same tokens on the same machine. Results may
/// differ across SIMD widths when a uniform draw falls within float rounding of a bucket boundary.
/// NaN logits are not supported; −∞ logits are never sampled; logits must be below +∞.
/// </para>
/// </summary>
public sealed class Sampler
{
    /// <summary>Largest top-k served by the heap; larger k use quickselect on the compacted vocabulary.</summary>
    internal const int HeapTopKLimit = 4096;

    private readonly SamplingParameters _p;
    private readonly int _vocab;
    private readonly int[] _biasIds;              // [nBias]
    private readonly float[] _biasValues;         // [nBias]
    private readonly float[] _logits;             // [vocab] working copy: biased, penalized
    private readonly float[] _weights;            // [vocab] exp weights (draw / logprob normalizer)
    private readonly double[] _chunkSums;         // [ceil(vocab / ChunkedExp.ChunkSize)]
    private readonly Candidate[] _candidates;     // [vocab]
    private readonly double[] _mass = new double[ThresholdMass.Levels];
    private readonly Candidate[] _topHeap;        // [TopLogprobs]
    private readonly TopLogprob[] _top;           // [TopLogprobs]

    // Repetition window: ring of the last N tokens (N > 0) or the distinct tokens seen (N = −1), with counts.
    private readonly int[] _window;               // [N] or [vocab]
    private readonly int[] _windowCount;          // [vocab]
    private int _windowLength, _windowHead;
    private readonly int[] _stamp;                // [vocab] once-per-call marker for the repetition penalty
    private int _stampValue;

    // Generated tokens: counts and the list of distinct ids (presence / frequency).
    private readonly int[] _generatedCount;       // [vocab]
    private readonly int[] _generatedDistinct;    // [vocab]
    private int _generatedDistinctLength;

    private readonly ulong _seed;
    private readonly ILogitsProcessor? _processor;
    private readonly bool _plainGreedy;           // greedy, nothing changes the logits, no logprobs: argmax of the input
    private Xoshiro256StarStar _rng;

    /// <summary>Creates a sampler for a vocabulary of <paramref name="vocabSize"/> logits; validates the parameters.</summary>
    public Sampler(int vocabSize, SamplingParameters parameters)
        : this(vocabSize, parameters, null)
    {
    }

    /// <summary>
    /// Creates a sampler whose <paramref name="processor"/> (may be null) edits the logits after the bias and
    /// penalties and before selection, and is told every sampled token (e.g. <see cref="JsonLogitsProcessor"/>).
    /// </summary>
    public Sampler(int vocabSize, SamplingParameters parameters, ILogitsProcessor? processor)
    {
        _processor = processor;
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Validate(vocabSize);
        _p = parameters;
        _vocab = vocabSize;
        _plainGreedy = !(parameters.Temperature > 0f) && !parameters.Logprobs && processor is null
            && (parameters.LogitBias?.Count ?? 0) == 0 && parameters.RepetitionPenalty == 1f
            && parameters.FrequencyPenalty == 0f && parameters.PresencePenalty == 0f;
        int nBias = parameters.LogitBias?.Count ?? 0;
        _biasIds = new int[nBias];
        _biasValues = new float[nBias];
        if (parameters.LogitBias is not null)
        {
            int i = 0;
            foreach (var (token, bias) in parameters.LogitBias) { _biasIds[i] = token; _biasValues[i] = bias; i++; }
        }
        // plain greedy reads none of the vocabulary-sized buffers (no working copy, draw, penalties or logprobs): it
        // keeps them empty, so a serving request's greedy sampler costs no ~1.25 MB of large-object heap (~50 µs of
        // zeroing and page faults on the submitting thread, and gen-2 collections over many requests)
        int v = _plainGreedy ? 0 : vocabSize;
        _logits = new float[v];
        _weights = new float[v];
        _chunkSums = new double[_plainGreedy ? 0 : ChunkedExp.ChunkCount(vocabSize)];
        _candidates = new Candidate[v];
        _topHeap = new Candidate[parameters.TopLogprobs];
        _top = new TopLogprob[parameters.TopLogprobs];
        int lastN = parameters.RepetitionPenaltyLastN;
        _window = new int[_plainGreedy ? 0 : lastN < 0 ? vocabSize : lastN];
        _windowCount = new int[v];
        _stamp = new int[v];
        _generatedCount = new int[v];
        _generatedDistinct = new int[v];
        if (parameters.Seed is { } seed) _seed = seed;
        else
        {
            Span<byte> bytes = stackalloc byte[8];
            RandomNumberGenerator.Fill(bytes);
            _seed = BitConverter.ToUInt64(bytes);
        }
        _rng = new Xoshiro256StarStar(_seed);
    }

    /// <summary>The parameters this sampler was built with.</summary>
    public SamplingParameters Parameters => _p;

    /// <summary>Vocabulary size (length every logits span must have).</summary>
    public int VocabSize => _vocab;

    /// <summary>The seed in use (the given one, or the one drawn from the OS RNG).</summary>
    public ulong Seed => _seed;

    /// <summary>
    /// Feeds prompt tokens into the repetition-penalty window (llama.cpp does the same); presence and frequency
    /// penalties ignore them (they count generated tokens only).
    /// </summary>
    public void AcceptPrompt(ReadOnlySpan<int> tokens)
    {
        foreach (int t in tokens)
        {
            if ((uint)t >= (uint)_vocab) throw new ArgumentOutOfRangeException(nameof(tokens), t, "Token id outside the vocabulary.");
            PushWindow(t);
        }
    }

    /// <summary>Forgets the history (window and generated counts, the processor's state) and restarts the PRNG from <see cref="Seed"/>.</summary>
    public void Reset()
    {
        Array.Clear(_windowCount);
        Array.Clear(_generatedCount);
        _windowLength = _windowHead = 0;
        _generatedDistinctLength = 0;
        _rng = new Xoshiro256StarStar(_seed);
        _processor?.Reset();
    }

    /// <summary>
    /// Chooses the next token from <paramref name="logits"/> (shape [vocab]) and records it as generated (for the
    /// penalties). <paramref name="info"/> is set when <see cref="SamplingParameters.Logprobs"/> is on (see
    /// <see cref="TokenLogprobs"/> for what it holds and how long it stays valid), else null.
    /// Throws <see cref="InvalidOperationException"/> when every token is banned (all logits −∞).
    /// </summary>
    public int Sample(ReadOnlySpan<float> logits, out TokenLogprobs? info)
    {
        if (logits.Length != _vocab) throw new ArgumentException($"Expected {_vocab} logits, got {logits.Length}.", nameof(logits));
        if (_plainGreedy)
        {
            // nothing would change the working copy, so the argmax of the input is the token (a serving step samples
            // every stream's [vocab] row: the copy cost ~2/3 of greedy sampling)
            int first = Argmax.Find(logits);
            if (!(logits[first] > float.NegativeInfinity)) throw NoToken();
            info = null;
            RecordGenerated(first);
            return first;
        }
        Span<float> v = _logits;
        logits.CopyTo(v);
        for (int i = 0; i < _biasIds.Length; i++)
        {
            float b = _biasValues[i];
            ref float x = ref v[_biasIds[i]];
            x = b <= -100f ? float.NegativeInfinity : x + b;
        }
        ApplyPenalties(v);
        _processor?.Process(v);

        int best = Argmax.Find(v);
        float max = v[best];
        if (!(max > float.NegativeInfinity)) throw NoToken();

        float invT = _p.Temperature > 0f ? 1f / _p.Temperature : float.PositiveInfinity;
        int token = float.IsFinite(invT) ? Draw(v, max, invT) : best;

        info = _p.Logprobs ? Logprobs(v, max, token) : null;
        RecordGenerated(token);
        return token;
    }

    private static InvalidOperationException NoToken() => new("No token can be sampled: every logit is -inf (all tokens banned?).");

    private void ApplyPenalties(Span<float> v)
    {
        float rep = _p.RepetitionPenalty;
        if (rep != 1f && _windowLength > 0)
        {
            int stamp = ++_stampValue;
            if (stamp == int.MaxValue) { Array.Clear(_stamp); _stampValue = stamp = 1; }
            for (int i = 0; i < _windowLength; i++)
            {
                int t = _window[i];
                if (_stamp[t] == stamp) continue;
                _stamp[t] = stamp;
                ref float x = ref v[t];
                x = x <= 0f ? x * rep : x / rep;
            }
        }
        float freq = _p.FrequencyPenalty, presence = _p.PresencePenalty;
        if (freq != 0f || presence != 0f)
        {
            for (int i = 0; i < _generatedDistinctLength; i++)
            {
                int t = _generatedDistinct[i];
                v[t] -= _generatedCount[t] * freq + presence;
            }
        }
    }

    private int Draw(Span<float> v, float max, float invT)
    {
        float temperature = _p.Temperature;
        Span<Candidate> c = _candidates;
        int m = -1; // −1: the candidate set is still the whole vocabulary (not materialized)

        int k = _p.TopK;
        if (k > 0 && k < _vocab)
        {
            if (k <= HeapTopKLimit) m = TopNHeap.Select(v, k, c);
            else m = CandidateSelection.SelectTopK(c[..CompactAbove.Run(v, -float.MaxValue, c)], k);
            m = DropBanned(c[..m]);
        }

        if (_p.TypicalP < 1f)
        {
            if (m < 0) m = CompactAbove.Run(v, -float.MaxValue, c);
            m = Typical(c[..m], invT, _p.TypicalP);
        }

        float topP = _p.TopP;
        float minP = _p.MinP;
        if (topP < 1f)
        {
            if (m < 0)
            {
                // Coarse cut-offs, then one pass refining between the last failing and the first passing level.
                Span<float> gaps = stackalloc float[ThresholdMass.Levels];
                ThresholdMass.Gaps.CopyTo(gaps);
                double z = ThresholdMass.Compute(v, max, invT, gaps, _mass);
                double need = topP * z;
                float gap = float.NaN, below = 0f;
                for (int round = 0; round < 2; round++)
                {
                    int j = 0;
                    // Any cut whose mass reaches p·Z bounds the kept set from below; the margin absorbs rounding.
                    while (j < ThresholdMass.Levels && !(_mass[j] >= need * (1 + 1e-5))) j++;
                    if (j == ThresholdMass.Levels) break;
                    if (j > 0) below = gaps[j - 1];
                    gap = gaps[j];
                    if (round == 1 || gap - below <= 1e-3f) break;
                    for (int i = 0; i < ThresholdMass.Levels; i++) gaps[i] = below + (gap - below) * (i + 1) / ThresholdMass.Levels;
                    ThresholdMass.Compute(v, max, invT, gaps, _mass);
                }
                float threshold = float.IsNaN(gap) ? -float.MaxValue : max - gap * temperature;
                // min-p keeps a best-first prefix, so intersecting it with the top-p prefix is compacting above
                // the higher of the two thresholds (top-p still measures p against the full normalizer z).
                if (minP > 0f) threshold = MathF.Max(threshold, MinPThreshold(max, temperature, minP));
                m = CompactAbove.Run(v, threshold, c);
                SetWeights(c[..m], max, invT);
                m = CandidateSelection.SelectByMass(c[..m], need);
                minP = 0f; // applied
            }
            else
            {
                float cmax = MaxLogit(c[..m]);
                double z = SetWeights(c[..m], cmax, invT);
                m = CandidateSelection.SelectByMass(c[..m], topP * z);
            }
        }

        if (minP > 0f)
        {
            if (m < 0) m = CompactAbove.Run(v, MinPThreshold(max, temperature, minP), c);
            else
            {
                float threshold = MinPThreshold(MaxLogit(c[..m]), temperature, minP);
                int kept = 0;
                for (int i = 0; i < m; i++) if (c[i].Logit >= threshold) c[kept++] = c[i];
                m = kept;
            }
        }

        double u = _rng.NextDouble();
        return m < 0 ? DrawFull(v, max, invT, u) : DrawCandidates(c[..m], invT, u);
    }

    /// <summary>p ≥ min_p·p_max ⇔ (logit − max)/T ≥ ln min_p.</summary>
    private static float MinPThreshold(float max, float temperature, float minP) =>
        minP >= 1f ? max : max + temperature * MathF.Log(minP);

    private static int DropBanned(Span<Candidate> c)
    {
        int kept = 0;
        for (int i = 0; i < c.Length; i++) if (c[i].Logit > float.NegativeInfinity) c[kept++] = c[i];
        return kept;
    }

    private static float MaxLogit(ReadOnlySpan<Candidate> c)
    {
        float m = float.NegativeInfinity;
        foreach (ref readonly var x in c) m = MathF.Max(m, x.Logit);
        return m;
    }

    /// <summary>Weight = exp((logit − max)/T); returns Σ weights (double).</summary>
    private static double SetWeights(Span<Candidate> c, float max, float invT)
    {
        double z = 0;
        for (int i = 0; i < c.Length; i++)
        {
            float w = MathF.Exp((c[i].Logit - max) * invT);
            c[i].Weight = w;
            z += w;
        }
        return z;
    }

    private static int Typical(Span<Candidate> c, float invT, float typicalP)
    {
        if (c.Length <= 1) return c.Length;
        float cmax = MaxLogit(c);
        double z = SetWeights(c, cmax, invT);
        double logZ = Math.Log(z);
        double entropy = 0;
        for (int i = 0; i < c.Length; i++)
        {
            double w = c[i].Weight;
            if (w > 0) entropy -= w / z * (Math.Log(w) - logZ);
        }
        for (int i = 0; i < c.Length; i++)
        {
            double w = c[i].Weight;
            // |−log p − H|, smaller is more typical; the key ranks higher for smaller distances.
            c[i].Key = w > 0 ? -(float)Math.Abs(logZ - Math.Log(w) - entropy) : float.NegativeInfinity;
        }
        int m = CandidateSelection.SelectByMass(c, typicalP * z);
        for (int i = 0; i < c.Length; i++) c[i].Key = c[i].Logit;
        return m;
    }

    private static int DrawCandidates(Span<Candidate> c, float invT, double u)
    {
        float cmax = MaxLogit(c);
        double target = u * SetWeights(c, cmax, invT);
        double acc = 0;
        int last = -1;
        for (int i = 0; i < c.Length; i++)
        {
            float w = c[i].Weight;
            if (w <= 0f) continue;
            acc += w;
            last = i;
            if (acc > target) return c[i].Id;
        }
        return c[last].Id; // rounding left the target just past the total
    }

    private int DrawFull(ReadOnlySpan<float> v, float max, float invT, double u)
    {
        ChunkedExp.Compute(v, max, invT, _weights, _chunkSums);
        double z = 0;
        foreach (double s in _chunkSums) z += s;
        double target = u * z;
        double acc = 0;
        int last = -1;
        for (int ci = 0; ci < _chunkSums.Length; ci++)
        {
            double s = _chunkSums[ci];
            if (s <= 0) continue;
            if (acc + s <= target) { acc += s; continue; }
            // The target falls in this chunk: walk its weights.
            for (int i = ci * ChunkedExp.ChunkSize, end = Math.Min(_vocab, i + ChunkedExp.ChunkSize); i < end; i++)
            {
                float w = _weights[i];
                if (w <= 0f) continue;
                acc += w;
                last = i;
                if (acc > target) return i;
            }
        }
        return last >= 0 ? last : Argmax.Find(v);
    }

    private TokenLogprobs Logprobs(ReadOnlySpan<float> v, float max, int token)
    {
        ChunkedExp.Compute(v, max, 1f, _weights, _chunkSums);
        double z = 0;
        foreach (double s in _chunkSums) z += s;
        float lse = (float)(max + Math.Log(z));
        int n = _topHeap.Length;
        if (n > 0)
        {
            int count = TopNHeap.Select(v, n, _topHeap);
            TopNHeap.SortDescending(_topHeap.AsSpan(0, count));
            for (int i = 0; i < count; i++) _top[i] = new TopLogprob(_topHeap[i].Id, _topHeap[i].Logit - lse);
            n = count;
        }
        return new TokenLogprobs(token, v[token] - lse, new ReadOnlyMemory<TopLogprob>(_top, 0, n));
    }

    private void RecordGenerated(int token)
    {
        if (_plainGreedy) return;   // no penalty reads the history and there is no processor
        if (_generatedCount[token]++ == 0) _generatedDistinct[_generatedDistinctLength++] = token;
        PushWindow(token);
        _processor?.Accept(token);
    }

    private void PushWindow(int token)
    {
        int lastN = _p.RepetitionPenaltyLastN;
        if (lastN == 0 || _plainGreedy) return;
        if (lastN < 0)
        {
            if (_windowCount[token]++ == 0) _window[_windowLength++] = token;
            return;
        }
        if (_windowLength == lastN)
        {
            _windowCount[_window[_windowHead]]--;
            _window[_windowHead] = token;
            _windowHead = (_windowHead + 1) % lastN;
        }
        else _window[_windowLength++] = token;
        _windowCount[token]++;
    }
}
