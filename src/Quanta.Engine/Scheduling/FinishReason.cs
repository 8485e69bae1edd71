namespace Quanta.Engine.Scheduling;

/// <summary>Why a sequence stopped.</summary>
public enum FinishReason
{
    /// <summary>A stop token (EOS or a caller-given id) was sampled; it is included in the output.</summary>
    Stop,

    /// <summary>The request's token limit or the sequence capacity of the KV cache was reached.</summary>
    Length,

    /// <summary>The caller cancelled the request.</summary>
    Cancelled,

    /// <summary>The request's deadline passed before it finished.</summary>
    Deadline,

    /// <summary>The request can never run (it needs more KV blocks than the whole pool) or the executor failed.</summary>
    Aborted,
}
