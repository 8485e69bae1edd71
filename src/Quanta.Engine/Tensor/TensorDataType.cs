namespace Quanta.Engine.Tensor;

/// <summary>Element types of the Open Inference Protocol (KServe v2) tensors that Quanta's tensor models accept.</summary>
public enum TensorDataType
{
    /// <summary>Boolean (stored as 0/1 in <see cref="InferenceTensor.Longs"/>).</summary>
    Bool,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32,
    /// <summary>Unsigned 64-bit integer (values above long.MaxValue are not representable).</summary>
    UInt64,
    /// <summary>Signed 8-bit integer.</summary>
    Int8,
    /// <summary>Signed 16-bit integer.</summary>
    Int16,
    /// <summary>Signed 32-bit integer.</summary>
    Int32,
    /// <summary>Signed 64-bit integer.</summary>
    Int64,
    /// <summary>IEEE 754 binary32.</summary>
    Fp32,
    /// <summary>IEEE 754 binary64.</summary>
    Fp64,
    /// <summary>Byte strings (UTF-8 text or encoded data).</summary>
    Bytes,
}

/// <summary>Protocol names (BOOL, UINT8 … FP32, FP64, BYTES) of <see cref="TensorDataType"/> and storage classes.</summary>
public static class TensorDataTypes
{
    private static readonly string[] Names = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP32", "FP64", "BYTES"];

    /// <summary>The protocol name, e.g. "FP32".</summary>
    public static string ToProtocolName(this TensorDataType type) => Names[(int)type];

    /// <summary>Parses a protocol name (case-sensitive, as the spec writes them); false for unknown or unsupported (FP16, BF16) names.</summary>
    public static bool TryParse(string? name, out TensorDataType type)
    {
        int i = name is null ? -1 : Array.IndexOf(Names, name);
        type = i < 0 ? default : (TensorDataType)i;
        return i >= 0;
    }

    /// <summary>True for BOOL and the integer types (stored in <see cref="InferenceTensor.Longs"/>).</summary>
    public static bool IsInteger(this TensorDataType type) => type <= TensorDataType.Int64;

    /// <summary>Inclusive value range of an integer type (BOOL is 0..1).</summary>
    public static (long Min, long Max) Range(this TensorDataType type) => type switch
    {
        TensorDataType.Bool => (0, 1),
        TensorDataType.UInt8 => (0, byte.MaxValue),
        TensorDataType.UInt16 => (0, ushort.MaxValue),
        TensorDataType.UInt32 => (0, uint.MaxValue),
        TensorDataType.UInt64 => (0, long.MaxValue),
        TensorDataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        TensorDataType.Int16 => (short.MinValue, short.MaxValue),
        TensorDataType.Int32 => (int.MinValue, int.MaxValue),
        _ => (long.MinValue, long.MaxValue),
    };
}
