using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Quantized;

/// <summary>
/// F32 activation rows to Q8_0 / Q8_1 blocks (32 elements per block, layouts <see cref="BlockQ8_0"/> and
/// <see cref="BlockQ8_1"/>), as llama.cpp's CPU backend converts activations before a quantized dot product.
/// Two variants exist in ggml and differ in a few codes per row:
/// <list type="bullet">
/// <item><b>CPU path</b> (<see cref="QuantizeQ8_0"/>, <see cref="QuantizeQ8_1"/>; scalar model
/// <see cref="QuantizeQ8_0Scalar"/>, <see cref="QuantizeQ8_1Scalar"/>): what ggml-cpu's x86 AVX2 code runs
/// (also in its AVX-512 build): amax = max |x|, d = amax / 127, id = 127 / amax (0 when amax = 0),
/// code = round-half-to-even(x * id) converted as cvtps2dq does, saturated to int8; Q8_1 adds
/// s = fp16(d * (int32 sum of the 32 codes before saturation)), d being the fp32 value before its fp16 rounding.</item>
/// <item><b>Reference</b> (<see cref="QuantizeQ8_0Reference"/>, <see cref="QuantizeQ8_1Reference"/>): ggml's
/// quantize_row_q8_0_ref / _q8_1_ref: d = amax / 127, id = 1 / d, code = roundf(x * id) (half away from zero),
/// s = fp16(sum of the stored codes * d).</item>
/// </list>
/// n must be a multiple of 32; dst must hold n / 32 blocks. NaN inputs give unspecified codes (as in ggml).
/// Stateless, thread-safe, allocation-free.
/// </summary>
public static unsafe class Q8Activation
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    private const string NameQ8_0 = "quantize_q8_0";
    private const string NameQ8_1 = "quantize_q8_1";

    /// <summary>Bytes of a Q8_0 row of <paramref name="n"/> elements.</summary>
    public static int RowBytesQ8_0(int n) => n / BlockSize * BlockQ8_0.Bytes;

    /// <summary>Bytes of a Q8_1 row of <paramref name="n"/> elements.</summary>
    public static int RowBytesQ8_1(int n) => n / BlockSize * BlockQ8_1.Bytes;

    /// <summary>Q8_0, CPU-path arithmetic, SIMD dispatch (bit-identical to ggml-cpu's from_float on x86).</summary>
    public static void QuantizeQ8_0(ReadOnlySpan<float> x, Span<byte> dst) => Run(x, dst, false, Widest(), NameQ8_0);

    /// <summary>Q8_1, CPU-path arithmetic, SIMD dispatch (bit-identical to ggml-cpu's from_float on x86).</summary>
    public static void QuantizeQ8_1(ReadOnlySpan<float> x, Span<byte> dst) => Run(x, dst, true, Widest(), NameQ8_1);

    /// <summary>Q8_0, CPU-path arithmetic, scalar (the reference beside <see cref="QuantizeQ8_0"/>).</summary>
    public static void QuantizeQ8_0Scalar(ReadOnlySpan<float> x, Span<byte> dst) => Run(x, dst, false, SimdPath.Scalar, null);

    /// <summary>Q8_1, CPU-path arithmetic, scalar (the reference beside <see cref="QuantizeQ8_1"/>).</summary>
    public static void QuantizeQ8_1Scalar(ReadOnlySpan<float> x, Span<byte> dst) => Run(x, dst, true, SimdPath.Scalar, null);

    /// <summary>ggml's quantize_row_q8_0_ref (what llama-quantize writes for Q8_0 tensors).</summary>
    public static void QuantizeQ8_0Reference(ReadOnlySpan<float> x, Span<byte> dst) => RunReference(x, dst, false);

    /// <summary>ggml's quantize_row_q8_1_ref.</summary>
    public static void QuantizeQ8_1Reference(ReadOnlySpan<float> x, Span<byte> dst) => RunReference(x, dst, true);

    /// <summary>Runs one named path of the CPU-path quantizer (tests cover every path on one machine).</summary>
    internal static void QuantizePath(ReadOnlySpan<float> x, Span<byte> dst, bool q8_1, SimdPath path) => Run(x, dst, q8_1, path, null);

    private static SimdPath Widest() =>
        Vector512.IsHardwareAccelerated ? SimdPath.V512 :
        Vector256.IsHardwareAccelerated ? SimdPath.V256 :
        Vector128.IsHardwareAccelerated ? SimdPath.V128 : SimdPath.Scalar;

    private static int Check(ReadOnlySpan<float> x, Span<byte> dst, bool q8_1)
    {
        if (x.Length % BlockSize != 0) throw new ArgumentException($"length {x.Length} is not a multiple of {BlockSize}", nameof(x));
        int nb = x.Length / BlockSize;
        int need = nb * (q8_1 ? BlockQ8_1.Bytes : BlockQ8_0.Bytes);
        if (dst.Length < need) throw new ArgumentException($"destination holds {dst.Length} bytes, {need} needed", nameof(dst));
        return nb;
    }

    private static void Run(ReadOnlySpan<float> x, Span<byte> dst, bool q8_1, SimdPath path, string? name)
    {
        int nb = Check(x, dst, q8_1);
        if (name != null) KernelPaths.Record(name, path);
        int stride = q8_1 ? BlockQ8_1.Bytes : BlockQ8_0.Bytes;
        fixed (float* px = x)
        fixed (byte* py = dst)
        {
            for (int ib = 0; ib < nb; ib++)
            {
                float* xb = px + (nint)ib * BlockSize;
                byte* yb = py + (nint)ib * stride;
                switch (path)
                {
                    case SimdPath.V512: Block512(xb, yb, q8_1); break;
                    case SimdPath.V256: Block256(xb, yb, q8_1); break;
                    case SimdPath.V128: Block128(xb, yb, q8_1); break;
                    default: BlockScalar(xb, yb, q8_1); break;
                }
            }
        }
    }

    // ------------------------------------------------------------------ CPU path, scalar model

    /// <summary>
    /// One block exactly as ggml-cpu's x86 code computes it, including x86 conversion semantics
    /// (NaN/overflow -> int.MinValue, which then saturates to -128) for blocks whose 127/amax overflows.
    /// </summary>
    private static void BlockScalar(float* x, byte* y, bool q8_1)
    {
        float amax = 0f;
        for (int j = 0; j < BlockSize; j++)
        {
            float a = MathF.Abs(x[j]);
            amax = amax > a ? amax : a;   // vmaxps operand order
        }
        float d = amax / 127f;
        float id = amax != 0f ? 127f / amax : 0f;
        sbyte* qs = (sbyte*)(y + (q8_1 ? 4 : 2));
        int sum = 0;
        for (int j = 0; j < BlockSize; j++)
        {
            int q = LegacyQuantMath.RoundEvenToInt32X86(x[j] * id);
            sum = unchecked(sum + q);
            qs[j] = (sbyte)Math.Clamp(q, sbyte.MinValue, sbyte.MaxValue);   // packssdw + packsswb saturation
        }
        WriteScales(y, d, sum, q8_1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteScales(byte* y, float d, int sum, bool q8_1)
    {
        Unsafe.WriteUnaligned(y, LegacyQuantMath.Fp32ToFp16(d));
        if (q8_1) Unsafe.WriteUnaligned(y + 2, LegacyQuantMath.Fp32ToFp16(d * sum));
    }

    /// <summary>Horizontal max of 4 non-negative non-NaN lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HMax(Vector128<float> v) =>
        MathF.Max(MathF.Max(v.GetElement(0), v.GetElement(1)), MathF.Max(v.GetElement(2), v.GetElement(3)));

    // ------------------------------------------------------------------ CPU path, SIMD

    // For finite amax with finite 127/amax every |x * id| <= 127 * (1 + 2^-22), so a plain saturating
    // conversion and a truncating narrow give the same codes as cvtps2dq + packs; other blocks (amax infinite,
    // or so small that 127/amax overflows) take the scalar model, which reproduces x86's conversion exactly.

    private static void Block512(float* x, byte* y, bool q8_1)
    {
        Vector512<float> v0 = Vector512.Load(x), v1 = Vector512.Load(x + 16);
        Vector512<float> m = Vector512.MaxNative(Vector512.Abs(v0), Vector512.Abs(v1));
        Vector256<float> m256 = Vector256.MaxNative(m.GetLower(), m.GetUpper());
        float amax = HMax(Vector128.MaxNative(m256.GetLower(), m256.GetUpper()));
        float id = amax != 0f ? 127f / amax : 0f;
        if (!float.IsFinite(id) || !float.IsFinite(amax)) { BlockScalar(x, y, q8_1); return; }
        Vector512<float> vid = Vector512.Create(id);
        Vector512<int> i0 = Vector512.ConvertToInt32(Vector512.Round(v0 * vid));
        Vector512<int> i1 = Vector512.ConvertToInt32(Vector512.Round(v1 * vid));
        Vector512<short> s = Vector512.Narrow(i0, i1);
        Vector512<sbyte> b = Vector512.Narrow(s, s);
        b.GetLower().Store((sbyte*)(y + (q8_1 ? 4 : 2)));
        WriteScales(y, amax / 127f, q8_1 ? Vector512.Sum(i0 + i1) : 0, q8_1);
    }

    private static void Block256(float* x, byte* y, bool q8_1)
    {
        Vector256<float> v0 = Vector256.Load(x), v1 = Vector256.Load(x + 8), v2 = Vector256.Load(x + 16), v3 = Vector256.Load(x + 24);
        Vector256<float> m = Vector256.MaxNative(
            Vector256.MaxNative(Vector256.Abs(v0), Vector256.Abs(v1)),
            Vector256.MaxNative(Vector256.Abs(v2), Vector256.Abs(v3)));
        float amax = HMax(Vector128.MaxNative(m.GetLower(), m.GetUpper()));
        float id = amax != 0f ? 127f / amax : 0f;
        if (!float.IsFinite(id) || !float.IsFinite(amax)) { BlockScalar(x, y, q8_1); return; }
        Vector256<float> vid = Vector256.Create(id);
        Vector256<int> i0 = Vector256.ConvertToInt32(Vector256.Round(v0 * vid));
        Vector256<int> i1 = Vector256.ConvertToInt32(Vector256.Round(v1 * vid));
        Vector256<int> i2 = Vector256.ConvertToInt32(Vector256.Round(v2 * vid));
        Vector256<int> i3 = Vector256.ConvertToInt32(Vector256.Round(v3 * vid));
        Vector256<sbyte> b = Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3));
        b.Store((sbyte*)(y + (q8_1 ? 4 : 2)));
        WriteScales(y, amax / 127f, q8_1 ? Vector256.Sum((i0 + i1) + (i2 + i3)) : 0, q8_1);
    }

    private static void Block128(float* x, byte* y, bool q8_1)
    {
        Vector128<float> m = Vector128<float>.Zero;
        for (int k = 0; k < 8; k++) m = Vector128.MaxNative(m, Vector128.Abs(Vector128.Load(x + 4 * k)));
        float amax = HMax(m);
        float id = amax != 0f ? 127f / amax : 0f;
        if (!float.IsFinite(id) || !float.IsFinite(amax)) { BlockScalar(x, y, q8_1); return; }
        Vector128<float> vid = Vector128.Create(id);
        sbyte* qs = (sbyte*)(y + (q8_1 ? 4 : 2));
        Vector128<int> acc = Vector128<int>.Zero;
        for (int h = 0; h < 2; h++)
        {
            float* xh = x + 16 * h;
            Vector128<int> i0 = Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(xh) * vid));
            Vector128<int> i1 = Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(xh + 4) * vid));
            Vector128<int> i2 = Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(xh + 8) * vid));
            Vector128<int> i3 = Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(xh + 12) * vid));
            Vector128.Narrow(Vector128.Narrow(i0, i1), Vector128.Narrow(i2, i3)).Store(qs + 16 * h);
            acc += (i0 + i1) + (i2 + i3);
        }
        WriteScales(y, amax / 127f, q8_1 ? Vector128.Sum(acc) : 0, q8_1);
    }

    // ------------------------------------------------------------------ ggml reference quantizers

    private static void RunReference(ReadOnlySpan<float> x, Span<byte> dst, bool q8_1)
    {
        int nb = Check(x, dst, q8_1);
        int stride = q8_1 ? BlockQ8_1.Bytes : BlockQ8_0.Bytes;
        fixed (float* px = x)
        fixed (byte* py = dst)
        {
            for (int ib = 0; ib < nb; ib++)
            {
                float* xb = px + (nint)ib * BlockSize;
                byte* y = py + (nint)ib * stride;
                float amax = 0f;
                for (int j = 0; j < BlockSize; j++)
                {
                    float a = MathF.Abs(xb[j]);
                    amax = amax > a ? amax : a;
                }
                float d = amax / 127f;
                float id = d != 0f ? 1f / d : 0f;
                sbyte* qs = (sbyte*)(y + (q8_1 ? 4 : 2));
                int sum = 0;
                for (int j = 0; j < BlockSize; j++)
                {
                    // C: int8_t = roundf(x*id) compiles to cvttss2si and keeps the low byte
                    qs[j] = unchecked((sbyte)LegacyQuantMath.TruncToInt32X86(LegacyQuantMath.RoundAway(xb[j] * id)));
                    sum += qs[j];
                }
                WriteScales(y, d, sum, q8_1);
            }
        }
    }
}
