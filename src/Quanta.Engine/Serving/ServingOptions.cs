using Quanta.Engine.Execution;
using Quanta.Engine.Metrics;
using Quanta.Models.KvCache;

namespace Quanta.Engine.Serving;

/// <summary>
/// Sizing of one <see cref="ServingEngine"/>. Every property has a usable default.
/// <para>Queue bound: at most <see cref="MaxRunning"/> + <see cref="MaxQueue"/> sequences (n choices of a request count
/// as n) may be outstanding (waiting or running) at once; a request that would exceed it is rejected at once with
/// <see cref="QueueFullException"/>.</para>
/// </summary>
public sealed record ServingOptions
{
    /// <summary>Tokens per KV block. Default 16 (vLLM's).</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>KV blocks in the pool; 0: from <see cref="KvCacheMegabytes"/>, else the default (see <see cref="ServingEngine"/>).</summary>
    public int KvCacheBlocks { get; init; }

    /// <summary>KV pool size in MiB (used when <see cref="KvCacheBlocks"/> is 0); 0: the default.</summary>
    public int KvCacheMegabytes { get; init; }

    /// <summary>KV element type. Default F32 (exact).</summary>
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F32;

    /// <summary>How a GGUF model's weights are held (<see cref="Generation.LlmLoadOptions.Residency"/>); null: the
    /// loader's default.</summary>
    public Quanta.Core.ModelFiles.FileResidency? Residency { get; init; }

    /// <summary>Context length (positions per sequence); 0: min(the model's training context, 4096).</summary>
    public int ContextLength { get; init; }

    /// <summary>Token budget of one engine step. Default 256.</summary>
    public int MaxBatchTokens { get; init; } = 256;

    /// <summary>Most sequences running at once. Default 16.</summary>
    public int MaxRunning { get; init; } = 16;

    /// <summary>Most sequences waiting beyond <see cref="MaxRunning"/> before requests are rejected. Default 64.</summary>
    public int MaxQueue { get; init; } = 64;

    /// <summary>
    /// Run the CPU executor once over every decode batch size up to <see cref="MaxRunning"/> (twice) and one prefill
    /// chunk before serving (<see cref="Execution.ExecutorWarmUp"/>), so no request's step pays for compiling a
    /// batch-size-specific kernel path, after writing every memory page of the KV cache
    /// (<see cref="KvCache.PagedKvCache.Prefault"/>), so no step pays first-touch page faults for new blocks. Default true.
    /// It lengthens the engine's start by about 2 · MaxRunning decode steps (about 1 s for a 160M model with 2 threads)
    /// plus the page mapping (about 0.5 s per GB of cache) and commits the cache's memory; tests with many short-lived
    /// engines may turn it off. Executors from <see cref="CreateExecutor"/> are not warmed up by the engine.
    /// </summary>
    public bool WarmUp { get; init; } = true;

    /// <summary>Worker threads of the forward pass; 0: the processor count.</summary>
    public int Threads { get; init; }

    /// <summary>Tokenizer file for checkpoints without one (llama2.c); null: the model's own.</summary>
    public string? TokenizerPath { get; init; }

    /// <summary>
    /// Where the engine records serving metrics, energy and cost (shared by every model of a server; this engine's series
    /// carry its id as model_name). Null: the engine creates its own recorder for this machine's CPU (catalog power
    /// model or RAPL, catalog price) and disposes it with itself. Not owned when given.
    /// </summary>
    public ServingMetrics? Metrics { get; init; }

    /// <summary>
    /// Wraps the executor the engine builds (instrumentation, fault injection in tests); null: none. The wrapper must
    /// keep the <see cref="IExecutor"/> contract.
    /// </summary>
    public Func<IExecutor, IExecutor>? WrapExecutor { get; init; }

    /// <summary>
    /// Builds the executor instead of the CPU one (e.g. the GPU executor of Quanta.Cuda); null: the CPU executor. The
    /// engine disposes what it returns, when disposable, with itself.
    /// </summary>
    public Func<ExecutorRequest, IExecutor>? CreateExecutor { get; init; }

    /// <summary>
    /// Non-null when the executor from <see cref="CreateExecutor"/> stores K/V in its own memory (a GPU) with elements of
    /// this size: the engine's <see cref="ServingEngine.Cache"/> is then <see cref="KvCache.PagedKvCache.BlocksOnly"/>
    /// (block tables, reference counts and prefix cache, no host copy) and the KV pool is sized in these elements
    /// (<see cref="KvCacheMegabytes"/> counts the executor's memory). Null: the engine's cache holds K/V in
    /// <see cref="KvCacheType"/>.
    /// </summary>
    public KvCacheType? ExecutorKvStorage { get; init; }
}
