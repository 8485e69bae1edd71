namespace Quanta.Core.ModelFiles.Safetensors;

/// <summary>Element types of safetensors tensors (the "dtype" strings of the header).</summary>
public enum SafetensorsDType
{
    BOOL,
    U8,
    I8,
    F8_E5M2,
    F8_E4M3,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

/// <summary>Names and element sizes of <see cref="SafetensorsDType"/>.</summary>
public static class SafetensorsDTypeInfo
{
    /// <summary>Bytes per element.</summary>
    public static int Size(SafetensorsDType type) => type switch
    {
        SafetensorsDType.BOOL or SafetensorsDType.U8 or SafetensorsDType.I8
            or SafetensorsDType.F8_E5M2 or SafetensorsDType.F8_E4M3 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown safetensors dtype"),
    };

    /// <summary>The header spelling ("F32", "BF16", "F8_E4M3", ...).</summary>
    public static string Name(SafetensorsDType type) => type.ToString();

    /// <summary>Parses a header dtype string (case-sensitive, as the format defines it).</summary>
    public static bool TryParse(string name, out SafetensorsDType type)
    {
        type = name switch
        {
            "BOOL" => SafetensorsDType.BOOL,
            "U8" => SafetensorsDType.U8,
            "I8" => SafetensorsDType.I8,
            "F8_E5M2" => SafetensorsDType.F8_E5M2,
            "F8_E4M3" => SafetensorsDType.F8_E4M3,
            "I16" => SafetensorsDType.I16,
            "U16" => SafetensorsDType.U16,
            "F16" => SafetensorsDType.F16,
            "BF16" => SafetensorsDType.BF16,
            "I32" => SafetensorsDType.I32,
            "U32" => SafetensorsDType.U32,
            "F32" => SafetensorsDType.F32,
            "F64" => SafetensorsDType.F64,
            "I64" => SafetensorsDType.I64,
            "U64" => SafetensorsDType.U64,
            _ => (SafetensorsDType)(-1),
        };
        return (int)type >= 0;
    }
}
