using Quanta.Core.Kernels.Ops;

namespace Quanta.Models.Runtime;

/// <summary>
/// RoPE tables whose angles follow ggml's CPU rope exactly (ggml_rope_cache_init): θ starts at the position as a
/// float and is multiplied by theta_scale = powf(base, −2/n) once per pair (a float recurrence), divided by the pair's
/// frequency factor, times freq_scale, then cosf/sinf. Core's <see cref="RopeCache"/> uses the closed form in double,
/// which is more accurate, but its angles differ from llama.cpp's by up to ~1e-4 rad at a few hundred positions; in
/// quantized models such differences flip int8 activation roundings and are amplified. Matching llama.cpp means using
/// its recurrence. Only for settings without YaRN (ExtFactor = 0); YaRN uses <see cref="RopeCache"/>.
/// Tables are the expanded form of <see cref="Rope.ExpandTables"/>: [MaxPositions, RotaryDims] each.
/// </summary>
public sealed class GgmlRopeTables
{
    private readonly float[] _c, _s;
    private readonly RopeCache? _fallback;

    /// <summary>Builds tables for positions [0, maxPositions).</summary>
    public GgmlRopeTables(RopeParameters p, int maxPositions, ReadOnlySpan<float> freqFactors)
    {
        Parameters = p;
        MaxPositions = maxPositions;
        if (p.ExtFactor != 0f)
        {
            _fallback = new RopeCache(p, maxPositions, freqFactors);
            _c = _s = [];
            return;
        }
        int n = p.RotaryDims, half = n / 2;
        if (!freqFactors.IsEmpty && freqFactors.Length < half) throw new ArgumentException("frequency factors must hold RotaryDims/2 values", nameof(freqFactors));
        _c = new float[(long)maxPositions * n];
        _s = new float[(long)maxPositions * n];
        float thetaScale = MathF.Pow(p.FreqBase, -2.0f / n);
        var cos = new float[half];
        var sin = new float[half];
        for (int pos = 0; pos < maxPositions; pos++)
        {
            float theta = pos;
            for (int i = 0; i < half; i++)
            {
                float ff = freqFactors.IsEmpty ? 1f : freqFactors[i];
                float t = p.FreqScale * (theta / ff);
                cos[i] = MathF.Cos(t) * p.AttnFactor;
                sin[i] = MathF.Sin(t) * p.AttnFactor;
                theta *= thetaScale;
            }
            Rope.ExpandTables(p.Layout, cos, sin, _c.AsSpan(pos * n, n), _s.AsSpan(pos * n, n));
        }
    }

    /// <summary>The settings.</summary>
    public RopeParameters Parameters { get; }

    /// <summary>Positions covered.</summary>
    public int MaxPositions { get; }

    /// <summary>Rotates x ([nHeads, headDim]) in place for <paramref name="position"/>.</summary>
    public void Apply(Span<float> x, int nHeads, int headDim, int position)
    {
        if (_fallback != null)
        {
            _fallback.Apply(x, nHeads, headDim, position);
            return;
        }
        if ((uint)position >= (uint)MaxPositions) throw new ArgumentOutOfRangeException(nameof(position));
        int n = Parameters.RotaryDims;
        Rope.Apply(x, nHeads, headDim, n, Parameters.Layout, _c.AsSpan(position * n, n), _s.AsSpan(position * n, n));
    }
}
