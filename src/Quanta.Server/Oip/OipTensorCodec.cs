using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Quanta.Engine.Tensor;

namespace Quanta.Server.Oip;

/// <summary>Turns protocol JSON tensors into <see cref="InferenceTensor"/> (every mistake is a <see cref="TensorRequestException"/>).</summary>
public static class OipTensorCodec
{
    /// <summary>Most elements one input tensor may have.</summary>
    public const int MaxElements = 1 << 26;

    /// <summary>Decodes one input: datatype, shape (non-negative, element count = data length) and typed, range-checked data.</summary>
    public static InferenceTensor Decode(OipInputTensor input)
    {
        var (name, type, shape, count) = Header(input);
        var elements = new List<JsonElement>((int)Math.Min(count, 1 << 16));
        if (input.Data.ValueKind != JsonValueKind.Array) throw new TensorRequestException($"input '{name}': data must be a JSON array");
        Flatten(input.Data, elements, name, count);
        if (elements.Count != count)
            throw new TensorRequestException($"input '{name}': shape [{string.Join(", ", shape)}] needs {count} elements, data has {elements.Count}");
        try
        {
            switch (type)
            {
                case TensorDataType.Fp32:
                {
                    var f = new float[elements.Count];
                    for (int i = 0; i < f.Length; i++)
                        f[i] = elements[i].ValueKind == JsonValueKind.Number && elements[i].TryGetSingle(out float v) && float.IsFinite(v) ? v : throw Bad(name, i, "an FP32 number");
                    return InferenceTensor.FromFloats(name, shape, f);
                }
                case TensorDataType.Fp64:
                {
                    var d = new double[elements.Count];
                    for (int i = 0; i < d.Length; i++)
                        d[i] = elements[i].ValueKind == JsonValueKind.Number && elements[i].TryGetDouble(out double v) ? v : throw Bad(name, i, "an FP64 number");
                    return InferenceTensor.FromDoubles(name, shape, d);
                }
                case TensorDataType.Bytes:
                {
                    var b = new byte[elements.Count][];
                    for (int i = 0; i < b.Length; i++)
                        b[i] = elements[i].ValueKind == JsonValueKind.String ? Encoding.UTF8.GetBytes(elements[i].GetString()!) : throw Bad(name, i, "a string");
                    return InferenceTensor.FromBytes(name, shape, b);
                }
                case TensorDataType.Bool:
                {
                    var l = new long[elements.Count];
                    for (int i = 0; i < l.Length; i++)
                        l[i] = elements[i].ValueKind switch { JsonValueKind.True => 1, JsonValueKind.False => 0, _ => throw Bad(name, i, "true or false") };
                    return InferenceTensor.FromLongs(name, type, shape, l);
                }
                default:
                {
                    var (min, max) = type.Range();
                    var l = new long[elements.Count];
                    for (int i = 0; i < l.Length; i++)
                        l[i] = elements[i].ValueKind == JsonValueKind.Number && elements[i].TryGetInt64(out long v) && v >= min && v <= max ? v : throw Bad(name, i, "an integer in " + type.ToProtocolName() + " range");
                    return InferenceTensor.FromLongs(name, type, shape, l);
                }
            }
        }
        catch (ArgumentException e)
        {
            throw new TensorRequestException($"input '{name}': {e.Message}", e);
        }
    }

    // Name, datatype, shape and element count of an input (shape checked: non-negative, at most MaxElements in all).
    private static (string Name, TensorDataType Type, int[] Shape, long Count) Header(OipInputTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        string name = input.Name is { Length: > 0 } n ? n : throw new TensorRequestException("every input needs a name");
        if (!TensorDataTypes.TryParse(input.Datatype, out var type))
            throw new TensorRequestException($"input '{name}': unsupported datatype '{input.Datatype}' (BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP32, FP64, BYTES)");
        if (input.Shape is null) throw new TensorRequestException($"input '{name}' has no shape");
        var shape = new int[input.Shape.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = input.Shape[i];
            if (d < 0 || d > MaxElements) throw new TensorRequestException($"input '{name}': invalid dimension {d} in shape [{string.Join(", ", input.Shape)}]");
            shape[i] = (int)d;
            count *= d;
            if (count > MaxElements) throw new TensorRequestException($"input '{name}': shape [{string.Join(", ", input.Shape)}] has more than {MaxElements} elements");
        }
        return (name, type, shape, count);
    }

    /// <summary>Name of the binary tensor data extension's input parameter giving the byte size of the tensor's data.</summary>
    public const string BinaryDataSizeParameter = "binary_data_size";

    /// <summary>
    /// The byte count an input's data occupies after the JSON header (binary tensor data extension), or null when the
    /// input carries its data as JSON. Throws <see cref="TensorRequestException"/> for a size that is not a non-negative integer.
    /// </summary>
    public static long? BinaryDataSize(OipInputTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Parameters is null || !input.Parameters.TryGetValue(BinaryDataSizeParameter, out var v)) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) && n >= 0 ? n
            : throw new TensorRequestException($"input '{input.Name}': {BinaryDataSizeParameter} must be a non-negative integer");
    }

    /// <summary>
    /// Decodes one input whose elements arrive as binary data (KServe v2 / Triton binary tensor data extension):
    /// little-endian, row-major, each element in its type's native size (BOOL one byte 0/1); a BYTES element is a
    /// 4-byte little-endian length followed by that many bytes. <paramref name="data"/> must hold exactly the
    /// tensor's elements; values are range-checked as in <see cref="Decode"/>.
    /// </summary>
    public static InferenceTensor DecodeBinary(OipInputTensor input, ReadOnlySpan<byte> data)
    {
        var (name, type, shape, count) = Header(input);
        try
        {
            if (type == TensorDataType.Bytes)
            {
                var b = new byte[count][];
                int at = 0;
                for (int i = 0; i < b.Length; i++)
                {
                    if (data.Length - at < 4) throw new TensorRequestException($"input '{name}': binary data ends inside the length of element {i}");
                    uint len = BinaryPrimitives.ReadUInt32LittleEndian(data[at..]);
                    at += 4;
                    if (len > (uint)(data.Length - at)) throw new TensorRequestException($"input '{name}': element {i} claims {len} bytes, {data.Length - at} remain");
                    b[i] = data.Slice(at, (int)len).ToArray();
                    at += (int)len;
                }
                if (at != data.Length) throw new TensorRequestException($"input '{name}': {data.Length - at} bytes of binary data are left after {count} elements");
                return InferenceTensor.FromBytes(name, shape, b);
            }
            int size = type switch
            {
                TensorDataType.Bool or TensorDataType.UInt8 or TensorDataType.Int8 => 1,
                TensorDataType.UInt16 or TensorDataType.Int16 => 2,
                TensorDataType.UInt32 or TensorDataType.Int32 or TensorDataType.Fp32 => 4,
                _ => 8,
            };
            if (data.Length != count * size)
                throw new TensorRequestException($"input '{name}': shape [{string.Join(", ", shape)}] of {type.ToProtocolName()} needs {count * size} bytes of binary data, got {data.Length}");
            switch (type)
            {
                case TensorDataType.Fp32:
                {
                    var f = new float[count];
                    for (int i = 0; i < f.Length; i++)
                        f[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(i * 4)..]) is var v && float.IsFinite(v) ? v : throw Bad(name, i, "a finite FP32 number");
                    return InferenceTensor.FromFloats(name, shape, f);
                }
                case TensorDataType.Fp64:
                {
                    var d = new double[count];
                    for (int i = 0; i < d.Length; i++) d[i] = BinaryPrimitives.ReadDoubleLittleEndian(data[(i * 8)..]);
                    return InferenceTensor.FromDoubles(name, shape, d);
                }
                default:
                {
                    var (min, max) = type.Range();
                    var l = new long[count];
                    for (int i = 0; i < l.Length; i++)
                    {
                        var e = data.Slice(i * size, size);
                        long v = type switch
                        {
                            TensorDataType.Int8 => (sbyte)e[0],
                            TensorDataType.Bool or TensorDataType.UInt8 => e[0],
                            TensorDataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(e),
                            TensorDataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(e),
                            TensorDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(e),
                            TensorDataType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(e),
                            TensorDataType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(e) is var u && u <= long.MaxValue ? (long)u : -1,
                            _ => BinaryPrimitives.ReadInt64LittleEndian(e),
                        };
                        l[i] = v >= min && v <= max ? v : throw Bad(name, i, "a value in " + type.ToProtocolName() + " range");
                    }
                    return InferenceTensor.FromLongs(name, type, shape, l);
                }
            }
        }
        catch (ArgumentException e)
        {
            throw new TensorRequestException($"input '{name}': {e.Message}", e);
        }
    }

    private static TensorRequestException Bad(string name, int i, string what) => new($"input '{name}': element {i} is not {what}");

    private static void Flatten(JsonElement e, List<JsonElement> into, string name, long limit)
    {
        foreach (var x in e.EnumerateArray())
        {
            if (x.ValueKind == JsonValueKind.Array) Flatten(x, into, name, limit);
            else into.Add(x);
            if (into.Count > limit) throw new TensorRequestException($"input '{name}': data has more elements than its shape");
        }
    }

    /// <summary>Integer-valued request parameters (others are ignored).</summary>
    public static Dictionary<string, long> Parameters(Dictionary<string, JsonElement>? parameters)
    {
        var r = new Dictionary<string, long>(StringComparer.Ordinal);
        if (parameters is null) return r;
        foreach (var (k, v) in parameters)
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long l)) r[k] = l;
        return r;
    }
}
