using System.Diagnostics;
using Quanta.Engine.Sampling;
using Quanta.Models;

namespace Quanta.Engine.Generation;

/// <summary>
/// The generation loop of one request on a session the caller holds exclusively: prefill, then per step sample →
/// check end tokens → detokenize → stop strings → limits → decode. With a <see cref="JsonVocabulary"/> the sampler gets
/// a <see cref="JsonLogitsProcessor"/> (one per run) that keeps the output a prefix of one JSON object. <see cref="Step"/> returns one
/// <see cref="GenerationChunk"/> per sampled token. Per step it allocates only the emitted text (and, when stop strings
/// are set, what <see cref="StopStringMatcher"/> builds); token ids go into a list sized up front.
/// </summary>
internal sealed class GenerationRun
{
    private const int PrefillChunk = 256;

    private readonly LlmModel _owner;
    private readonly InferenceSession _session;
    private readonly int[] _prompt;
    private readonly Sampler _sampler;
    private readonly IncrementalDetokenizer _detokenizer;
    private readonly StopStringMatcher? _stops;
    private readonly IReadOnlyList<string> _stopList;
    private readonly CancellationToken _ct;
    private readonly int _maxTokens;
    private readonly List<int> _tokens;
    private long _prefillTicks, _decodeTicks;
    private int _decodeSteps;
    private bool _started, _finished;

    public GenerationRun(LlmModel owner, InferenceSession session, IncrementalDetokenizer detokenizer, int[] prompt,
        SamplingParameters parameters, JsonVocabulary? json, CancellationToken ct)
    {
        _owner = owner;
        _session = session;
        _prompt = prompt;
        _ct = ct;
        _detokenizer = detokenizer;
        _stopList = parameters.Stop;
        _stops = parameters.Stop.Any(s => s.Length > 0) ? new StopStringMatcher(parameters.Stop) : null;
        int room = session.Capacity - prompt.Length + 1;
        _maxTokens = Math.Min(parameters.MaxTokens ?? int.MaxValue, room);
        // JSON mode: the processor budgets the object's closing bytes against the same limit the loop enforces
        _sampler = new Sampler(session.VocabSize, parameters, json is null ? null : new JsonLogitsProcessor(json, _maxTokens));
        _tokens = new List<int>(Math.Min(_maxTokens, 1 << 16));
    }

    /// <summary>Every token sampled so far.</summary>
    public IReadOnlyList<int> Tokens => _tokens;

    /// <summary>
    /// Runs the prefill on the first call, then samples one token. Returns false once the final chunk was returned.
    /// </summary>
    public bool Step(out GenerationChunk chunk)
    {
        if (_finished)
        {
            chunk = default;
            return false;
        }
        ReadOnlySpan<float> logits;
        if (!_started)
        {
            _started = true;
            logits = Prefill();
        }
        else if (_ct.IsCancellationRequested) logits = default;
        else
        {
            long t0 = Stopwatch.GetTimestamp();
            logits = _session.Decode(_tokens[^1]);
            _decodeTicks += Stopwatch.GetTimestamp() - t0;
            _decodeSteps++;
        }
        if (logits.IsEmpty)
        {
            chunk = Finish(-1, GenerationFinishReason.Cancelled, ReadOnlySpan<char>.Empty, null);
            return true;
        }

        int token = _sampler.Sample(logits, out _);
        _tokens.Add(token);
        if (_owner.IsEndOfGeneration(token))
        {
            chunk = Finish(token, GenerationFinishReason.Stop, ReadOnlySpan<char>.Empty, null);
            return true;
        }
        ReadOnlySpan<char> text = _detokenizer.Append(token);
        string emitted;
        if (_stops is not null)
        {
            StopStringResult r = _stops.Append(text);
            if (r.Stopped)
            {
                chunk = FinishText(token, GenerationFinishReason.Stop, r.Text, _stopList[r.StopIndex]);
                return true;
            }
            emitted = r.Text;
        }
        else emitted = text.IsEmpty ? string.Empty : new string(text);

        if (_tokens.Count >= _maxTokens)
        {
            chunk = FinishText(token, GenerationFinishReason.Length, emitted, null);
            return true;
        }
        chunk = new GenerationChunk(emitted, token);
        return true;
    }

    // Feeds the prompt in chunks (checking for cancellation between them); empty when cancelled.
    private ReadOnlySpan<float> Prefill()
    {
        _detokenizer.Reset(_prompt[^1]);
        _session.Reset();
        _sampler.AcceptPrompt(_prompt);
        ReadOnlySpan<float> logits = default;
        for (int i = 0; i < _prompt.Length; i += PrefillChunk)
        {
            if (_ct.IsCancellationRequested) return default;
            long t0 = Stopwatch.GetTimestamp();
            logits = _session.Prefill(_prompt.AsSpan(i, Math.Min(PrefillChunk, _prompt.Length - i)));
            _prefillTicks += Stopwatch.GetTimestamp() - t0;
        }
        return logits;
    }

    // Final chunk: text released by this step, then whatever the detokenizer and the stop matcher still hold.
    private GenerationChunk FinishText(int token, GenerationFinishReason reason, string text, string? stop)
    {
        _finished = true;
        string tail = string.Empty;
        if (stop is null)
        {
            ReadOnlySpan<char> rest = _detokenizer.Flush();
            if (_stops is not null)
            {
                StopStringResult r = _stops.Append(rest);
                if (r.Stopped)
                {
                    return new GenerationChunk(text + r.Text, token, GenerationFinishReason.Stop, Usage(), _stopList[r.StopIndex]);
                }
                tail = r.Text + _stops.Flush();
            }
            else tail = new string(rest);
        }
        return new GenerationChunk(text + tail, token, reason, Usage(), stop);
    }

    private GenerationChunk Finish(int token, GenerationFinishReason reason, ReadOnlySpan<char> text, string? stop) =>
        FinishText(token, reason, new string(text), stop);

    private GenerationUsage Usage() => new(_prompt.Length, _tokens.Count,
        Stopwatch.GetElapsedTime(0, _prefillTicks), Stopwatch.GetElapsedTime(0, _decodeTicks), _decodeSteps);
}
