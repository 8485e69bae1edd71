namespace Quanta.Engine.Tensor;

/// <summary>A request that does not fit the model (unknown input, wrong datatype or shape, bad parameter): the client's error (HTTP 400).</summary>
public sealed class TensorRequestException : Exception
{
    /// <summary>Creates the error.</summary>
    public TensorRequestException() : base("invalid inference request") { }

    /// <summary>Creates the error.</summary>
    public TensorRequestException(string message) : base(message) { }

    /// <summary>Creates the error.</summary>
    public TensorRequestException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>The batcher's queue is full: the request was rejected at once without being queued.</summary>
public sealed class TensorQueueFullException : Exception
{
    /// <summary>Creates the error.</summary>
    public TensorQueueFullException() : base("the model's request queue is full") { }

    /// <summary>Creates the error.</summary>
    public TensorQueueFullException(string message) : base(message) { }

    /// <summary>Creates the error.</summary>
    public TensorQueueFullException(string message, Exception innerException) : base(message, innerException) { }
}
