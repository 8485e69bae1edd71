using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Ops;

/// <summary>Which dimensions RoPE rotates together.</summary>
public enum RopeLayout
{
    /// <summary>Adjacent pairs (2i, 2i+1), llama.cpp's LLAMA_ROPE_TYPE_NORM (original Llama GGUF layout).</summary>
    Normal = 0,

    /// <summary>Split halves (i, i + nRot/2), llama.cpp's LLAMA_ROPE_TYPE_NEOX (GPT-NeoX, HF rotate_half).</summary>
    NeoX = 2,
}

/// <summary>
/// Rotary position embedding settings, with ggml's meaning (ggml_rope_ext):
/// pair i (0 ≤ i &lt; RotaryDims/2) at position p turns by θ_i = p·FreqBase^(−2i/RotaryDims)/ff[i], where ff are the optional
/// per-pair frequency factors (llama.cpp's rope_freqs tensor, e.g. Llama-3 scaling from
/// <see cref="RopeScaling.Llama3FrequencyFactors"/>). Then YaRN (ggml rope_yarn): θ_interp = FreqScale·θ; if ExtFactor ≠ 0,
/// ramp = (1 − clamp((i − lo)/max(0.001, hi − lo), 0, 1))·ExtFactor with [lo, hi] from
/// <see cref="RopeScaling.YarnCorrectionDims"/>, θ = θ_interp·(1 − ramp) + θ·ramp and the magnitude
/// mscale = AttnFactor·(1 + 0.1·ln(1/FreqScale)); otherwise θ = θ_interp and mscale = AttnFactor.
/// The rotated pair is (x0·cos θ − x1·sin θ, x1·cos θ + x0·sin θ)·mscale. Dimensions RotaryDims..HeadDim−1 pass through.
/// </summary>
public readonly record struct RopeParameters
{
    /// <summary>n_rot: rotated dimensions per head, even, at most the head dimension.</summary>
    public required int RotaryDims { get; init; }

    /// <summary>Pairing layout.</summary>
    public RopeLayout Layout { get; init; }

    /// <summary>θ base (rope_theta / freq_base), 10000 by default.</summary>
    public float FreqBase { get; init; } = 10000f;

    /// <summary>Linear interpolation factor (1/scaling factor); 1 means none.</summary>
    public float FreqScale { get; init; } = 1f;

    /// <summary>YaRN extrapolation mix (0 disables YaRN).</summary>
    public float ExtFactor { get; init; }

    /// <summary>Magnitude factor applied to cos and sin (YaRN attn_factor), 1 by default.</summary>
    public float AttnFactor { get; init; } = 1f;

    /// <summary>YaRN β_fast (32 by default).</summary>
    public float BetaFast { get; init; } = 32f;

    /// <summary>YaRN β_slow (1 by default).</summary>
    public float BetaSlow { get; init; } = 1f;

    /// <summary>Original training context (n_ctx_orig), used by YaRN's correction dims.</summary>
    public int OriginalContext { get; init; }

    /// <summary>Creates settings for <paramref name="rotaryDims"/> rotated dimensions.</summary>
    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public RopeParameters(int rotaryDims, RopeLayout layout = RopeLayout.Normal, float freqBase = 10000f)
    {
        RotaryDims = rotaryDims;
        Layout = layout;
        FreqBase = freqBase;
    }
}

/// <summary>
/// Rotary position embedding on rows laid out [nHeads, headDim].
/// <para>Angles are computed in double precision from the closed form θ_i = p·base^(−2i/n) (ggml iterates a float
/// product instead; ours is the more accurate of the two) and cos/sin rounded to float once. The rotation itself is
/// done in float as x·C + partner(x)·S with "expanded" tables C, S of length RotaryDims (see <see cref="ExpandTables"/>),
/// which makes the SIMD path, the scalar reference and the <see cref="RopeCache"/> path bit-identical.</para>
/// </summary>
public static class Rope
{
    /// <summary>Kernel name used with <see cref="KernelPaths"/>.</summary>
    public const string KernelName = "rope";

    /// <summary>Largest RotaryDims the stack-based direct path accepts.</summary>
    public const int MaxRotaryDims = 1024;

    /// <summary>
    /// cos[i], sin[i] (each [RotaryDims/2]) for pair i at <paramref name="position"/>, magnitude-scaled by mscale.
    /// <paramref name="freqFactors"/> is empty or [RotaryDims/2].
    /// </summary>
    public static void ComputeCosSin(in RopeParameters p, ReadOnlySpan<float> freqFactors, int position, Span<float> cos, Span<float> sin)
    {
        Validate(p, freqFactors);
        int half = p.RotaryDims / 2;
        if (cos.Length < half || sin.Length < half) throw new ArgumentException("cos/sin must hold RotaryDims/2 values.");
        Span<float> corr = stackalloc float[2];
        RopeScaling.YarnCorrectionDims(p.RotaryDims, p.OriginalContext, p.FreqBase, p.BetaFast, p.BetaSlow, corr);
        float mscale = p.AttnFactor;
        if (p.ExtFactor != 0f) mscale *= 1f + 0.1f * MathF.Log(1f / p.FreqScale);
        for (int i = 0; i < half; i++)
        {
            double ff = freqFactors.IsEmpty ? 1.0 : freqFactors[i];
            double thetaExtrap = position * Math.Pow(p.FreqBase, -2.0 * i / p.RotaryDims) / ff;
            double thetaInterp = p.FreqScale * thetaExtrap;
            double theta = thetaInterp;
            if (p.ExtFactor != 0f)
            {
                double rampMix = RopeScaling.YarnRamp(corr[0], corr[1], 2 * i) * p.ExtFactor;
                theta = thetaInterp * (1 - rampMix) + thetaExtrap * rampMix;
            }
            cos[i] = (float)(Math.Cos(theta) * mscale);
            sin[i] = (float)(Math.Sin(theta) * mscale);
        }
    }

    /// <summary>
    /// Builds the expanded tables: for each rotated dimension j, C[j] = cos of its pair and S[j] = −sin for the first
    /// member of the pair, +sin for the second. Normal: pair i is (2i, 2i+1); NeoX: (i, i + n/2). c, s are [RotaryDims].
    /// </summary>
    public static void ExpandTables(RopeLayout layout, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, Span<float> c, Span<float> s)
    {
        int half = cos.Length;
        if (sin.Length != half || c.Length < 2 * half || s.Length < 2 * half) throw new ArgumentException("Table lengths disagree.");
        for (int i = 0; i < half; i++)
        {
            int j0 = layout == RopeLayout.NeoX ? i : 2 * i;
            int j1 = layout == RopeLayout.NeoX ? i + half : 2 * i + 1;
            c[j0] = cos[i]; c[j1] = cos[i];
            s[j0] = -sin[i]; s[j1] = sin[i];
        }
    }

    /// <summary>
    /// Rotates every head of <paramref name="x"/> ([nHeads, headDim]) in place with expanded tables
    /// <paramref name="c"/>, <paramref name="s"/> ([nRot], from <see cref="ExpandTables"/> or <see cref="RopeCache"/>). SIMD dispatch.
    /// </summary>
    public static void Apply(Span<float> x, int nHeads, int headDim, int nRot, RopeLayout layout, ReadOnlySpan<float> c, ReadOnlySpan<float> s)
    {
        CheckShapes(x, nHeads, headDim, nRot, c, s);
        KernelPaths.Record(KernelName, SimdCapabilities.Widest);
        ref float cs = ref MemoryMarshal.GetReference(c);
        ref float ss = ref MemoryMarshal.GetReference(s);
        for (int h = 0; h < nHeads; h++)
        {
            ref float xs = ref MemoryMarshal.GetReference(x.Slice(h * headDim, nRot));
            if (layout == RopeLayout.NeoX) RotateNeoX(ref xs, nRot / 2, ref cs, ref ss);
            else RotateNormal(ref xs, nRot, ref cs, ref ss);
        }
    }

    private static void RotateNeoX(ref float x, int half, ref float c, ref float s)
    {
        ref float xb = ref Unsafe.Add(ref x, half);
        ref float cb = ref Unsafe.Add(ref c, half);
        ref float sb = ref Unsafe.Add(ref s, half);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= half - 16; i += 16)
            {
                var a = Vector512.LoadUnsafe(ref x, (nuint)i);
                var b = Vector512.LoadUnsafe(ref xb, (nuint)i);
                (a * Vector512.LoadUnsafe(ref c, (nuint)i) + b * Vector512.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref x, (nuint)i);
                (b * Vector512.LoadUnsafe(ref cb, (nuint)i) + a * Vector512.LoadUnsafe(ref sb, (nuint)i)).StoreUnsafe(ref xb, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= half - 8; i += 8)
            {
                var a = Vector256.LoadUnsafe(ref x, (nuint)i);
                var b = Vector256.LoadUnsafe(ref xb, (nuint)i);
                (a * Vector256.LoadUnsafe(ref c, (nuint)i) + b * Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref x, (nuint)i);
                (b * Vector256.LoadUnsafe(ref cb, (nuint)i) + a * Vector256.LoadUnsafe(ref sb, (nuint)i)).StoreUnsafe(ref xb, (nuint)i);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i <= half - 4; i += 4)
            {
                var a = Vector128.LoadUnsafe(ref x, (nuint)i);
                var b = Vector128.LoadUnsafe(ref xb, (nuint)i);
                (a * Vector128.LoadUnsafe(ref c, (nuint)i) + b * Vector128.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref x, (nuint)i);
                (b * Vector128.LoadUnsafe(ref cb, (nuint)i) + a * Vector128.LoadUnsafe(ref sb, (nuint)i)).StoreUnsafe(ref xb, (nuint)i);
            }
        for (; i < half; i++)
        {
            float a = Unsafe.Add(ref x, i), b = Unsafe.Add(ref xb, i);
            Unsafe.Add(ref x, i) = a * Unsafe.Add(ref c, i) + b * Unsafe.Add(ref s, i);
            Unsafe.Add(ref xb, i) = b * Unsafe.Add(ref cb, i) + a * Unsafe.Add(ref sb, i);
        }
    }

    private static void RotateNormal(ref float x, int n, ref float c, ref float s)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var swap = Vector512.Create(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref x, (nuint)i);
                (v * Vector512.LoadUnsafe(ref c, (nuint)i) + Vector512.Shuffle(v, swap) * Vector512.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref x, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var swap = Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6);
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref x, (nuint)i);
                (v * Vector256.LoadUnsafe(ref c, (nuint)i) + Vector256.Shuffle(v, swap) * Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref x, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var swap = Vector128.Create(1, 0, 3, 2);
            for (; i <= n - 4; i += 4)
            {
                var v = Vector128.LoadUnsafe(ref x, (nuint)i);
                (v * Vector128.LoadUnsafe(ref c, (nuint)i) + Vector128.Shuffle(v, swap) * Vector128.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref x, (nuint)i);
            }
        }
        for (; i < n; i += 2)
        {
            float a = Unsafe.Add(ref x, i), b = Unsafe.Add(ref x, i + 1);
            Unsafe.Add(ref x, i) = a * Unsafe.Add(ref c, i) + b * Unsafe.Add(ref s, i);
            Unsafe.Add(ref x, i + 1) = b * Unsafe.Add(ref c, i + 1) + a * Unsafe.Add(ref s, i + 1);
        }
    }

    /// <summary>
    /// Computes the angles for <paramref name="position"/> directly (no cache) and rotates <paramref name="x"/>
    /// ([nHeads, headDim]) in place with the SIMD path. Requires RotaryDims ≤ <see cref="MaxRotaryDims"/>.
    /// </summary>
    public static void ApplyDirect(Span<float> x, int nHeads, int headDim, in RopeParameters p, ReadOnlySpan<float> freqFactors, int position)
    {
        if (p.RotaryDims > MaxRotaryDims) throw new ArgumentOutOfRangeException(nameof(p), p.RotaryDims, $"RotaryDims above {MaxRotaryDims}; use RopeCache.");
        int n = p.RotaryDims, half = n / 2;
        Span<float> buf = stackalloc float[2 * MaxRotaryDims];
        Span<float> cos = buf[..half], sin = buf.Slice(half, half);
        Span<float> c = buf.Slice(n, n), s = buf.Slice(2 * n, n);
        ComputeCosSin(p, freqFactors, position, cos, sin);
        ExpandTables(p.Layout, cos, sin, c, s);
        Apply(x, nHeads, headDim, n, p.Layout, c, s);
    }

    /// <summary>
    /// Scalar reference: for each pair, computes its (cos, sin) with <see cref="ComputeCosSin"/>'s formula and rotates
    /// (x0·c + x1·(−s), x1·c + x0·s) in float.
    /// </summary>
    public static void ApplyReference(Span<float> x, int nHeads, int headDim, in RopeParameters p, ReadOnlySpan<float> freqFactors, int position)
    {
        Validate(p, freqFactors);
        int n = p.RotaryDims, half = n / 2;
        if (n > headDim || x.Length < nHeads * headDim) throw new ArgumentException("Shape mismatch.");
        var cos = new float[half];
        var sin = new float[half];
        ComputeCosSin(p, freqFactors, position, cos, sin);
        for (int h = 0; h < nHeads; h++)
        {
            Span<float> row = x.Slice(h * headDim, headDim);
            for (int i = 0; i < half; i++)
            {
                int j0 = p.Layout == RopeLayout.NeoX ? i : 2 * i;
                int j1 = p.Layout == RopeLayout.NeoX ? i + half : 2 * i + 1;
                float x0 = row[j0], x1 = row[j1];
                row[j0] = x0 * cos[i] + x1 * -sin[i];
                row[j1] = x1 * cos[i] + x0 * sin[i];
            }
        }
    }

    internal static void Validate(in RopeParameters p, ReadOnlySpan<float> freqFactors)
    {
        if (p.RotaryDims <= 0 || (p.RotaryDims & 1) != 0)
            throw new ArgumentOutOfRangeException(nameof(p), p.RotaryDims, "RotaryDims must be positive and even.");
        if (!freqFactors.IsEmpty && freqFactors.Length < p.RotaryDims / 2)
            throw new ArgumentException("Frequency factors must hold RotaryDims/2 values.", nameof(freqFactors));
        if (p.ExtFactor != 0f && p.OriginalContext <= 0)
            throw new ArgumentOutOfRangeException(nameof(p), "YaRN (ExtFactor != 0) needs OriginalContext.");
    }

    private static void CheckShapes(Span<float> x, int nHeads, int headDim, int nRot, ReadOnlySpan<float> c, ReadOnlySpan<float> s)
    {
        if (nRot <= 0 || (nRot & 1) != 0 || nRot > headDim) throw new ArgumentOutOfRangeException(nameof(nRot), nRot, "Must be even, positive and at most headDim.");
        if (x.Length < nHeads * headDim) throw new ArgumentException("x is shorter than nHeads*headDim.", nameof(x));
        if (c.Length < nRot || s.Length < nRot) throw new ArgumentException("Tables must hold nRot values.");
    }
}
