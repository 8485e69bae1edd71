using Quanta.Core.Threading;

namespace Quanta.Models.Graph;

/// <summary>
/// The worker pool the graph operators (MatMul, Gemm, Conv) spread large products over: one process-wide pool,
/// created on first use, with QUANTA_GRAPH_THREADS participants. Default 1 (no pool: products run on the calling
/// thread): on the oversubscribed 2-core build machine the pooled products measured slower, so threading is opt-in
/// until measured on a quiet machine. Loops from concurrent sessions serialize on the pool.
/// </summary>
internal static class GraphThreads
{
    private static readonly Lazy<WorkerPool?> s_pool = new(() =>
        int.TryParse(Environment.GetEnvironmentVariable("QUANTA_GRAPH_THREADS"), out int n) && n > 1 ? new WorkerPool(Math.Min(n, Environment.ProcessorCount)) : null);

    /// <summary>The pool, or null when products run single-threaded.</summary>
    public static WorkerPool? Pool => s_pool.Value;
}
