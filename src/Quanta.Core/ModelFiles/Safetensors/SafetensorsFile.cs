using System.Text.Json;
using System.Text.Unicode;

namespace Quanta.Core.ModelFiles.Safetensors;

/// <summary>
/// A parsed safetensors file: an 8-byte little-endian header length N (at most
/// <see cref="MaxHeaderBytes"/> and within the file), N bytes of UTF-8 JSON mapping tensor names to
/// {dtype, shape, data_offsets} plus an optional "__metadata__" string map, then the data section.
/// Opening validates every entry: known dtype, non-negative dimensions whose product (times the dtype
/// size) does not overflow and equals the byte range, offsets ordered and inside the data section,
/// no two tensors overlapping, unique names. Defects throw <see cref="ModelFileException"/>.
/// <para>
/// Lifetime: one memory-mapped view (or pinned array) owned by this object. Tensor infos and metadata
/// stay usable after <see cref="Dispose"/>; spans and pointers into tensor data are valid only until then.
/// </para>
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>Largest JSON header accepted (100 MB, as the reference implementation).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly ByteRegion _region;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private readonly SafetensorsTensorInfo[] _tensors;
    private readonly Dictionary<string, string> _metadata;

    private SafetensorsFile(ByteRegion region, string filePath)
    {
        _region = region;
        FilePath = filePath;
        FileSize = region.Length;
        var c = new ByteCursor(region.Pointer, region.Length, filePath);
        ulong headerLen = c.ReadUInt64("header length");
        if (headerLen > MaxHeaderBytes)
            throw c.Error($"header length {headerLen} exceeds the {MaxHeaderBytes}-byte limit");
        if (headerLen > (ulong)c.Remaining)
            throw c.Error($"header length {headerLen} runs past the end of the file (size {FileSize})");
        if (headerLen < 2)
            throw c.Error($"header length {headerLen} is too small for a JSON object");
        ReadOnlySpan<byte> json = c.ReadBytes((long)headerLen, "JSON header");
        HeaderLength = (long)headerLen;
        DataOffset = c.Position;
        long dataBytes = FileSize - DataOffset;
        if (!Utf8.IsValid(json)) throw c.Error("JSON header is not valid UTF-8");

        _metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        _byName = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        var list = new List<SafetensorsTensorInfo>();
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw c.Error($"JSON header is a {root.ValueKind}, not an object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty prop in root.EnumerateObject())
            {
                string name = prop.Name;
                if (!seen.Add(name)) throw c.Error($"duplicate entry '{name}' in the JSON header");
                if (name == "__metadata__")
                {
                    ReadMetadata(ref c, prop.Value);
                    continue;
                }
                list.Add(ReadTensor(ref c, name, prop.Value, DataOffset, dataBytes));
            }
        }
        catch (JsonException e)
        {
            throw new ModelFileException(filePath, $"JSON header is malformed: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new ModelFileException(filePath, $"JSON header is malformed: {e.Message}", e);
        }

        _tensors = list.ToArray();
        foreach (SafetensorsTensorInfo t in _tensors) _byName.Add(t.Name, t);
        var order = (SafetensorsTensorInfo[])_tensors.Clone();
        Array.Sort(order, static (a, b) => a.DataBegin != b.DataBegin ? a.DataBegin.CompareTo(b.DataBegin) : a.DataEnd.CompareTo(b.DataEnd));
        for (int i = 1; i < order.Length; i++)
        {
            SafetensorsTensorInfo prev = order[i - 1], cur = order[i];
            if (cur.DataBegin < prev.DataEnd)
                throw c.Error($"tensor '{cur.Name}' data [{cur.DataBegin}, {cur.DataEnd}) overlaps tensor '{prev.Name}' [{prev.DataBegin}, {prev.DataEnd})");
        }
    }

    /// <summary>Maps and parses the safetensors file at <paramref name="path"/>.</summary>
    /// <exception cref="ModelFileException">The file is malformed.</exception>
    public static SafetensorsFile Open(string path)
    {
        ByteRegion region = ByteRegion.MapFile(path);
        try
        {
            return new SafetensorsFile(region, path);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>Parses safetensors bytes in memory; <paramref name="data"/> is pinned (not copied) until disposal.</summary>
    /// <exception cref="ModelFileException">The data is malformed.</exception>
    public static SafetensorsFile Parse(byte[] data, string name = "<memory>")
    {
        ByteRegion region = ByteRegion.Pin(data);
        try
        {
            return new SafetensorsFile(region, name);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>The path (or label) the file was opened with.</summary>
    public string FilePath { get; }

    /// <summary>File size in bytes.</summary>
    public long FileSize { get; }

    /// <summary>Length of the JSON header in bytes.</summary>
    public long HeaderLength { get; }

    /// <summary>Absolute offset of the data section (8 + header length).</summary>
    public long DataOffset { get; }

    /// <summary>The "__metadata__" map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors => _tensors;

    /// <summary>True and the info when the tensor exists.</summary>
    public bool TryGetTensor(string name, out SafetensorsTensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>The named tensor; a missing name throws <see cref="ModelFileException"/>.</summary>
    public SafetensorsTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out SafetensorsTensorInfo? t) ? t : throw new ModelFileException(FilePath, $"tensor '{name}' is missing");

    /// <summary>Zero-copy view of the tensor's bytes; valid only until this file is disposed.</summary>
    public ReadOnlySpan<byte> GetTensorData(SafetensorsTensorInfo tensor)
    {
        byte* p = GetTensorPointer(tensor);
        if (tensor.ByteCount > int.MaxValue)
            throw new InvalidOperationException($"tensor '{tensor.Name}' has {tensor.ByteCount} bytes, too many for a span; use GetTensorPointer");
        return new ReadOnlySpan<byte>(p, (int)tensor.ByteCount);
    }

    /// <summary>Zero-copy view of the named tensor's bytes; valid only until this file is disposed.</summary>
    public ReadOnlySpan<byte> GetTensorData(string name) => GetTensorData(GetTensor(name));

    /// <summary>Pointer to the tensor's first byte (read-only memory); valid only until this file is disposed.</summary>
    public byte* GetTensorPointer(SafetensorsTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        _region.ThrowIfDisposed();
        if (!_byName.TryGetValue(tensor.Name, out SafetensorsTensorInfo? own) || !ReferenceEquals(own, tensor))
            throw new ArgumentException($"tensor '{tensor.Name}' does not belong to {FilePath}", nameof(tensor));
        return _region.Pointer + tensor.FileOffset;
    }

    /// <summary>
    /// The whole mapped file (or pinned array) as a bounds-checked <see cref="Memory.NativeRegion"/>, owned by this
    /// object: loaders keep long-lived tensor views as region + file offset instead of addresses. Do not dispose it
    /// (disposing this object does); it throws <see cref="ObjectDisposedException"/> once this object is disposed.
    /// </summary>
    public Memory.NativeRegion Region => _region;

    /// <summary>Releases the mapping; views obtained earlier become invalid.</summary>
    public void Dispose() => _region.Dispose();

    private void ReadMetadata(ref ByteCursor c, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object) throw c.Error($"__metadata__ is a {value.ValueKind}, not an object of strings");
        foreach (JsonProperty p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw c.Error($"__metadata__ entry '{p.Name}' is a {p.Value.ValueKind}, not a string");
            if (!_metadata.TryAdd(p.Name, p.Value.GetString()!))
                throw c.Error($"duplicate __metadata__ entry '{p.Name}'");
        }
    }

    private static SafetensorsTensorInfo ReadTensor(ref ByteCursor c, string name, JsonElement value, long dataStart, long dataBytes)
    {
        if (value.ValueKind != JsonValueKind.Object) throw c.Error($"tensor '{name}' entry is a {value.ValueKind}, not an object");
        if (!value.TryGetProperty("dtype", out JsonElement dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String)
            throw c.Error($"tensor '{name}' has no string 'dtype'");
        string dtypeName = dtypeEl.GetString()!;
        if (!SafetensorsDTypeInfo.TryParse(dtypeName, out SafetensorsDType dtype))
            throw c.Error($"tensor '{name}' has unknown dtype '{dtypeName}'");
        if (!value.TryGetProperty("shape", out JsonElement shapeEl) || shapeEl.ValueKind != JsonValueKind.Array)
            throw c.Error($"tensor '{name}' has no 'shape' array");
        int rank = shapeEl.GetArrayLength();
        var shape = new long[rank];
        long elements = 1;
        int d = 0;
        foreach (JsonElement dim in shapeEl.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long ne))
                throw c.Error($"tensor '{name}' dimension {d} is not an integer");
            if (ne < 0) throw c.Error($"tensor '{name}' dimension {d} is negative ({ne})");
            shape[d++] = ne;
            if (ne != 0 && elements > long.MaxValue / ne)
                throw c.Error($"tensor '{name}' shape [{string.Join(", ", shapeEl.EnumerateArray())}] overflows a 64-bit element count");
            elements *= ne;
        }
        int size = SafetensorsDTypeInfo.Size(dtype);
        if (elements > long.MaxValue / size)
            throw c.Error($"tensor '{name}' shape [{string.Join(", ", shape)}] overflows a 64-bit byte count");
        long bytes = elements * size;
        if (!value.TryGetProperty("data_offsets", out JsonElement offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
            throw c.Error($"tensor '{name}' has no 'data_offsets' pair");
        if (offEl[0].ValueKind != JsonValueKind.Number || offEl[1].ValueKind != JsonValueKind.Number
            || !offEl[0].TryGetInt64(out long begin) || !offEl[1].TryGetInt64(out long end) || begin < 0 || end < 0)
            throw c.Error($"tensor '{name}' data_offsets are not non-negative integers");
        if (end < begin)
            throw c.Error($"tensor '{name}' data_offsets [{begin}, {end}] are out of order");
        if (end > dataBytes)
            throw c.Error($"tensor '{name}' data [offset {begin}, {end - begin} bytes] runs past the end of the file (size {dataStart + dataBytes}, data section starts at {dataStart})");
        if (end - begin != bytes)
            throw c.Error($"tensor '{name}' data_offsets span {end - begin} bytes but {dtype} x [{string.Join(", ", shape)}] needs {bytes}");
        return new SafetensorsTensorInfo(name, dtype, shape, begin, end, dataStart, elements);
    }
}
