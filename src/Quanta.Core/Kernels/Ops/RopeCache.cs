namespace Quanta.Core.Kernels.Ops;

/// <summary>
/// Precomputed expanded cos/sin tables (see <see cref="Rope.ExpandTables"/>) for positions 0..MaxPositions−1:
/// two arrays [MaxPositions, RotaryDims]. Built once (allocates), then <see cref="Apply"/> never allocates and gives
/// bit-identical results to <see cref="Rope.ApplyDirect"/> and <see cref="Rope.ApplyReference"/>. Immutable, thread-safe.
/// </summary>
public sealed class RopeCache
{
    private readonly float[] _c;
    private readonly float[] _s;

    /// <summary>The settings the tables were built with.</summary>
    public RopeParameters Parameters { get; }

    /// <summary>Positions covered.</summary>
    public int MaxPositions { get; }

    /// <summary>Builds tables for positions [0, maxPositions). <paramref name="freqFactors"/>: empty or [RotaryDims/2].</summary>
    public RopeCache(RopeParameters parameters, int maxPositions, ReadOnlySpan<float> freqFactors = default)
    {
        Rope.Validate(parameters, freqFactors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPositions);
        Parameters = parameters;
        MaxPositions = maxPositions;
        int n = parameters.RotaryDims;
        _c = new float[(long)maxPositions * n];
        _s = new float[(long)maxPositions * n];
        var cos = new float[n / 2];
        var sin = new float[n / 2];
        for (int p = 0; p < maxPositions; p++)
        {
            Rope.ComputeCosSin(parameters, freqFactors, p, cos, sin);
            Rope.ExpandTables(parameters.Layout, cos, sin, _c.AsSpan(p * n, n), _s.AsSpan(p * n, n));
        }
    }

    /// <summary>Expanded cosine table of <paramref name="position"/> ([RotaryDims]).</summary>
    public ReadOnlySpan<float> Cos(int position) => _c.AsSpan(Offset(position), Parameters.RotaryDims);

    /// <summary>Expanded signed sine table of <paramref name="position"/> ([RotaryDims]).</summary>
    public ReadOnlySpan<float> Sin(int position) => _s.AsSpan(Offset(position), Parameters.RotaryDims);

    /// <summary>Rotates x ([nHeads, headDim]) for <paramref name="position"/> in place (SIMD).</summary>
    public void Apply(Span<float> x, int nHeads, int headDim, int position) =>
        Rope.Apply(x, nHeads, headDim, Parameters.RotaryDims, Parameters.Layout, Cos(position), Sin(position));

    private int Offset(int position)
    {
        if ((uint)position >= (uint)MaxPositions) throw new ArgumentOutOfRangeException(nameof(position), position, $"Cache covers {MaxPositions} positions.");
        return position * Parameters.RotaryDims;
    }
}
