using System.Threading.Channels;

namespace Quanta.Engine.Scheduling;

/// <summary>The outcome of a finished request.</summary>
/// <param name="Finish">Why it stopped.</param>
/// <param name="Tokens">Generated token ids (a stop token included).</param>
/// <param name="PromptTokens">Prompt length.</param>
/// <param name="CachedTokens">Prompt tokens served from the prefix cache.</param>
/// <param name="Preemptions">Times it was preempted and recomputed.</param>
public sealed record GenerationResult(FinishReason Finish, IReadOnlyList<int> Tokens, int PromptTokens, int CachedTokens, int Preemptions);

/// <summary>
/// A submitted request as its caller sees it: <see cref="Tokens"/> streams generated token ids as the engine produces
/// them (the stream ends when the request finishes, whatever the reason; with <see cref="GenerationRequest.Observer"/>
/// set the tokens go to the observer instead and the stream is empty), <see cref="Completion"/> gives the result
/// (it faults only when the engine itself fails), <see cref="Cancel"/> asks the engine to stop it and free its KV
/// blocks (idempotent; no effect once finished).
/// </summary>
public sealed class RequestHandle
{
    private readonly Channel<int> _channel = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly TaskCompletionSource<GenerationResult> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<int> _tokens = [];
    private readonly Action<RequestHandle> _cancel;
    private readonly ITokenObserver? _observer;

    internal RequestHandle(long id, GenerationRequest request, Action<RequestHandle> cancel)
    {
        Id = id;
        Request = request;
        _cancel = cancel;
        _observer = request.Observer;
    }

    /// <summary>Engine-assigned id.</summary>
    public long Id { get; }

    /// <summary>The request.</summary>
    public GenerationRequest Request { get; }

    /// <summary>Generated tokens as they come (nothing when the request has an <see cref="GenerationRequest.Observer"/>).</summary>
    public IAsyncEnumerable<int> Tokens(CancellationToken cancellationToken = default) => _channel.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Completes when the request finishes.</summary>
    public Task<GenerationResult> Completion => _done.Task;

    /// <summary>Asks the engine to cancel the request.</summary>
    public void Cancel() => _cancel(this);

    internal Sequence? Sequence { get; set; }

    internal void Emit(int token)
    {
        _tokens.Add(token);
        if (_observer is null) _channel.Writer.TryWrite(token);
        else _observer.OnToken(this, token);   // on the loop thread; contract: quick, never throws
    }

    internal void Complete(FinishReason reason, int cachedTokens, int preemptions)
    {
        if (_done.Task.IsCompleted) return;
        _channel.Writer.TryComplete();
        _done.TrySetResult(new GenerationResult(reason, _tokens.ToArray(), Request.Prompt.Count, cachedTokens, preemptions));
    }

    internal void Fail(Exception error)
    {
        _channel.Writer.TryComplete(error);
        _done.TrySetException(error);
    }
}
