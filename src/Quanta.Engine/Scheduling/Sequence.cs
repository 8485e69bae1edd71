using Quanta.Engine.KvCache;

namespace Quanta.Engine.Scheduling;

/// <summary>Where a sequence is in its life.</summary>
public enum SequenceStatus
{
    /// <summary>Queued (new, or preempted and waiting to recompute).</summary>
    Waiting,

    /// <summary>Holding KV blocks and being scheduled.</summary>
    Running,

    /// <summary>Done; holds no blocks.</summary>
    Finished,
}

/// <summary>
/// The scheduler's state of one request: all tokens so far (prompt, then generated), how many of them are in the KV
/// cache (<see cref="ComputedTokens"/>), and the KV view while it holds blocks. Owned and mutated by the scheduler on
/// the engine thread; others read it between steps.
/// </summary>
public sealed class Sequence
{
    private int[] _tokens;   // [capacity] prompt then generated tokens; [0, TokenCount) valid

    internal Sequence(long id, long arrival, GenerationRequest request)
    {
        Id = id;
        Arrival = arrival;
        Request = request;
        PromptLength = request.Prompt.Count;
        _tokens = new int[Math.Max(16, PromptLength + Math.Min(request.MaxNewTokens, 256))];
        for (int i = 0; i < PromptLength; i++) _tokens[i] = request.Prompt[i];
        TokenCount = PromptLength;
    }

    /// <summary>Scheduler-assigned id.</summary>
    public long Id { get; }

    /// <summary>Arrival order (FCFS tie-break within a priority).</summary>
    public long Arrival { get; }

    /// <summary>The request.</summary>
    public GenerationRequest Request { get; }

    /// <summary>Prompt tokens.</summary>
    public int PromptLength { get; }

    /// <summary>Prompt plus generated tokens.</summary>
    public int TokenCount { get; private set; }

    /// <summary>Generated tokens so far.</summary>
    public int GeneratedCount => TokenCount - PromptLength;

    /// <summary>All tokens so far, [TokenCount]; valid until the next token is appended.</summary>
    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, TokenCount);

    /// <summary>Generated tokens, [GeneratedCount]; valid until the next token is appended.</summary>
    public ReadOnlySpan<int> Generated => _tokens.AsSpan(PromptLength, GeneratedCount);

    /// <summary>Tokens whose K/V are in the cache (0 while waiting).</summary>
    public int ComputedTokens { get; internal set; }

    /// <summary>Prompt tokens served from the prefix cache at first admission.</summary>
    public int CachedTokens { get; internal set; }

    /// <summary>Times this sequence was preempted (and recomputed).</summary>
    public int Preemptions { get; internal set; }

    /// <summary>Life-cycle state.</summary>
    public SequenceStatus Status { get; internal set; }

    /// <summary>Why it finished, once <see cref="Status"/> is Finished.</summary>
    public FinishReason? FinishReason { get; internal set; }

    /// <summary>The KV view while Running (null otherwise).</summary>
    public SequenceKv? Kv { get; internal set; }

    internal bool Admitted { get; set; }

    internal ReadOnlyMemory<int> TokenMemory(int start, int count) => _tokens.AsMemory(start, count);

    internal void Append(int token)
    {
        if (TokenCount == _tokens.Length) Array.Resize(ref _tokens, _tokens.Length * 2);
        _tokens[TokenCount++] = token;
    }
}
