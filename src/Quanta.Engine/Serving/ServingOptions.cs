using Quanta.Engine.Execution;
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

    /// <summary>Context length (positions per sequence); 0: min(the model's training context, 4096).</summary>
    public int ContextLength { get; init; }

    /// <summary>Token budget of one engine step. Default 256.</summary>
    public int MaxBatchTokens { get; init; } = 256;

    /// <summary>Most sequences running at once. Default 16.</summary>
    public int MaxRunning { get; init; } = 16;

    /// <summary>Most sequences waiting beyond <see cref="MaxRunning"/> before requests are rejected. Default 64.</summary>
    public int MaxQueue { get; init; } = 64;

    /// <summary>Worker threads of the forward pass; 0: the processor count.</summary>
    public int Threads { get; init; }

    /// <summary>Tokenizer file for checkpoints without one (llama2.c); null: the model's own.</summary>
    public string? TokenizerPath { get; init; }

    /// <summary>Power and price model for the estimated energy and cost of each request.</summary>
    public PowerModel Power { get; init; } = new();

    /// <summary>
    /// Wraps the executor the engine builds (instrumentation, fault injection in tests); null: none. The wrapper must
    /// keep the <see cref="IExecutor"/> contract.
    /// </summary>
    public Func<IExecutor, IExecutor>? WrapExecutor { get; init; }
}

/// <summary>
/// A deliberately simple, documented power model (the metrics work refines it): while the engine runs a step the
/// machine draws <see cref="BusyWatts"/>; between steps <see cref="IdleWatts"/> (not attributed to any request).
/// A request is attributed its share of busy time: the tokens it made the engine compute (uncached prompt tokens
/// plus generated tokens) times the engine's measured average step seconds per token. Then
/// energy_joules = share × BusyWatts and cost_usd = share × DollarsPerHour / 3600. Both are estimates.
/// Defaults: 100 W busy, 20 W idle, 0.50 $/hour (roughly a 16-vCPU cloud instance); configure them for your machine.
/// </summary>
public sealed record PowerModel
{
    /// <summary>Machine power while computing, in watts. Default 100.</summary>
    public double BusyWatts { get; init; } = 100;

    /// <summary>Machine power while idle, in watts (not attributed to requests). Default 20.</summary>
    public double IdleWatts { get; init; } = 20;

    /// <summary>Price of the machine per hour, in US dollars. Default 0.50.</summary>
    public double DollarsPerHour { get; init; } = 0.50;
}
