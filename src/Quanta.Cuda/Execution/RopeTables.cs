using Quanta.Core.Kernels.Ops;

namespace Quanta.Cuda.Execution;

/// <summary>
/// Expanded RoPE tables [maxPositions, RotaryDims] for the GPU, with the angles the CPU executor uses
/// (Quanta.Models GgmlRopeTables: ggml's float recurrence θ ← θ·base^(−2/n), divided by the pair's frequency factor,
/// times FreqScale, cos/sin times AttnFactor), expanded by <see cref="Rope.ExpandTables"/>. No YaRN.
/// </summary>
internal static class RopeTables
{
    public static (float[] C, float[] S) Build(RopeParameters p, int maxPositions, float[]? freqFactors)
    {
        if (p.ExtFactor != 0f) throw new NotSupportedException("YaRN RoPE is not implemented on the GPU");
        int n = p.RotaryDims, half = n / 2;
        if (freqFactors != null && freqFactors.Length < half) throw new ArgumentException("frequency factors must hold RotaryDims/2 values", nameof(freqFactors));
        var c = new float[(long)maxPositions * n];
        var s = new float[(long)maxPositions * n];
        float thetaScale = MathF.Pow(p.FreqBase, -2.0f / n);
        var cos = new float[half];
        var sin = new float[half];
        for (int pos = 0; pos < maxPositions; pos++)
        {
            float theta = pos;
            for (int i = 0; i < half; i++)
            {
                float ff = freqFactors is null ? 1f : freqFactors[i];
                float t = p.FreqScale * (theta / ff);
                cos[i] = MathF.Cos(t) * p.AttnFactor;
                sin[i] = MathF.Sin(t) * p.AttnFactor;
                theta *= thetaScale;
            }
            Rope.ExpandTables(p.Layout, cos, sin, c.AsSpan(pos * n, n), s.AsSpan(pos * n, n));
        }
        return (c, s);
    }
}
