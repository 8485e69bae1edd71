using Quanta.Cuda.Device;
using Quanta.Engine.Energy;
using Quanta.Engine.Execution;
using Quanta.Models.KvCache;

namespace Quanta.Cuda.Execution;

/// <summary>
/// Plugs the GPU executor into the serving engine (<c>ServingOptions.CreateExecutor</c>, the server's
/// <c>quanta serve --gpu</c>): each model's weights go to <paramref name="backend"/>'s device in
/// <paramref name="weights"/>' format, its KV pages live in device memory with the engine's block ids, and per-step
/// energy comes from <paramref name="power"/> (NVML on a real device). The executor owns the device weights; the
/// backend and the power source stay the caller's, shared by every model. Pair the factory with
/// <c>ServingOptions.ExecutorKvStorage = </c><see cref="KvStorage"/> so the engine keeps block tables only (no host copy
/// of the cache) and sizes the pool in device bytes.
/// </summary>
public static class GpuServing
{
    /// <summary>What the executor stores per K/V element on the device: BF16, two bytes (sized as <see cref="KvCacheType.F16"/>).
    /// There is no device Q8_0 cache: <c>quanta serve --gpu</c> rejects <c>--cache-type q8_0</c>.</summary>
    public const KvCacheType KvStorage = KvCacheType.F16;

    /// <summary>The executor factory.</summary>
    public static Func<ExecutorRequest, IExecutor> ExecutorFactory(GpuBackend backend, GpuWeightOptions weights, IPowerSource? power)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return request =>
        {
            ArgumentNullException.ThrowIfNull(request);
            GpuModelWeights w = GpuModelWeights.FromModel(backend, request.Model, weights);
            try
            {
                return new GpuExecutor(backend, w, request.Cache, request.MaxBatchTokens, request.MaxRunning, request.ContextLength, power, ownsWeights: true);
            }
            catch
            {
                w.Dispose();
                throw;
            }
        };
    }
}
