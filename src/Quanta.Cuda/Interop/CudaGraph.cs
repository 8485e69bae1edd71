namespace Quanta.Cuda.Interop;

/// <summary>
/// A captured CUgraph and its executable instance (cuGraphInstantiateWithFlags): <see cref="Launch"/> replays the
/// captured work on a stream with one call. Owns both; disposing destroys them once.
/// </summary>
public sealed class CudaGraph : IDisposable
{
    private nint _graph, _exec;

    internal CudaGraph(nint graph)
    {
        _graph = graph;
        int r = CudaDriverNative.cuGraphInstantiateWithFlags(out _exec, graph, 0);
        if (r != 0)
        {
            CudaDriverNative.cuGraphDestroy(graph);
            _graph = 0;
            CudaDriver.Check(r, "cuGraphInstantiateWithFlags");
        }
    }

    /// <summary>Replays the graph on <paramref name="stream"/>.</summary>
    public void Launch(nint stream)
    {
        ObjectDisposedException.ThrowIf(_exec == 0, this);
        CudaDriver.Check(CudaDriverNative.cuGraphLaunch(_exec, stream), "cuGraphLaunch");
    }

    /// <summary>Destroys the instance and the graph; idempotent.</summary>
    public void Dispose()
    {
        if (_exec != 0) CudaDriverNative.cuGraphExecDestroy(_exec);
        if (_graph != 0) CudaDriverNative.cuGraphDestroy(_graph);
        _exec = _graph = 0;
    }
}
