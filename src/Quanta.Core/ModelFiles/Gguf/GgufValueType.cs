namespace Quanta.Core.ModelFiles.Gguf;

/// <summary>Metadata value types with the ids GGUF stores (gguf.md, enum gguf_metadata_value_type).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    /// <summary>One byte, 0 or 1.</summary>
    Bool = 7,
    /// <summary>uint64 byte length, then UTF-8 bytes without terminator.</summary>
    String = 8,
    /// <summary>uint32 element type, uint64 count, then the elements (arrays may nest).</summary>
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>Sizes and CLR types of <see cref="GgufValueType"/>.</summary>
public static class GgufValueTypeInfo
{
    /// <summary>Bytes of a fixed-size value, or 0 for <see cref="GgufValueType.String"/> and <see cref="GgufValueType.Array"/>.</summary>
    public static int FixedSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 0,
    };

    /// <summary>Smallest number of bytes one value of the type can occupy in a file (strings 8, arrays 12).</summary>
    public static int MinEncodedSize(GgufValueType type) => type switch
    {
        GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => FixedSize(type),
    };

    /// <summary>True for the 13 ids the format defines.</summary>
    public static bool IsDefined(GgufValueType type) => (uint)type <= (uint)GgufValueType.Float64;

    /// <summary>
    /// The value type represented by CLR type <typeparamref name="T"/>: byte, sbyte, ushort, short, uint, int,
    /// float, bool, string, <see cref="GgufArray"/>, ulong, long, double. Throws for any other type.
    /// </summary>
    public static GgufValueType Of<T>()
    {
        if (typeof(T) == typeof(byte)) return GgufValueType.UInt8;
        if (typeof(T) == typeof(sbyte)) return GgufValueType.Int8;
        if (typeof(T) == typeof(ushort)) return GgufValueType.UInt16;
        if (typeof(T) == typeof(short)) return GgufValueType.Int16;
        if (typeof(T) == typeof(uint)) return GgufValueType.UInt32;
        if (typeof(T) == typeof(int)) return GgufValueType.Int32;
        if (typeof(T) == typeof(float)) return GgufValueType.Float32;
        if (typeof(T) == typeof(bool)) return GgufValueType.Bool;
        if (typeof(T) == typeof(string)) return GgufValueType.String;
        if (typeof(T) == typeof(GgufArray)) return GgufValueType.Array;
        if (typeof(T) == typeof(ulong)) return GgufValueType.UInt64;
        if (typeof(T) == typeof(long)) return GgufValueType.Int64;
        if (typeof(T) == typeof(double)) return GgufValueType.Float64;
        throw new NotSupportedException($"{typeof(T)} is not a GGUF value type");
    }
}
