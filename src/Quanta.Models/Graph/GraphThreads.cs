using Quanta.Core.Threading;

namespace Quanta.Models.Graph;

/// <summary>
/// The worker pool the graph operators (MatMul, Gemm, Conv, attention products) spread large products over: one
/// process-wide pool, created on first use. Participants: QUANTA_GRAPH_THREADS when set (1 = no pool, everything on the
/// calling thread), else 2, capped at the processor count. Two is the configuration the ONNX Runtime comparisons use
/// (2 intra-op threads); raise it for a dedicated machine. Loops from concurrent sessions serialize on the pool.
/// </summary>
internal static class GraphThreads
{
    /// <summary>Participants when QUANTA_GRAPH_THREADS is not set.</summary>
    public const int DefaultThreads = 2;

    private static readonly Lazy<WorkerPool?> s_pool = new(() =>
    {
        int n = int.TryParse(Environment.GetEnvironmentVariable("QUANTA_GRAPH_THREADS"), out int v) && v > 0 ? v : DefaultThreads;
        n = Math.Min(n, Environment.ProcessorCount);
        return n > 1 ? new WorkerPool(n) : null;
    });

    /// <summary>The pool, or null when products run single-threaded.</summary>
    public static WorkerPool? Pool => s_pool.Value;
}
