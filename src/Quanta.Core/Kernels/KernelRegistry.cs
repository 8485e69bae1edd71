using Quanta.Core.Formats;
using Quanta.Core.Kernels.Float;
using Quanta.Core.Kernels.Integer;
using Quanta.Core.Kernels.Quantized;

namespace Quanta.Core.Kernels;

/// <summary>The one place that maps a weight format to the dot kernel the matrix products use.</summary>
public static class KernelRegistry
{
    /// <summary>The dot kernel for <paramref name="format"/>.</summary>
    public static IVecDotKernel VecDot(WeightFormat format) => format switch
    {
        WeightFormat.F32 => F32VecDot.Instance,
        WeightFormat.F16 => F16VecDot.Instance,
        WeightFormat.BF16 => BF16VecDot.Instance,
        WeightFormat.Q4_0 => VecDotQ4_0Q8_0.Instance,
        WeightFormat.Q4_1 => VecDotQ4_1Q8_1.Instance,
        WeightFormat.Q5_0 => VecDotQ5_0Q8_0.Instance,
        WeightFormat.Q5_1 => VecDotQ5_1Q8_1.Instance,
        WeightFormat.Q8_0 => VecDotQ8_0Q8_0.Instance,
        WeightFormat.Q2_K => VecDotQ2_K.Instance,
        WeightFormat.Q3_K => VecDotQ3_K.Instance,
        WeightFormat.Q4_K => VecDotQ4_K.Instance,
        WeightFormat.Q5_K => VecDotQ5_K.Instance,
        WeightFormat.Q6_K => VecDotQ6_K.Instance,
        WeightFormat.Fp8E4M3 => Fp8E4M3VecDot.Instance,
        WeightFormat.Fp8E5M2 => Fp8E5M2VecDot.Instance,
        WeightFormat.Int8 => Int8Q8_0DotKernel.Instance,
        WeightFormat.Int4G32 => Int4Q8_0DotKernel.G32,
        WeightFormat.Int4G64 => Int4Q8_0DotKernel.G64,
        WeightFormat.Int4G128 => Int4Q8_0DotKernel.G128,
        _ => throw new NotSupportedException($"no dot kernel for weight format {format}"),
    };

    /// <summary>Every weight format with a dot kernel.</summary>
    public static IReadOnlyList<WeightFormat> Formats { get; } = Enum.GetValues<WeightFormat>();
}
