using System.Runtime.InteropServices;

namespace Quanta.Core.Tests.Support;

/// <summary>Extra oracle entry points for the legacy block formats: ggml-cpu's scalar ("generic") vec_dot kernels.</summary>
internal static unsafe partial class GgmlNative
{
    [DllImport(Cpu, EntryPoint = "ggml_vec_dot_q4_0_q8_0_generic")]
    private static extern void vec_dot_q4_0_q8_0_generic(int n, float* s, nuint bs, byte* x, nuint bx, byte* y, nuint by, int nrc);

    [DllImport(Cpu, EntryPoint = "ggml_vec_dot_q4_1_q8_1_generic")]
    private static extern void vec_dot_q4_1_q8_1_generic(int n, float* s, nuint bs, byte* x, nuint bx, byte* y, nuint by, int nrc);

    [DllImport(Cpu, EntryPoint = "ggml_vec_dot_q5_0_q8_0_generic")]
    private static extern void vec_dot_q5_0_q8_0_generic(int n, float* s, nuint bs, byte* x, nuint bx, byte* y, nuint by, int nrc);

    [DllImport(Cpu, EntryPoint = "ggml_vec_dot_q5_1_q8_1_generic")]
    private static extern void vec_dot_q5_1_q8_1_generic(int n, float* s, nuint bs, byte* x, nuint bx, byte* y, nuint by, int nrc);

    [DllImport(Cpu, EntryPoint = "ggml_vec_dot_q8_0_q8_0_generic")]
    private static extern void vec_dot_q8_0_q8_0_generic(int n, float* s, nuint bs, byte* x, nuint bx, byte* y, nuint by, int nrc);

    /// <summary>ggml-cpu's scalar vec_dot (ggml_vec_dot_*_generic) for legacy weight type <paramref name="type"/>.</summary>
    internal static float VecDotGeneric(int type, int n, ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        EnsureInitialized();
        float s;
        fixed (byte* px = x)
        fixed (byte* py = y)
        {
            switch (type)
            {
                case 2: vec_dot_q4_0_q8_0_generic(n, &s, 0, px, 0, py, 0, 1); break;
                case 3: vec_dot_q4_1_q8_1_generic(n, &s, 0, px, 0, py, 0, 1); break;
                case 6: vec_dot_q5_0_q8_0_generic(n, &s, 0, px, 0, py, 0, 1); break;
                case 7: vec_dot_q5_1_q8_1_generic(n, &s, 0, px, 0, py, 0, 1); break;
                case 8: vec_dot_q8_0_q8_0_generic(n, &s, 0, px, 0, py, 0, 1); break;
                default: throw new ArgumentOutOfRangeException(nameof(type));
            }
        }
        return s;
    }
}
