using System.Buffers.Binary;

namespace Quanta.Core.ModelFiles.Llama2c;

/// <summary>
/// A llama2.c checkpoint (legacy header-less format or "version 1"), memory-mapped, with its weights as
/// zero-copy float spans by llama2.c's names. Shapes (outermost first, row-major, [out][in] for matrices):
/// <list type="bullet">
/// <item>token_embedding_table [vocab][dim]</item>
/// <item>rms_att_weight [n_layers][dim], rms_ffn_weight [n_layers][dim], rms_final_weight [dim]</item>
/// <item>wq [n_layers][dim][dim], wk and wv [n_layers][kv_dim][dim], wo [n_layers][dim][dim]</item>
/// <item>w1 and w3 [n_layers][hidden_dim][dim], w2 [n_layers][dim][hidden_dim]</item>
/// <item>freq_cis_real and freq_cis_imag [seq_len][head_size/2] (legacy files only; unused by inference)</item>
/// <item>wcls [vocab][dim] (the embedding table itself when the classifier is shared)</item>
/// </list>
/// The file size must equal the size the header implies; every size is computed with overflow checks.
/// Defects throw <see cref="ModelFileException"/>. Spans are valid only until <see cref="Dispose"/>.
/// </summary>
public sealed unsafe class Llama2cCheckpoint : IDisposable
{
    /// <summary>Magic of the versioned exports ("ak42" little-endian).</summary>
    public const uint VersionMagic = 0x616b3432;

    private const int LegacyHeaderBytes = 28;
    private const int Version1HeaderBytes = 256;

    private readonly ByteRegion _region;
    private readonly Dictionary<string, Llama2cTensor> _byName;
    private readonly List<Llama2cTensor> _tensors = [];

    private Llama2cCheckpoint(ByteRegion region, string filePath)
    {
        _region = region;
        FilePath = filePath;
        var c = new ByteCursor(region.Pointer, region.Length, filePath);
        long headerBytes;
        int[] h = new int[7];
        bool shared;
        if (region.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(region.Pointer, 4)) == VersionMagic)
        {
            c.Position = 4;
            int version = c.ReadInt32("version");
            if (version == 2) throw c.Error("llama2.c version 2 (int8 group-quantized, runq.c) checkpoints are not supported");
            if (version != 1) throw c.Error($"unsupported llama2.c checkpoint version {version} (only legacy and version 1)");
            for (int i = 0; i < 7; i++) h[i] = c.ReadInt32(HeaderField(i));
            long flagAt = c.Position;
            byte flag = c.ReadUInt8("shared-classifier flag");
            if (flag > 1) throw c.Error($"shared-classifier flag at offset {flagAt} is {flag}, not 0 or 1");
            shared = flag == 1;
            c.Require(Version1HeaderBytes - c.Position, "header padding");
            if (h[5] <= 0) throw c.Error($"vocab_size {h[5]} must be positive in a version 1 header");
            Format = Llama2cFormat.Version1;
            headerBytes = Version1HeaderBytes;
        }
        else
        {
            for (int i = 0; i < 7; i++) h[i] = c.ReadInt32(HeaderField(i));
            if (h[5] == int.MinValue) throw c.Error($"vocab_size {h[5]} is out of range");
            shared = h[5] > 0;
            h[5] = Math.Abs(h[5]);
            Format = Llama2cFormat.Legacy;
            headerBytes = LegacyHeaderBytes;
        }
        for (int i = 0; i < 7; i++)
            if (h[i] <= 0) throw c.Error($"{HeaderField(i)} is {h[i]}; it must be positive");
        if (h[0] % h[3] != 0) throw c.Error($"dim {h[0]} is not a multiple of n_heads {h[3]}");
        if (h[3] % h[4] != 0) throw c.Error($"n_heads {h[3]} is not a multiple of n_kv_heads {h[4]}");
        Config = new Llama2cConfig(h[0], h[1], h[2], h[3], h[4], h[5], h[6], shared);

        long offset = headerBytes;
        try
        {
            long dim = Config.Dim, hidden = Config.HiddenDim, layers = Config.NLayers, kv = Config.KvDim, vocab = Config.VocabSize;
            long ropeHalf = Config.HeadSize / 2, seq = Config.SeqLen;
            void Add(string name, params long[] shape)
            {
                long n = 1;
                foreach (long d in shape) n = checked(n * d);
                var t = new Llama2cTensor(name, shape, offset, n);
                _tensors.Add(t);
                offset = checked(offset + checked(n * sizeof(float)));
            }
            if (Format == Llama2cFormat.Legacy)
            {
                Add("token_embedding_table", vocab, dim);
                Add("rms_att_weight", layers, dim);
                AddAttention();
                Add("rms_ffn_weight", layers, dim);
                AddFfn();
                Add("rms_final_weight", dim);
                Add("freq_cis_real", seq, ropeHalf);
                Add("freq_cis_imag", seq, ropeHalf);
            }
            else
            {
                Add("rms_att_weight", layers, dim);
                Add("rms_ffn_weight", layers, dim);
                Add("rms_final_weight", dim);
                Add("token_embedding_table", vocab, dim);
                AddAttention();
                AddFfn();
            }
            if (!shared) Add("wcls", vocab, dim);

            void AddAttention()
            {
                Add("wq", layers, dim, dim);
                Add("wk", layers, kv, dim);
                Add("wv", layers, kv, dim);
                Add("wo", layers, dim, dim);
            }
            void AddFfn()
            {
                Add("w1", layers, hidden, dim);
                Add("w2", layers, dim, hidden);
                Add("w3", layers, hidden, dim);
            }
        }
        catch (OverflowException)
        {
            throw c.Error($"config {Describe(Config)} implies a size that overflows 64 bits");
        }
        if (offset != region.Length)
            throw c.Error($"file size {region.Length} does not match the {offset} bytes that config {Describe(Config)} ({Format}) requires");
        _byName = new Dictionary<string, Llama2cTensor>(StringComparer.Ordinal);
        foreach (Llama2cTensor t in _tensors)
        {
            if (t.ElementCount > int.MaxValue) throw c.Error($"tensor '{t.Name}' has {t.ElementCount} elements, more than a span can hold");
            _byName.Add(t.Name, t);
        }
        if (shared) _byName.Add("wcls", _byName["token_embedding_table"]);
    }

    private static string HeaderField(int i) => i switch
    {
        0 => "dim", 1 => "hidden_dim", 2 => "n_layers", 3 => "n_heads", 4 => "n_kv_heads", 5 => "vocab_size", _ => "seq_len",
    };

    private static string Describe(Llama2cConfig c) =>
        $"(dim {c.Dim}, hidden_dim {c.HiddenDim}, n_layers {c.NLayers}, n_heads {c.NHeads}, n_kv_heads {c.NKvHeads}, vocab {c.VocabSize}, seq_len {c.SeqLen}, shared {c.SharedClassifier})";

    /// <summary>Maps and parses the checkpoint at <paramref name="path"/>.</summary>
    /// <exception cref="ModelFileException">The file is malformed.</exception>
    public static Llama2cCheckpoint Open(string path)
    {
        ByteRegion region = ByteRegion.MapFile(path);
        try
        {
            return new Llama2cCheckpoint(region, path);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>Parses checkpoint bytes in memory; <paramref name="data"/> is pinned (not copied) until disposal.</summary>
    /// <exception cref="ModelFileException">The data is malformed.</exception>
    public static Llama2cCheckpoint Parse(byte[] data, string name = "<memory>")
    {
        ByteRegion region = ByteRegion.Pin(data);
        try
        {
            return new Llama2cCheckpoint(region, name);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>The path (or label) the file was opened with.</summary>
    public string FilePath { get; }

    /// <summary>Layout of the file.</summary>
    public Llama2cFormat Format { get; }

    /// <summary>Hyperparameters from the header.</summary>
    public Llama2cConfig Config { get; }

    /// <summary>Tensors stored in the file, in file order (a shared wcls is not listed separately).</summary>
    public IReadOnlyList<Llama2cTensor> Tensors => _tensors;

    /// <summary>True when <paramref name="name"/> is a weight of this checkpoint (wcls always is).</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Describes the named weight; unknown names throw <see cref="ModelFileException"/>.</summary>
    public Llama2cTensor GetTensor(string name) =>
        _byName.TryGetValue(name, out Llama2cTensor? t) ? t : throw new ModelFileException(FilePath, $"tensor '{name}' is not part of a {Format} checkpoint");

    /// <summary>Zero-copy float32 view of the named weight (shapes in the class summary); valid until disposal.</summary>
    public ReadOnlySpan<float> GetWeights(string name)
    {
        Llama2cTensor t = GetTensor(name);
        _region.ThrowIfDisposed();
        return new ReadOnlySpan<float>(_region.Pointer + t.FileOffset, (int)t.ElementCount);
    }

    /// <summary>The slice of a per-layer weight ([n_layers][...]) that belongs to <paramref name="layer"/>.</summary>
    public ReadOnlySpan<float> GetLayerWeights(string name, int layer)
    {
        Llama2cTensor t = GetTensor(name);
        if (name is not ("rms_att_weight" or "rms_ffn_weight" or "wq" or "wk" or "wv" or "wo" or "w1" or "w2" or "w3"))
            throw new ArgumentException($"'{name}' is not a per-layer weight", nameof(name));
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Config.NLayers);
        int per = (int)(t.ElementCount / Config.NLayers);
        return GetWeights(name).Slice(layer * per, per);
    }

    /// <summary>
    /// The whole mapped file (or pinned array) as a bounds-checked <see cref="Memory.NativeRegion"/>, owned by this
    /// object: loaders keep long-lived tensor views as region + file offset instead of addresses. Do not dispose it
    /// (disposing this object does); it throws <see cref="ObjectDisposedException"/> once this object is disposed.
    /// </summary>
    public Memory.NativeRegion Region => _region;

    /// <summary>Releases the mapping; spans obtained earlier become invalid.</summary>
    public void Dispose() => _region.Dispose();
}

/// <summary>One float32 weight of a llama2.c checkpoint: name, shape (outermost first) and file offset.</summary>
public sealed class Llama2cTensor
{
    private readonly long[] _shape;

    internal Llama2cTensor(string name, long[] shape, long fileOffset, long elementCount)
    {
        Name = name;
        _shape = shape;
        FileOffset = fileOffset;
        ElementCount = elementCount;
    }

    /// <summary>llama2.c name (run.c's TransformerWeights field).</summary>
    public string Name { get; }

    /// <summary>Dimensions, outermost first.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>Absolute byte offset in the file.</summary>
    public long FileOffset { get; }

    /// <summary>Number of float32 values.</summary>
    public long ElementCount { get; }
}
