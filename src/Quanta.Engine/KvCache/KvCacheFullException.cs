namespace Quanta.Engine.KvCache;

/// <summary>Thrown when a sequence must grow but the block pool has no free block.</summary>
public sealed class KvCacheFullException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public KvCacheFullException() { }

    /// <summary>Creates the exception with a message.</summary>
    public KvCacheFullException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public KvCacheFullException(string message, Exception inner) : base(message, inner) { }
}
