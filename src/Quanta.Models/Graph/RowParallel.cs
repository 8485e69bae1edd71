using Quanta.Core.Threading;

namespace Quanta.Models.Graph;

/// <summary>
/// Spreads independent rows of a row-wise float operation (softmax, layer norm, GELU chunks, equal-shape adds) over
/// <see cref="GraphThreads"/> when there is enough work (at least <see cref="MinElements"/> elements); smaller tensors
/// run on the calling thread. Rows are handed out in chunks dynamically; each row is processed exactly as on one
/// thread, so results do not depend on the thread count.
/// </summary>
internal static class RowParallel
{
    /// <summary>Elements below which the operation stays on the calling thread.</summary>
    public const int MinElements = 1 << 16;

    /// <summary>Calls body.Row(r) for r in [0, rows), over the graph pool when rows·rowLength ≥ <see cref="MinElements"/>.</summary>
    public static void For<T>(int rows, int rowLength, T body) where T : struct, IRowBody
    {
        var pool = GraphThreads.Pool;
        if (pool is null || rows < 2 || (long)rows * rowLength < MinElements)
        {
            for (int r = 0; r < rows; r++) body.Row(r);
            return;
        }
        int chunk = Math.Max(1, rows / (pool.ThreadCount * 4));
        pool.ForChunked(rows, chunk, new Adapter<T> { Body = body });
    }

    private struct Adapter<T> : IParallelBody where T : struct, IRowBody
    {
        public T Body;
        public readonly void Execute(int index) => Body.Row(index);
    }
}

/// <summary>One row of a <see cref="RowParallel"/> loop.</summary>
internal interface IRowBody
{
    void Row(int r);
}
