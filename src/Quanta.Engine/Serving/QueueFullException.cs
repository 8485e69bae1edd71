namespace Quanta.Engine.Serving;

/// <summary>The engine's queue is full: the request was not accepted (HTTP servers answer 429 with Retry-After).</summary>
public sealed class QueueFullException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QueueFullException() : base("the server is at capacity: too many requests are waiting") { }

    /// <summary>Creates the exception with a message.</summary>
    public QueueFullException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public QueueFullException(string message, Exception innerException) : base(message, innerException) { }
}
