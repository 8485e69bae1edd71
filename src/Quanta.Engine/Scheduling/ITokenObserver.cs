namespace Quanta.Engine.Scheduling;

/// <summary>
/// Receives a request's generated tokens on the engine loop's thread, the moment each is sampled, instead of through
/// <see cref="RequestHandle.Tokens"/> (which then yields nothing): the engine thread hands each token over without a
/// channel and without waking another thread, so a caller that turns tokens into text and forwards them (the serving
/// engine) saves one thread switch per token.
/// <para>Contract: calls come from the loop thread, in generation order, one at a time; the last call happens before
/// <see cref="RequestHandle.Completion"/> completes (its continuations, which run on the thread pool, see everything the
/// observer did). <see cref="OnToken"/> must be quick (microseconds: it delays the next step of every request), must
/// not block and must not throw; it may call the handle's <see cref="RequestHandle.Cancel"/> (the
/// engine may still report tokens sampled before the cancellation reached it).</para>
/// </summary>
public interface ITokenObserver
{
    /// <summary>Token <paramref name="token"/> of the request behind <paramref name="handle"/> was generated (a stop token included).</summary>
    void OnToken(RequestHandle handle, int token);
}
