using System.Threading.Channels;

namespace Quanta.Engine.Serving;

/// <summary>
/// A request accepted by <see cref="ServingEngine.Submit"/>: <see cref="ReadAllAsync"/> streams every choice's deltas
/// (interleaved in the order they are produced; each choice ends with a delta carrying its finish reason) and
/// <see cref="Usage"/> completes once every choice has finished. If the engine fails, the stream and
/// <see cref="Usage"/> fault with its exception. Cancel through the token given to Submit.
/// </summary>
public sealed class ServingCall
{
    private readonly Channel<ServingDelta> _channel = Channel.CreateUnbounded<ServingDelta>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource<ServingUsage> _usage = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ServingCall(int promptTokens, int choices)
    {
        PromptTokens = promptTokens;
        Choices = choices;
    }

    /// <summary>Prompt length in tokens.</summary>
    public int PromptTokens { get; }

    /// <summary>Number of choices.</summary>
    public int Choices { get; }

    /// <summary>The deltas of every choice as they come (read once).</summary>
    public IAsyncEnumerable<ServingDelta> ReadAllAsync(CancellationToken cancellationToken = default) => _channel.Reader.ReadAllAsync(cancellationToken);

    /// <summary>
    /// Waits until a delta can be read (true) or the stream has ended (false; it throws the engine's exception if the
    /// engine failed). With <see cref="TryRead"/> this lets a writer drain every delta already produced and send them
    /// together; use it or <see cref="ReadAllAsync"/>, not both.
    /// </summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Takes the next delta if one is ready (never waits).</summary>
    public bool TryRead([System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out ServingDelta delta) => _channel.Reader.TryRead(out delta);

    /// <summary>Usage, when every choice has finished.</summary>
    public Task<ServingUsage> Usage => _usage.Task;

    internal void Write(ServingDelta delta) => _channel.Writer.TryWrite(delta);

    internal void Finish(ServingUsage usage)
    {
        _channel.Writer.TryComplete();
        _usage.TrySetResult(usage);
    }

    internal void Fail(Exception error)
    {
        _channel.Writer.TryComplete(error);
        _usage.TrySetException(error);
    }
}
