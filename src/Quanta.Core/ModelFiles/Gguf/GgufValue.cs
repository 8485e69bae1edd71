using System.Globalization;
using System.Runtime.CompilerServices;

namespace Quanta.Core.ModelFiles.Gguf;

/// <summary>
/// One immutable GGUF metadata value: a scalar, a string or a <see cref="GgufArray"/>. Read it with
/// <see cref="As{T}"/> using the CLR type that matches <see cref="Type"/> exactly (see
/// <see cref="GgufValueTypeInfo.Of{T}"/>); there are no implicit conversions between types.
/// </summary>
public sealed class GgufValue
{
    private readonly ulong _bits;     // raw little-endian-independent bits of a scalar
    private readonly object? _object; // string or GgufArray

    private GgufValue(GgufValueType type, ulong bits, object? obj)
    {
        Type = type;
        _bits = bits;
        _object = obj;
    }

    /// <summary>The stored type.</summary>
    public GgufValueType Type { get; }

    /// <summary>Creates a scalar, string or array value; <typeparamref name="T"/> picks the type.</summary>
    public static GgufValue From<T>(T value)
    {
        GgufValueType type = GgufValueTypeInfo.Of<T>();
        if (type == GgufValueType.String) return new GgufValue(type, 0, value ?? throw new ArgumentNullException(nameof(value)));
        if (type == GgufValueType.Array) return new GgufValue(type, 0, value ?? throw new ArgumentNullException(nameof(value)));
        ulong bits = 0;
        Unsafe.WriteUnaligned(ref Unsafe.As<ulong, byte>(ref bits), value);
        return new GgufValue(type, bits, null);
    }

    /// <summary>Creates a string value.</summary>
    public static GgufValue FromString(string value) => From(value);

    /// <summary>Creates an array value.</summary>
    public static GgufValue FromArray(GgufArray value) => From(value);

    internal static GgufValue FromBits(GgufValueType type, ulong bits) => new(type, bits, null);

    /// <summary>The value as <typeparamref name="T"/>; throws <see cref="InvalidCastException"/> when <see cref="Type"/> differs.</summary>
    public T As<T>()
    {
        GgufValueType wanted = GgufValueTypeInfo.Of<T>();
        if (wanted != Type) throw new InvalidCastException($"GGUF value has type {Type}, not {wanted}");
        if (_object is not null) return (T)_object;
        ulong bits = _bits;
        return Unsafe.ReadUnaligned<T>(ref Unsafe.As<ulong, byte>(ref bits));
    }

    /// <summary>True when <see cref="Type"/> matches <typeparamref name="T"/>, with the value.</summary>
    public bool TryAs<T>(out T value)
    {
        if (GgufValueTypeInfo.Of<T>() != Type)
        {
            value = default!;
            return false;
        }
        value = As<T>();
        return true;
    }

    /// <summary>The value boxed (scalars), the string, or the <see cref="GgufArray"/>.</summary>
    public object Value => Type switch
    {
        GgufValueType.UInt8 => As<byte>(),
        GgufValueType.Int8 => As<sbyte>(),
        GgufValueType.UInt16 => As<ushort>(),
        GgufValueType.Int16 => As<short>(),
        GgufValueType.UInt32 => As<uint>(),
        GgufValueType.Int32 => As<int>(),
        GgufValueType.Float32 => As<float>(),
        GgufValueType.Bool => As<bool>(),
        GgufValueType.UInt64 => As<ulong>(),
        GgufValueType.Int64 => As<long>(),
        GgufValueType.Float64 => As<double>(),
        _ => _object!,
    };

    /// <inheritdoc/>
    public override string ToString() => Value is IFormattable f
        ? f.ToString(null, CultureInfo.InvariantCulture)
        : Value.ToString() ?? "";
}
