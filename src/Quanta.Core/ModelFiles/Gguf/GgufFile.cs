using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Quanta.Core.Formats;

namespace Quanta.Core.ModelFiles.Gguf;

/// <summary>
/// A parsed GGUF file (versions 2 and 3, little-endian; spec: ggml docs/gguf.md). Opening validates the
/// whole header: magic, version, counts against the bytes remaining, UTF-8 of every string, unique
/// keys and tensor names, metadata types, nesting depth, general.alignment (a power of two, default 32),
/// tensor ranks (1..4), dimensions (positive, product without overflow), tensor types, row lengths
/// (multiples of the block size), data offsets (aligned, inside the file, not overlapping). Any defect
/// throws <see cref="ModelFileException"/>; no allocation exceeds what the file's remaining bytes can hold.
/// <para>
/// Lifetime: the file owns one memory-mapped view (or one pinned array). Metadata and tensor infos are
/// copied out and stay usable after <see cref="Dispose"/>; the spans and pointers returned by
/// <see cref="GetTensorData(GgufTensorInfo)"/> and <see cref="GetTensorPointer(GgufTensorInfo)"/> point into
/// the mapping and are valid only while this object is alive and not disposed. Instances are safe for
/// concurrent reads. The file must not be truncated or rewritten while it is open: the operating system
/// maps it, and shrinking a mapped file makes reads of the lost pages fault.
/// </para>
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    /// <summary>Alignment of tensor data when general.alignment is absent.</summary>
    public const uint DefaultAlignment = 32;

    /// <summary>Deepest accepted nesting of arrays (an array of arrays has depth 2).</summary>
    public const int MaxArrayDepth = 8;

    /// <summary>Longest tensor name in bytes (ggml's GGML_MAX_NAME is 64 including the terminator).</summary>
    public const int MaxTensorNameBytes = 63;

    /// <summary>Most dimensions a tensor may have (GGML_MAX_DIMS).</summary>
    public const int MaxDims = 4;

    private const uint Magic = 0x46554747; // "GGUF" read little-endian

    private readonly ByteRegion _region;
    private readonly Dictionary<string, GgufValue> _metadata;
    private readonly List<KeyValuePair<string, GgufValue>> _metadataOrder;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;
    private readonly GgufTensorInfo[] _tensors;

    private GgufFile(ByteRegion region, string filePath)
    {
        _region = region;
        FilePath = filePath;
        FileSize = region.Length;
        var c = new ByteCursor(region.Pointer, region.Length, filePath);

        uint magic = c.ReadUInt32("magic");
        if (magic != Magic)
            throw c.Error($"wrong magic 0x{magic:X8} (expected \"GGUF\", 0x{Magic:X8}): not a GGUF file");
        Version = c.ReadUInt32("version");
        if (Version == 1)
            throw c.Error("GGUF version 1 is not supported (only versions 2 and 3)");
        if (Version != 2 && Version != 3)
        {
            uint swapped = BinaryPrimitives.ReverseEndianness(Version);
            if (swapped is 2 or 3)
                throw c.Error($"big-endian GGUF (version field reads 0x{Version:X8}, i.e. version {swapped} byte-swapped) is not supported");
            throw c.Error($"unsupported GGUF version {Version} (only versions 2 and 3)");
        }

        ulong tensorCount = c.ReadUInt64("tensor count");
        ulong kvCount = c.ReadUInt64("metadata count");
        // Each key/value needs at least 8 (key length) + 4 (type) + 1 (smallest value) bytes,
        // each tensor info at least 8 (name length) + 4 (rank) + 8 (one dim) + 4 (type) + 8 (offset).
        const int minKv = 13, minTensor = 32;
        if (kvCount > (ulong)(c.Remaining / minKv))
            throw c.Error($"metadata count {kvCount} is impossible: only {c.Remaining} bytes remain after the header");
        if (tensorCount > (ulong)(c.Remaining / minTensor))
            throw c.Error($"tensor count {tensorCount} is impossible: only {c.Remaining} bytes remain after the header");

        // Collections grow as entries are actually parsed; the declared counts only cap the loops, so
        // a hostile count cannot reserve memory up front.
        int nKv = (int)kvCount;
        _metadata = new Dictionary<string, GgufValue>(Math.Min(nKv, 1024), StringComparer.Ordinal);
        _metadataOrder = new List<KeyValuePair<string, GgufValue>>(Math.Min(nKv, 1024));
        for (int i = 0; i < nKv; i++)
        {
            long keyAt = c.Position;
            string key = c.ReadLengthPrefixedUtf8("metadata key #", null, i);
            if (_metadata.ContainsKey(key))
                throw c.Error($"duplicate metadata key '{key}' (second occurrence at offset {keyAt})");
            uint typeId = c.ReadUInt32("type", key);
            GgufValue value = ReadValue(ref c, (GgufValueType)typeId, key, 0);
            _metadata.Add(key, value);
            _metadataOrder.Add(new(key, value));
        }

        Alignment = DefaultAlignment;
        if (_metadata.TryGetValue("general.alignment", out GgufValue? align))
        {
            if (align.Type != GgufValueType.UInt32)
                throw c.Error($"general.alignment has type {align.Type}, expected UInt32");
            uint a = align.As<uint>();
            if (a == 0 || (a & (a - 1)) != 0)
                throw c.Error($"general.alignment {a} is not a power of two");
            Alignment = a;
        }

        int nTensors = (int)tensorCount;
        var raw = new List<(string Name, long[] Shape, GgmlType Type, ulong Offset, long Elements, long Bytes)>(Math.Min(nTensors, 1024));
        for (int i = 0; i < nTensors; i++)
            raw.Add(ReadTensorInfo(ref c, i));
        _tensors = new GgufTensorInfo[nTensors];
        _tensorsByName = new Dictionary<string, GgufTensorInfo>(nTensors, StringComparer.Ordinal);

        // The data section starts at the first aligned offset after the header.
        long headerEnd = c.Position;
        long dataStart = checked(headerEnd + (Alignment - headerEnd % Alignment) % Alignment);
        DataOffset = dataStart;
        long dataBytes = Math.Max(0, FileSize - dataStart);
        for (int i = 0; i < nTensors; i++)
        {
            var t = raw[i];
            if (_tensorsByName.ContainsKey(t.Name))
                throw c.Error($"duplicate tensor name '{t.Name}' (tensor #{i})");
            if (t.Offset % Alignment != 0)
                throw c.Error($"tensor '{t.Name}' data offset {t.Offset} is not a multiple of the alignment {Alignment}");
            if (t.Offset > (ulong)dataBytes || (ulong)t.Bytes > (ulong)dataBytes - t.Offset)
                throw c.Error($"tensor '{t.Name}' data [offset {t.Offset}, {t.Bytes} bytes] runs past the end of the file (size {FileSize}, data section starts at {dataStart})");
            var info = new GgufTensorInfo(t.Name, t.Shape, t.Type, (long)t.Offset, dataStart, t.Elements, t.Bytes);
            _tensors[i] = info;
            _tensorsByName.Add(t.Name, info);
        }

        // Tensor data must not overlap (an overlap is either corruption or an attempt to alias weights).
        if (nTensors > 1)
        {
            var order = (GgufTensorInfo[])_tensors.Clone();
            Array.Sort(order, static (a, b) => a.Offset.CompareTo(b.Offset));
            for (int i = 1; i < order.Length; i++)
            {
                GgufTensorInfo prev = order[i - 1], cur = order[i];
                if (cur.Offset < prev.Offset + prev.ByteCount)
                    throw c.Error($"tensor '{cur.Name}' data [offset {cur.Offset}, {cur.ByteCount} bytes] overlaps tensor '{prev.Name}' [offset {prev.Offset}, {prev.ByteCount} bytes]");
            }
        }
    }

    /// <summary>Maps and parses the GGUF file at <paramref name="path"/>.</summary>
    /// <exception cref="ModelFileException">The file is malformed.</exception>
    public static GgufFile Open(string path) => Open(path, FileResidency.Mapped);

    /// <summary>Parses the GGUF file at <paramref name="path"/>, mapped or read into huge pages
    /// (<see cref="FileResidency"/>).</summary>
    /// <exception cref="ModelFileException">The file is malformed.</exception>
    public static GgufFile Open(string path, FileResidency residency)
    {
        ByteRegion region = residency == FileResidency.HugePages ? ByteRegion.ReadFileHugePages(path) : ByteRegion.MapFile(path);
        try
        {
            return new GgufFile(region, path) { Residency = residency };
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>Where the file's bytes live: <see cref="FileResidency.Mapped"/> for a mapping (and for bytes parsed from
    /// memory), <see cref="FileResidency.HugePages"/> for a private copy in huge pages.</summary>
    public FileResidency Residency { get; private init; } = FileResidency.Mapped;

    /// <summary>
    /// Parses GGUF bytes held in memory. <paramref name="data"/> is pinned, not copied, until disposal;
    /// do not modify it meanwhile. <paramref name="name"/> labels the data in error messages.
    /// </summary>
    /// <exception cref="ModelFileException">The data is malformed.</exception>
    public static GgufFile Parse(byte[] data, string name = "<memory>")
    {
        ByteRegion region = ByteRegion.Pin(data);
        try
        {
            return new GgufFile(region, name);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>The path (or label) the file was opened with.</summary>
    public string FilePath { get; }

    /// <summary>GGUF version: 2 or 3.</summary>
    public uint Version { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileSize { get; }

    /// <summary>Alignment of tensor data (general.alignment, default 32).</summary>
    public uint Alignment { get; }

    /// <summary>Absolute offset of the data section (the header end rounded up to <see cref="Alignment"/>).</summary>
    public long DataOffset { get; }

    /// <summary>All metadata by key.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata => _metadata;

    /// <summary>All metadata in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> MetadataInOrder => _metadataOrder;

    /// <summary>All tensors in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;

    // ---- metadata accessors -------------------------------------------------------------------

    /// <summary>True when <paramref name="key"/> is present.</summary>
    public bool ContainsKey(string key) => _metadata.ContainsKey(key);

    /// <summary>The value of <paramref name="key"/>; a missing key is a <see cref="ModelFileException"/>.</summary>
    public GgufValue GetValue(string key) =>
        _metadata.TryGetValue(key, out GgufValue? v) ? v : throw new ModelFileException(FilePath, $"metadata key '{key}' is missing");

    /// <summary>
    /// The value of <paramref name="key"/> as <typeparamref name="T"/> (byte, sbyte, ushort, short, uint, int,
    /// float, bool, string, ulong, long, double, <see cref="GgufArray"/>). Missing key or a different stored
    /// type throws <see cref="ModelFileException"/>.
    /// </summary>
    public T Get<T>(string key)
    {
        GgufValue v = GetValue(key);
        return v.TryAs(out T value) ? value : throw WrongType(key, v.Type, GgufValueTypeInfo.Of<T>());
    }

    /// <summary>
    /// False when <paramref name="key"/> is absent. When present with a type other than
    /// <typeparamref name="T"/> it throws <see cref="ModelFileException"/> rather than hiding the defect.
    /// </summary>
    public bool TryGet<T>(string key, out T value)
    {
        if (!_metadata.TryGetValue(key, out GgufValue? v))
        {
            value = default!;
            return false;
        }
        if (!v.TryAs(out value)) throw WrongType(key, v.Type, GgufValueTypeInfo.Of<T>());
        return true;
    }

    /// <summary>The array at <paramref name="key"/>, whose elements must be of type <typeparamref name="T"/>.</summary>
    public ReadOnlySpan<T> GetArray<T>(string key)
    {
        GgufArray a = Get<GgufArray>(key);
        if (a.ElementType != GgufValueTypeInfo.Of<T>())
            throw new ModelFileException(FilePath, $"metadata key '{key}' is an array of {a.ElementType}, expected an array of {GgufValueTypeInfo.Of<T>()}");
        return a.AsSpan<T>();
    }

    /// <summary>Like <see cref="GetArray{T}"/>, but false when the key is absent.</summary>
    public bool TryGetArray<T>(string key, out ReadOnlySpan<T> items)
    {
        items = default;
        if (!_metadata.ContainsKey(key)) return false;
        items = GetArray<T>(key);
        return true;
    }

    /// <summary>String value of <paramref name="key"/>.</summary>
    public string GetString(string key) => Get<string>(key);
    /// <summary>UInt32 value of <paramref name="key"/>.</summary>
    public uint GetUInt32(string key) => Get<uint>(key);
    /// <summary>Int32 value of <paramref name="key"/>.</summary>
    public int GetInt32(string key) => Get<int>(key);
    /// <summary>UInt64 value of <paramref name="key"/>.</summary>
    public ulong GetUInt64(string key) => Get<ulong>(key);
    /// <summary>Float32 value of <paramref name="key"/>.</summary>
    public float GetFloat32(string key) => Get<float>(key);
    /// <summary>Bool value of <paramref name="key"/>.</summary>
    public bool GetBool(string key) => Get<bool>(key);
    /// <summary>String value of <paramref name="key"/> when present.</summary>
    public bool TryGetString(string key, out string value) => TryGet(key, out value);
    /// <summary>UInt32 value of <paramref name="key"/> when present.</summary>
    public bool TryGetUInt32(string key, out uint value) => TryGet(key, out value);
    /// <summary>Float32 value of <paramref name="key"/> when present.</summary>
    public bool TryGetFloat32(string key, out float value) => TryGet(key, out value);

    /// <summary>
    /// Any unsigned or signed integer value of <paramref name="key"/> widened to long (writers disagree on
    /// u32 vs u64 for counts). A negative value or one above long.MaxValue is a defect.
    /// </summary>
    public long GetInteger(string key)
    {
        GgufValue v = GetValue(key);
        long result = v.Type switch
        {
            GgufValueType.UInt8 => v.As<byte>(),
            GgufValueType.Int8 => v.As<sbyte>(),
            GgufValueType.UInt16 => v.As<ushort>(),
            GgufValueType.Int16 => v.As<short>(),
            GgufValueType.UInt32 => v.As<uint>(),
            GgufValueType.Int32 => v.As<int>(),
            GgufValueType.UInt64 => v.As<ulong>() <= long.MaxValue ? (long)v.As<ulong>()
                : throw new ModelFileException(FilePath, $"metadata key '{key}' value {v.As<ulong>()} does not fit a signed 64-bit integer"),
            GgufValueType.Int64 => v.As<long>(),
            _ => throw new ModelFileException(FilePath, $"metadata key '{key}' has type {v.Type}, expected an integer"),
        };
        return result;
    }

    private ModelFileException WrongType(string key, GgufValueType actual, GgufValueType wanted) =>
        new(FilePath, $"metadata key '{key}' has type {actual}, expected {wanted}");

    // ---- tensors ------------------------------------------------------------------------------

    /// <summary>True and the info when a tensor named <paramref name="name"/> exists.</summary>
    public bool TryGetTensor(string name, out GgufTensorInfo info) => _tensorsByName.TryGetValue(name, out info!);

    /// <summary>The tensor named <paramref name="name"/>; a missing tensor is a <see cref="ModelFileException"/>.</summary>
    public GgufTensorInfo GetTensor(string name) =>
        _tensorsByName.TryGetValue(name, out GgufTensorInfo? t) ? t : throw new ModelFileException(FilePath, $"tensor '{name}' is missing");

    /// <summary>
    /// Zero-copy view of the tensor's bytes in the mapping. Valid only until this file is disposed.
    /// Tensors of 2 GiB or more do not fit a span: use <see cref="GetTensorPointer(GgufTensorInfo)"/>.
    /// </summary>
    public ReadOnlySpan<byte> GetTensorData(GgufTensorInfo tensor)
    {
        byte* p = GetTensorPointer(tensor);
        if (tensor.ByteCount > int.MaxValue)
            throw new InvalidOperationException($"tensor '{tensor.Name}' has {tensor.ByteCount} bytes, too many for a span; use GetTensorPointer");
        return new ReadOnlySpan<byte>(p, (int)tensor.ByteCount);
    }

    /// <summary>Zero-copy view of the named tensor's bytes (see <see cref="GetTensorData(GgufTensorInfo)"/>).</summary>
    public ReadOnlySpan<byte> GetTensorData(string name) => GetTensorData(GetTensor(name));

    /// <summary>
    /// Pointer to the tensor's first byte for kernels; <see cref="GgufTensorInfo.ByteCount"/> bytes are readable
    /// (read-only memory: writing faults). Valid only until this file is disposed; the caller keeps the file alive.
    /// </summary>
    public byte* GetTensorPointer(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        _region.ThrowIfDisposed();
        if (!_tensorsByName.TryGetValue(tensor.Name, out GgufTensorInfo? own) || !ReferenceEquals(own, tensor))
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

    // ---- parsing helpers ----------------------------------------------------------------------


    private static GgufValue ReadValue(ref ByteCursor c, GgufValueType type, string key, int depth)
    {
        switch (type)
        {
            case GgufValueType.String:
                return GgufValue.FromString(c.ReadLengthPrefixedUtf8("string value", key));
            case GgufValueType.Array:
                return GgufValue.FromArray(ReadArray(ref c, key, depth + 1));
            case GgufValueType.Bool:
            {
                long at = c.Position;
                byte b = c.ReadUInt8("value", key);
                if (b > 1) throw c.Error($"bool value of '{key}' at offset {at} is {b}, not 0 or 1");
                return GgufValue.FromBits(type, b);
            }
            default:
            {
                int size = GgufValueTypeInfo.IsDefined(type) ? GgufValueTypeInfo.FixedSize(type) : 0;
                if (size == 0)
                    throw c.Error($"metadata '{key}' has unknown value type {(uint)type} at offset {c.Position - 4}");
                ReadOnlySpan<byte> raw = c.ReadBytes(size, "value", key);
                ulong bits = size switch
                {
                    1 => raw[0],
                    2 => BinaryPrimitives.ReadUInt16LittleEndian(raw),
                    4 => BinaryPrimitives.ReadUInt32LittleEndian(raw),
                    _ => BinaryPrimitives.ReadUInt64LittleEndian(raw),
                };
                if (!BitConverter.IsLittleEndian) bits = FixBitsForBigEndianHost(bits, size);
                return GgufValue.FromBits(type, bits);
            }
        }
    }

    // FromBits stores the value in the first bytes of a ulong in host order; on a big-endian host a
    // narrow value has to move to the low-address bytes.
    private static ulong FixBitsForBigEndianHost(ulong bits, int size) => bits << (64 - 8 * size);

    private static GgufArray ReadArray(ref ByteCursor c, string key, int depth)
    {
        long at = c.Position;
        if (depth > MaxArrayDepth)
            throw c.Error($"metadata '{key}' nests arrays deeper than {MaxArrayDepth} levels (at offset {at})");
        uint elemId = c.ReadUInt32("array element type", key);
        var elem = (GgufValueType)elemId;
        if (!GgufValueTypeInfo.IsDefined(elem))
            throw c.Error($"metadata '{key}' array has unknown element type {elemId} at offset {at}");
        ulong count = c.ReadUInt64("array length", key);
        int minSize = GgufValueTypeInfo.MinEncodedSize(elem);
        if (count > (ulong)(c.Remaining / minSize))
            throw c.Error($"metadata '{key}' array of {count} {elem} elements at offset {at} cannot fit in the {c.Remaining} bytes remaining");
        int n = (int)count;
        switch (elem)
        {
            case GgufValueType.UInt8: return GgufArray.Wrap(ReadPrimitives<byte>(ref c, n, key));
            case GgufValueType.Int8: return GgufArray.Wrap(ReadPrimitives<sbyte>(ref c, n, key));
            case GgufValueType.UInt16: return GgufArray.Wrap(ReadPrimitives<ushort>(ref c, n, key));
            case GgufValueType.Int16: return GgufArray.Wrap(ReadPrimitives<short>(ref c, n, key));
            case GgufValueType.UInt32: return GgufArray.Wrap(ReadPrimitives<uint>(ref c, n, key));
            case GgufValueType.Int32: return GgufArray.Wrap(ReadPrimitives<int>(ref c, n, key));
            case GgufValueType.Float32: return GgufArray.Wrap(ReadPrimitives<float>(ref c, n, key));
            case GgufValueType.UInt64: return GgufArray.Wrap(ReadPrimitives<ulong>(ref c, n, key));
            case GgufValueType.Int64: return GgufArray.Wrap(ReadPrimitives<long>(ref c, n, key));
            case GgufValueType.Float64: return GgufArray.Wrap(ReadPrimitives<double>(ref c, n, key));
            case GgufValueType.Bool:
            {
                long start = c.Position;
                ReadOnlySpan<byte> raw = c.ReadBytes(n, "array", key);
                var items = new bool[n];
                for (int i = 0; i < n; i++)
                {
                    if (raw[i] > 1) throw c.Error($"bool element {i} of '{key}' at offset {start + i} is {raw[i]}, not 0 or 1");
                    items[i] = raw[i] != 0;
                }
                return GgufArray.Wrap(items);
            }
            case GgufValueType.String:
            {
                var items = new string[n];
                for (int i = 0; i < n; i++) items[i] = c.ReadLengthPrefixedUtf8("element", key, i);
                return GgufArray.Wrap(items);
            }
            default:
            {
                var items = new GgufArray[n];
                for (int i = 0; i < n; i++) items[i] = ReadArray(ref c, key, depth + 1);
                return GgufArray.Wrap(items);
            }
        }
    }

    private static T[] ReadPrimitives<T>(ref ByteCursor c, int n, string key) where T : unmanaged
    {
        ReadOnlySpan<byte> raw = c.ReadBytes((long)n * sizeof(T), "array", key);
        var items = new T[n];
        raw.CopyTo(MemoryMarshal.AsBytes(items.AsSpan()));
        if (!BitConverter.IsLittleEndian && sizeof(T) > 1)
        {
            Span<byte> bytes = MemoryMarshal.AsBytes(items.AsSpan());
            for (int i = 0; i < bytes.Length; i += sizeof(T)) bytes.Slice(i, sizeof(T)).Reverse();
        }
        return items;
    }

    private static (string, long[], GgmlType, ulong, long, long) ReadTensorInfo(ref ByteCursor c, int index)
    {
        long at = c.Position;
        string name = c.ReadLengthPrefixedUtf8("name of tensor #", null, index);
        if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxTensorNameBytes)
            throw c.Error($"tensor name '{name}' at offset {at} is longer than {MaxTensorNameBytes} bytes");
        uint rank = c.ReadUInt32("rank of tensor", name);
        if (rank == 0 || rank > MaxDims)
            throw c.Error($"tensor '{name}' has {rank} dimensions (must be 1 to {MaxDims})");
        var shape = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            ulong ne = c.ReadUInt64("dimension", name, d);
            if (ne == 0) throw c.Error($"tensor '{name}' dimension {d} is zero");
            if (ne > long.MaxValue) throw c.Error($"tensor '{name}' dimension {d} is {ne} (negative as a signed 64-bit value)");
            shape[d] = (long)ne;
        }
        uint typeId = c.ReadUInt32("type of tensor", name);
        var type = (GgmlType)typeId;
        if (!GgmlTypeInfo.TryGet(type, out int blockSize, out _))
            throw c.Error($"tensor '{name}' has unknown ggml type id {typeId}");
        ulong offset = c.ReadUInt64("data offset of tensor", name);
        if (shape[0] % blockSize != 0)
            throw c.Error($"tensor '{name}' row length {shape[0]} is not a multiple of the {type} block size {blockSize}");
        long elements, bytes;
        try
        {
            elements = 1;
            foreach (long ne in shape) elements = checked(elements * ne);
            bytes = GgmlTypeInfo.RowBytes(type, shape[0]);
            for (int d = 1; d < shape.Length; d++) bytes = checked(bytes * shape[d]);
        }
        catch (OverflowException)
        {
            throw c.Error($"tensor '{name}' shape [{string.Join(", ", shape)}] overflows 64-bit element or byte counts");
        }
        return (name, shape, type, offset, elements, bytes);
    }
}
