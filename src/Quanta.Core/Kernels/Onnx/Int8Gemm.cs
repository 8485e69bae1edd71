using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quanta.Core.Simd;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// Integer GEMM for INT8 execution of ONNX graphs: C[i, j] = Σ_p A[i, p] · W[j, p] with A unsigned 8-bit activations
/// [m, k] (row stride lda) and W signed 8-bit weights [n, k] (one row per output column), summed exactly in int32.
/// <para>Operand contract (what keeps x86's vpmaddubsw exact): activation codes are 0..127 (7 bits; the quantizer,
/// <see cref="Int8Activations"/>, never produces more) and weight codes -128..127, so every adjacent pair sum
/// a₀w₀ + a₁w₁ is at most 2·127·128 = 32512 &lt; 2¹⁵ and the int16 saturation of vpmaddubsw never triggers; then
/// vpmaddwd with ones widens pairs to int32. With activation codes above 127 the SIMD paths may saturate and differ
/// from <see cref="MultiplyReference"/>.</para>
/// <para>Layout: W is packed once (<see cref="PackWeights"/>) into panels of <see cref="PanelWidth"/> = 16 columns,
/// each panel [⌈k/4⌉][16 columns][4 consecutive k] bytes (zero-padded), so one 64-byte step holds 4 k of 16 columns:
/// one Vector512, two Vector256 or four Vector128. A rows are read 4 bytes at a time and broadcast: rows need
/// ⌈k/4⌉·4 readable bytes (the bytes past k meet zero weights, any value 0..255 is fine there).</para>
/// <para>Paths: AVX-512BW register tile 6 rows × 32 columns, AVX2 4 × 16, SSSE3 2 × 16, scalar 1 × 16 (any other CPU,
/// Arm64 included). Results are exact integers on every path. <see cref="MultiplyScaled"/> turns the int32 sums into
/// floats with a per-column affine map y = (float)acc · scale[j] + offset[j] (then optional ReLU), evaluated as one
/// float multiply and one float add (never fused) on every path, so all paths give bit-identical floats.</para>
/// </summary>
public static unsafe class Int8Gemm
{
    /// <summary>Columns per packed weight panel.</summary>
    public const int PanelWidth = 16;
    private const int MC = 96;

    /// <summary>The widest path this machine runs: 3 = AVX-512BW, 2 = AVX2, 1 = SSSE3, 0 = scalar.</summary>
    internal static int DefaultPath =>
        Avx512BW.IsSupported && Vector512.IsHardwareAccelerated ? 3 :
        Avx2.IsSupported && Vector256.IsHardwareAccelerated ? 2 :
        Ssse3.IsSupported && Vector128.IsHardwareAccelerated ? 1 : 0;

    /// <summary>Whether <paramref name="path"/> can run here (tests enumerate paths).</summary>
    internal static bool Supports(int path) => path switch
    {
        3 => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated,
        2 => Avx2.IsSupported && Vector256.IsHardwareAccelerated,
        1 => Ssse3.IsSupported && Vector128.IsHardwareAccelerated,
        0 => true,
        _ => false,
    };

    /// <summary>k rounded up to a multiple of 4 (bytes per A row the kernel reads).</summary>
    public static int PaddedK(int k) => (k + 3) & ~3;

    /// <summary>Bytes of the packed form of an [n, k] weight matrix.</summary>
    public static int PackedLength(int n, int k) => checked((n + PanelWidth - 1) / PanelWidth * PaddedK(k) * PanelWidth);

    /// <summary>Packs weights W [n, k] (row j = output column j, row stride k) into the panel layout.</summary>
    public static void PackWeights(ReadOnlySpan<sbyte> w, int n, int k, Span<sbyte> packed)
    {
        if (w.Length < (long)n * k) throw new ArgumentException($"W [{n}, {k}] needs {(long)n * k} values, got {w.Length}", nameof(w));
        int len = PackedLength(n, k);
        if (packed.Length < len) throw new ArgumentException($"packed needs {len} bytes, got {packed.Length}", nameof(packed));
        packed[..len].Clear();
        int kq = PaddedK(k) / 4;
        for (int j = 0; j < n; j++)
        {
            int panel = j / PanelWidth, col = j % PanelWidth;
            for (int p = 0; p < k; p++)
                packed[(panel * kq + p / 4) * 64 + col * 4 + (p & 3)] = w[j * k + p];
        }
    }

    /// <summary>C[i, j] (int32, row stride ldc) = Σ_p A[i, p] · W[j, p] on the widest path.</summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<byte> a, int lda, ReadOnlySpan<sbyte> packedW, Span<int> c, int ldc) =>
        Multiply(DefaultPath, m, n, k, a, lda, packedW, c, ldc);

    /// <summary>As <see cref="Multiply(int,int,int,ReadOnlySpan{byte},int,ReadOnlySpan{sbyte},Span{int},int)"/> on a forced path (tests).</summary>
    internal static void Multiply(int path, int m, int n, int k, ReadOnlySpan<byte> a, int lda, ReadOnlySpan<sbyte> packedW, Span<int> c, int ldc)
    {
        if (m <= 0 || n <= 0) return;
        Check(m, n, k, a.Length, lda, packedW.Length);
        if ((long)(m - 1) * ldc + n > c.Length || ldc < n) throw new ArgumentException($"C [{m}, {n}] with stride {ldc} does not fit {c.Length} values", nameof(c));
        fixed (byte* pa = a) fixed (sbyte* pw = packedW) fixed (int* pc = c)
        {
            var sink = new Sink { IntC = pc, Ldc = ldc };
            Run(path, m, n, k, pa, lda, pw, ref sink);
        }
    }

    /// <summary>
    /// y[i·rowStride + j·colStride] = max?((float)acc[i, j] · scale[j] + offset[j], 0) with acc = Σ_p A[i, p] · W[j, p]:
    /// the integer product followed by per-column dequantization (and bias, folded into offset), written with
    /// arbitrary strides (colStride = 1 for row-major [m, n], rowStride = 1 for a transposed [n, m] output).
    /// </summary>
    public static void MultiplyScaled(int m, int n, int k, ReadOnlySpan<byte> a, int lda, ReadOnlySpan<sbyte> packedW,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> offset, bool relu, Span<float> y, int rowStride, int colStride) =>
        MultiplyScaled(DefaultPath, m, n, k, a, lda, packedW, scale, offset, relu, y, rowStride, colStride);

    /// <summary>As <see cref="MultiplyScaled(int,int,int,ReadOnlySpan{byte},int,ReadOnlySpan{sbyte},ReadOnlySpan{float},ReadOnlySpan{float},bool,Span{float},int,int)"/> on a forced path.</summary>
    internal static void MultiplyScaled(int path, int m, int n, int k, ReadOnlySpan<byte> a, int lda, ReadOnlySpan<sbyte> packedW,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> offset, bool relu, Span<float> y, int rowStride, int colStride)
    {
        if (m <= 0 || n <= 0) return;
        Check(m, n, k, a.Length, lda, packedW.Length);
        if (scale.Length < n || offset.Length < n) throw new ArgumentException($"scale and offset need {n} values");
        if (rowStride <= 0 || colStride <= 0 || (long)(m - 1) * rowStride + (long)(n - 1) * colStride >= y.Length)
            throw new ArgumentException($"y [{m}, {n}] with strides ({rowStride}, {colStride}) does not fit {y.Length} values", nameof(y));
        fixed (byte* pa = a) fixed (sbyte* pw = packedW) fixed (float* ps = scale) fixed (float* po = offset) fixed (float* py = y)
        {
            var sink = new Sink { FloatC = py, RowStride = rowStride, ColStride = colStride, Scale = ps, Offset = po, Relu = relu };
            Run(path, m, n, k, pa, lda, pw, ref sink);
        }
    }

    private static void Check(int m, int n, int k, int aLength, int lda, int packedLength)
    {
        int kp = PaddedK(k);
        if (k < 0 || lda < kp || (long)(m - 1) * lda + kp > aLength)
            throw new ArgumentException($"A [{m}, {k}] (rows read to {kp} bytes) with stride {lda} does not fit {aLength} bytes");
        if (packedLength < PackedLength(n, k)) throw new ArgumentException($"packed W for [{n}, {k}] needs {PackedLength(n, k)} bytes, got {packedLength}");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Run(int path, int m, int n, int k, byte* a, int lda, sbyte* w, ref Sink sink)
    {
        if (!Supports(path)) throw new PlatformNotSupportedException($"Int8Gemm path {path} is not supported on this CPU");
        KernelPaths.Record("Int8Gemm", path switch { 3 => SimdPath.V512, 2 => SimdPath.V256, 1 => SimdPath.V128, _ => SimdPath.Scalar });
        int kq = PaddedK(k) / 4;
        int panels = (n + PanelWidth - 1) / PanelWidth;
        int mr = path switch { 3 => 6, 2 => 4, 1 => 2, _ => 1 };
        int tilePanels = path == 3 ? 2 : 1;
        int* tile = stackalloc int[6 * 32]; // [mr, tilePanels·16]
        long panelBytes = (long)kq * 64;
        for (int i0 = 0; i0 < m; i0 += MC)
        {
            int mc = Math.Min(MC, m - i0);
            for (int p0 = 0; p0 < panels; p0 += tilePanels)
            {
                int np = Math.Min(tilePanels, panels - p0);
                int cols = Math.Min(np * PanelWidth, n - p0 * PanelWidth);
                sbyte* w0 = w + p0 * panelBytes;
                sbyte* w1 = np > 1 ? w0 + panelBytes : w0;
                for (int ii = i0; ii < i0 + mc; ii += mr)
                {
                    int rows = Math.Min(mr, i0 + mc - ii);
                    byte* ar = a + (long)ii * lda;
                    switch (path)
                    {
                        case 3: Int8GemmMicroKernels.Tile512(kq, ar, lda, rows, w0, w1, tile); break;
                        case 2: Int8GemmMicroKernels.Tile256(kq, ar, lda, rows, w0, tile); break;
                        case 1: Int8GemmMicroKernels.Tile128(kq, ar, lda, rows, w0, tile); break;
                        default: Int8GemmMicroKernels.TileScalar(kq, ar, w0, tile); break;
                    }
                    sink.Store(tile, tilePanels * PanelWidth, ii, p0 * PanelWidth, rows, cols);
                }
            }
        }
    }

    /// <summary>Where tiles go: int32 C, or the float epilogue.</summary>
    private struct Sink
    {
        public int* IntC;
        public int Ldc;
        public float* FloatC, Scale, Offset;
        public int RowStride, ColStride;
        public bool Relu;

        public readonly void Store(int* tile, int tileWidth, int i0, int j0, int rows, int cols)
        {
            if (IntC != null)
            {
                for (int r = 0; r < rows; r++)
                    new ReadOnlySpan<int>(tile + r * tileWidth, cols).CopyTo(new Span<int>(IntC + (long)(i0 + r) * Ldc + j0, cols));
                return;
            }
            float* tmp = stackalloc float[8];
            for (int r = 0; r < rows; r++)
            {
                int* t = tile + r * tileWidth;
                float* yr = FloatC + (long)(i0 + r) * RowStride;
                int j = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; j + 8 <= cols; j += 8)
                    {
                        var v = Vector256.ConvertToSingle(Vector256.Load(t + j)) * Vector256.Load(Scale + j0 + j) + Vector256.Load(Offset + j0 + j);
                        if (Relu) v = Vector256.Max(v, Vector256<float>.Zero);
                        if (ColStride == 1) v.Store(yr + j0 + j);
                        else
                        {
                            v.Store(tmp);
                            for (int q = 0; q < 8; q++) yr[(long)(j0 + j + q) * ColStride] = tmp[q];
                        }
                    }
                }
                for (; j < cols; j++)
                {
                    float v = Epilogue(t[j], Scale[j0 + j], Offset[j0 + j], Relu);
                    yr[(long)(j0 + j) * ColStride] = v;
                }
            }
        }
    }

    /// <summary>The per-element dequantization: one multiply, one add (two roundings), then ReLU.</summary>
    public static float Epilogue(int acc, float scale, float offset, bool relu)
    {
        float p = acc * scale;
        float v = p + offset;
        return relu ? MathF.Max(v, 0) : v;
    }

    /// <summary>Scalar reference on the unpacked weights W [n, k]: the textbook triple loop in int32.</summary>
    public static void MultiplyReference(int m, int n, int k, ReadOnlySpan<byte> a, int lda, ReadOnlySpan<sbyte> w, Span<int> c, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                int s = 0;
                for (int p = 0; p < k; p++) s += a[i * lda + p] * w[j * k + p];
                c[i * ldc + j] = s;
            }
    }
}
