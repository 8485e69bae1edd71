namespace Quanta.Core.ModelFiles.Gguf;

/// <summary>
/// An immutable GGUF metadata array: <see cref="Count"/> elements of one <see cref="ElementType"/>
/// (arrays of arrays are allowed, each inner array with its own element type). Elements are read as
/// a span of the matching CLR type with <see cref="AsSpan{T}"/>.
/// </summary>
public sealed class GgufArray
{
    private readonly Array _items;

    private GgufArray(GgufValueType elementType, Array items)
    {
        ElementType = elementType;
        _items = items;
    }

    /// <summary>Type of every element.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>Number of elements.</summary>
    public int Count => _items.Length;

    /// <summary>Creates an array from a copy of <paramref name="items"/>; <typeparamref name="T"/> picks the element type.</summary>
    public static GgufArray Create<T>(ReadOnlySpan<T> items)
    {
        GgufValueType type = GgufValueTypeInfo.Of<T>();
        T[] copy = items.ToArray();
        if (type is GgufValueType.String or GgufValueType.Array)
            foreach (T item in copy) ArgumentNullException.ThrowIfNull(item, nameof(items));
        return new GgufArray(type, copy);
    }

    /// <summary>Wraps an array the reader built (not copied).</summary>
    internal static GgufArray Wrap<T>(T[] items) => new(GgufValueTypeInfo.Of<T>(), items);

    /// <summary>
    /// The elements as <typeparamref name="T"/>, which must be the CLR type of <see cref="ElementType"/>
    /// exactly (e.g. uint for UInt32; int is rejected). Throws <see cref="InvalidCastException"/> otherwise.
    /// </summary>
    public ReadOnlySpan<T> AsSpan<T>()
    {
        GgufValueType wanted = GgufValueTypeInfo.Of<T>();
        if (wanted != ElementType) throw new InvalidCastException($"GGUF array holds {ElementType}, not {wanted}");
        return (T[])_items;
    }

    internal Array Items => _items;
}
