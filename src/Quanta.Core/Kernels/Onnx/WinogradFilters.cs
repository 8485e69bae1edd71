using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Quanta.Core.Kernels.Onnx;

/// <summary>
/// 3×3 filters [M, C, 3, 3] transformed for <see cref="WinogradConv"/>: U = G g Gᵀ (4×4 per output/input channel pair,
/// G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]), stored as 16 matrices U_ξ [M, C] (ξ = 4·row + column of U), each
/// packed once as a left <see cref="Sgemm"/> operand. Immutable; safe to share between threads.
/// </summary>
public sealed class WinogradFilters
{
    private readonly SgemmPackedOperand[] _u;

    private WinogradFilters(SgemmPackedOperand[] u, int outputs, int channels)
    {
        _u = u;
        Outputs = outputs;
        Channels = channels;
    }

    /// <summary>Output channels M.</summary>
    public int Outputs { get; }
    /// <summary>Input channels C.</summary>
    public int Channels { get; }
    internal int Path => _u[0].Path;

    /// <summary>Transforms and packs filters [M, C, 3, 3] (row-major, <paramref name="filters"/> holds M·C·9 values).</summary>
    public static WinogradFilters Create(ReadOnlySpan<float> filters, int outputs, int channels)
    {
        if (outputs <= 0 || channels <= 0) throw new ArgumentException($"cannot transform [{outputs}, {channels}, 3, 3] filters");
        if (filters.Length != (long)outputs * channels * 9) throw new ArgumentException($"{filters.Length} filter values for [{outputs}, {channels}, 3, 3]", nameof(filters));
        var u = new float[16][];
        for (int xi = 0; xi < 16; xi++) u[xi] = new float[outputs * channels];
        Span<double> gg = stackalloc double[12];
        for (int o = 0; o < outputs; o++)
            for (int c = 0; c < channels; c++)
            {
                var g = filters.Slice((o * channels + c) * 9, 9);
                // G·g: [4, 3].
                for (int j = 0; j < 3; j++)
                {
                    double g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                    gg[j] = g0; gg[3 + j] = 0.5 * (g0 + g1 + g2); gg[6 + j] = 0.5 * (g0 - g1 + g2); gg[9 + j] = g2;
                }
                // (G·g)·Gᵀ: [4, 4].
                for (int i = 0; i < 4; i++)
                {
                    double a0 = gg[3 * i], a1 = gg[3 * i + 1], a2 = gg[3 * i + 2];
                    int at = o * channels + c;
                    u[4 * i][at] = (float)a0;
                    u[4 * i + 1][at] = (float)(0.5 * (a0 + a1 + a2));
                    u[4 * i + 2][at] = (float)(0.5 * (a0 - a1 + a2));
                    u[4 * i + 3][at] = (float)a2;
                }
            }
        var packed = new SgemmPackedOperand[16];
        for (int xi = 0; xi < 16; xi++) packed[xi] = SgemmPackedOperand.PackA(u[xi], outputs, channels, channels, false);
        return new WinogradFilters(packed, outputs, channels);
    }

    // The packed arrays are allocated pinned, so their address is stable.
    internal unsafe PrepackedPanels Panels(int xi)
    {
        var p = _u[xi];
        return new PrepackedPanels((float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(p.Data)), p.Padded, p.Width);
    }
}
