using Quanta.Core.Formats.Float;
using Quanta.Core.Formats.Gguf;
using Quanta.Core.Formats.Integer;

namespace Quanta.Core.Formats;

/// <summary>
/// The one place that maps a storage format to its <see cref="IRowCodec"/>. Model loaders, the embedding lookup,
/// conversion and quantization tools all go through here, so adding a format means adding one line.
/// </summary>
public static class CodecRegistry
{
    /// <summary>The codec for a GGUF tensor type; throws <see cref="NotSupportedException"/> naming the type otherwise.</summary>
    public static IRowCodec For(GgmlType type) => TryGet(type, out var codec) ? codec
        : throw new NotSupportedException($"tensor type {type} has no codec in Quanta (supported: {string.Join(", ", SupportedGgmlTypes)})");

    /// <summary>Looks up the codec for a GGUF tensor type.</summary>
    public static bool TryGet(GgmlType type, out IRowCodec codec)
    {
        codec = type switch
        {
            GgmlType.F32 => F32Codec.Instance,
            GgmlType.F16 => F16Codec.Instance,
            GgmlType.BF16 => BF16Codec.Instance,
            GgmlType.Q4_0 => Q4_0Codec.Instance,
            GgmlType.Q4_1 => Q4_1Codec.Instance,
            GgmlType.Q5_0 => Q5_0Codec.Instance,
            GgmlType.Q5_1 => Q5_1Codec.Instance,
            GgmlType.Q8_0 => Q8_0Codec.Instance,
            GgmlType.Q8_1 => Q8_1Codec.Instance,
            GgmlType.Q2_K => Q2_KCodec.Instance,
            GgmlType.Q3_K => Q3_KCodec.Instance,
            GgmlType.Q4_K => Q4_KCodec.Instance,
            GgmlType.Q5_K => Q5_KCodec.Instance,
            GgmlType.Q6_K => Q6_KCodec.Instance,
            GgmlType.Q8_K => Q8_KCodec.Instance,
            _ => null!,
        };
        return codec != null;
    }

    /// <summary>The codec for a weight row layout.</summary>
    public static IRowCodec For(WeightFormat format) => format switch
    {
        WeightFormat.Fp8E4M3 => Fp8E4M3Codec.Instance,
        WeightFormat.Fp8E5M2 => Fp8E5M2Codec.Instance,
        WeightFormat.Int8 => Int8RowCodec.Instance,
        WeightFormat.Int4G32 => Int4RowCodec.G32,
        WeightFormat.Int4G64 => Int4RowCodec.G64,
        WeightFormat.Int4G128 => Int4RowCodec.G128,
        _ => For(ToGgml(format)),
    };

    /// <summary>The weight format of a GGUF tensor type, when the matrix kernels can read it directly.</summary>
    public static bool TryGetWeightFormat(GgmlType type, out WeightFormat format)
    {
        (bool ok, format) = type switch
        {
            GgmlType.F32 => (true, WeightFormat.F32),
            GgmlType.F16 => (true, WeightFormat.F16),
            GgmlType.BF16 => (true, WeightFormat.BF16),
            GgmlType.Q4_0 => (true, WeightFormat.Q4_0),
            GgmlType.Q4_1 => (true, WeightFormat.Q4_1),
            GgmlType.Q5_0 => (true, WeightFormat.Q5_0),
            GgmlType.Q5_1 => (true, WeightFormat.Q5_1),
            GgmlType.Q8_0 => (true, WeightFormat.Q8_0),
            GgmlType.Q2_K => (true, WeightFormat.Q2_K),
            GgmlType.Q3_K => (true, WeightFormat.Q3_K),
            GgmlType.Q4_K => (true, WeightFormat.Q4_K),
            GgmlType.Q5_K => (true, WeightFormat.Q5_K),
            GgmlType.Q6_K => (true, WeightFormat.Q6_K),
            _ => (false, default),
        };
        return ok;
    }

    /// <summary>The GGUF type of a weight format that has one (the GGUF formats and F32/F16/BF16).</summary>
    public static GgmlType ToGgml(WeightFormat format) => format switch
    {
        WeightFormat.F32 => GgmlType.F32,
        WeightFormat.F16 => GgmlType.F16,
        WeightFormat.BF16 => GgmlType.BF16,
        WeightFormat.Q4_0 => GgmlType.Q4_0,
        WeightFormat.Q4_1 => GgmlType.Q4_1,
        WeightFormat.Q5_0 => GgmlType.Q5_0,
        WeightFormat.Q5_1 => GgmlType.Q5_1,
        WeightFormat.Q8_0 => GgmlType.Q8_0,
        WeightFormat.Q2_K => GgmlType.Q2_K,
        WeightFormat.Q3_K => GgmlType.Q3_K,
        WeightFormat.Q4_K => GgmlType.Q4_K,
        WeightFormat.Q5_K => GgmlType.Q5_K,
        WeightFormat.Q6_K => GgmlType.Q6_K,
        _ => throw new NotSupportedException($"weight format {format} has no GGUF tensor type"),
    };

    /// <summary>GGUF tensor types that have a codec.</summary>
    public static IReadOnlyList<GgmlType> SupportedGgmlTypes { get; } =
        Enum.GetValues<GgmlType>().Where(t => TryGet(t, out _)).ToArray();
}
