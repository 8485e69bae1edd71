using Quanta.Planner.Catalogs;

namespace Quanta.Planner.Performance;

/// <summary>Result of <see cref="MemoryFit.Compute"/>. Byte figures are per device.</summary>
/// <param name="WeightBytes">Whole-model weight bytes at the weight precision (all devices together).</param>
/// <param name="KvBytesPerToken">KV-cache bytes per token of context (whole model).</param>
/// <param name="ActivationBytes">Activation workspace per device.</param>
/// <param name="OverheadBytes">Runtime overhead per device (context, libraries, allocator slack).</param>
/// <param name="DevicesNeeded">Tensor-parallel degree (a power of two) so that weights and one sequence at the context fit; 0 when even 64 do not.</param>
/// <param name="MaxKvTokens">Tokens of KV cache that fit beside the weights over the tensor-parallel group.</param>
/// <param name="MaxBatchAtContext">Sequences of the requested context that fit at once (MaxKvTokens / context).</param>
/// <param name="Tier">Market tier of the device.</param>
public sealed record MemoryFitResult(double WeightBytes, double KvBytesPerToken, double ActivationBytes, double OverheadBytes,
    int DevicesNeeded, double MaxKvTokens, long MaxBatchAtContext, string Tier);

/// <summary>
/// Memory fit: weights + KV cache + activations + runtime overhead against device memory, with tensor parallelism
/// splitting weights and KV cache evenly over devices.
/// </summary>
public static class MemoryFit
{
    /// <summary>Runtime overhead per device in bytes: CUDA/ROCm context, math-library workspaces (documented constant, ~1.5 GB as nvidia-smi shows for an idle serving process).</summary>
    public const double RuntimeOverheadBytes = 1.5e9;

    /// <summary>Fraction of device memory the allocator cannot use (fragmentation, reserve).</summary>
    public const double ReservedFraction = 0.05;

    /// <summary>Tokens processed in one step for the activation workspace (the prefill chunk; TensorRT-LLM's default max_num_tokens is 8192).</summary>
    public const int StepTokens = 8192;

    /// <summary>
    /// Activation workspace per device: <see cref="StepTokens"/> x (4 x hidden + 2 x intermediate / tp) x 2 bytes
    /// (residual, normed input, attention output, logits slice, and the MLP's gate/up intermediate in 16-bit).
    /// </summary>
    public static double ActivationBytes(ModelSpec m, int tp) => StepTokens * (4.0 * m.Hidden + 2.0 * m.Intermediate / tp) * 2;

    /// <summary>Usable bytes on one device for weights, KV cache and activations.</summary>
    public static double UsableBytes(DeviceSpec d) => d.MemoryBytes * (1 - ReservedFraction) - RuntimeOverheadBytes;

    /// <summary>KV-cache tokens that fit over <paramref name="tp"/> devices beside the weights (0 if the weights do not fit).</summary>
    public static double KvTokens(ModelSpec m, DeviceSpec d, Precision weights, Precision kv, int tp)
    {
        double free = UsableBytes(d) - m.WeightBytes(weights) / tp - ActivationBytes(m, tp);
        return free <= 0 ? 0 : free * tp / m.KvBytesPerToken(kv);
    }

    /// <summary>Memory fit of LLM <paramref name="m"/> on <paramref name="d"/> at a context of <paramref name="context"/> tokens.</summary>
    /// <param name="m">A model of kind llm.</param>
    /// <param name="d">The device.</param>
    /// <param name="weights">Weight precision.</param>
    /// <param name="kv">KV-cache precision.</param>
    /// <param name="context">Tokens per sequence (prompt + output).</param>
    /// <param name="tp">Tensor-parallel degree to report max batch for; null = the smallest that fits.</param>
    public static MemoryFitResult Compute(ModelSpec m, DeviceSpec d, Precision weights, Precision kv, int context, int? tp = null)
    {
        if (!m.IsLlm) throw new ArgumentException($"memory fit needs a language model; {m.Id} is {m.Kind}");
        if (context <= 0) throw new ArgumentException($"context must be positive, got {context}");
        int needed = 0;
        for (int n = 1; n <= 64; n *= 2)
            if (KvTokens(m, d, weights, kv, n) >= context) { needed = n; break; }
        int use = tp ?? Math.Max(needed, 1);
        double tokens = KvTokens(m, d, weights, kv, use);
        return new MemoryFitResult(m.WeightBytes(weights), m.KvBytesPerToken(kv), ActivationBytes(m, use), RuntimeOverheadBytes,
            needed, tokens, (long)Math.Floor(tokens / context), d.Tier);
    }
}
