using System.Globalization;
using System.Text.Json;

namespace Quanta.Server.Tests.Oip;

/// <summary>Open Inference Protocol v2 over loopback: health, metadata, infer for the embedding model and a raw ONNX graph, errors.</summary>
public sealed class OipEndpointTests(OipHarness h) : IClassFixture<OipHarness>
{
    private static readonly string[] Texts = ["hello world", "The open inference protocol carries typed tensors as JSON.", "ok"];

    [Fact]
    public async Task Health_server_and_model_readiness()
    {
        var (s, b) = await h.GetAsync("/v2/health/live");
        Assert.Equal(200, s);
        Assert.True(b.GetProperty("live").GetBoolean());
        (s, b) = await h.GetAsync("/v2/health/ready");
        Assert.Equal(200, s);
        Assert.True(b.GetProperty("ready").GetBoolean());
        (s, b) = await h.GetAsync("/v2/models/minilm/ready");
        Assert.Equal(200, s);
        Assert.True(b.GetProperty("ready").GetBoolean());
        (s, b) = await h.GetAsync("/v2");
        Assert.Equal(200, s);
        Assert.Equal("quanta", b.GetProperty("name").GetString());
        (s, b) = await h.GetAsync("/v2/models/nope/ready");
        Assert.Equal(404, s);
        Assert.Contains("nope", b.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Metadata_lists_datatypes_and_shapes_with_dynamic_dimensions()
    {
        var (s, b) = await h.GetAsync("/v2/models/minilm");
        Assert.Equal(200, s);
        Assert.Equal("minilm", b.GetProperty("name").GetString());
        Assert.Equal("1", b.GetProperty("versions")[0].GetString());
        var text = b.GetProperty("inputs").EnumerateArray().Single(i => i.GetProperty("name").GetString() == "text");
        Assert.Equal("BYTES", text.GetProperty("datatype").GetString());
        Assert.Equal("[-1]", text.GetProperty("shape").GetRawText());
        var emb = b.GetProperty("outputs").EnumerateArray().Single(i => i.GetProperty("name").GetString() == "embedding");
        Assert.Equal("FP32", emb.GetProperty("datatype").GetString());
        Assert.Equal("[-1,384]", emb.GetProperty("shape").GetRawText());
        (s, b) = await h.GetAsync("/v2/models/add");
        Assert.Equal(200, s);
        Assert.Equal("onnx_quanta", b.GetProperty("platform").GetString());
        Assert.Equal(["x", "y"], b.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.All(b.GetProperty("inputs").EnumerateArray(), i => Assert.Equal("[3,4,5]", i.GetProperty("shape").GetRawText()));
        (s, b) = await h.GetAsync("/v2/models/nope");
        Assert.Equal(404, s);
        Assert.Equal(JsonValueKind.String, b.GetProperty("error").ValueKind);
    }

    [Fact]
    public async Task Infer_text_bytes_gives_the_embeddings_of_EmbeddingModel()
    {
        string body = JsonSerializer.Serialize(new { id = "req-7", inputs = new[] { new { name = "text", shape = new[] { Texts.Length }, datatype = "BYTES", data = Texts } }, outputs = new[] { new { name = "embedding" } } });
        var (s, b) = await h.PostAsync("/v2/models/minilm/infer", body);
        Assert.Equal(200, s);
        Assert.Equal("minilm", b.GetProperty("model_name").GetString());
        Assert.Equal("req-7", b.GetProperty("id").GetString());
        var o = Assert.Single(b.GetProperty("outputs").EnumerateArray());
        Assert.Equal("embedding", o.GetProperty("name").GetString());
        Assert.Equal("FP32", o.GetProperty("datatype").GetString());
        Assert.Equal($"[{Texts.Length},384]", o.GetProperty("shape").GetRawText());
        var got = o.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var expected = h.Embedding.Embed(Texts);
        Assert.Equal(expected.SelectMany(e => e).ToArray(), got);
    }

    [Fact]
    public async Task Infer_raw_onnx_add_with_nested_data()
    {
        var rnd = new Random();
        var x = Enumerable.Range(0, 60).Select(_ => (float)Math.Round(rnd.NextDouble() * 10 - 5, 3)).ToArray();
        var y = Enumerable.Range(0, 60).Select(_ => (float)Math.Round(rnd.NextDouble() * 10 - 5, 3)).ToArray();
        // x as a flat array, y nested [3][4][5] (both allowed by the protocol)
        var yNested = Enumerable.Range(0, 3).Select(i => Enumerable.Range(0, 4).Select(j => y.Skip(i * 20 + j * 5).Take(5).ToArray()).ToArray()).ToArray();
        string body = JsonSerializer.Serialize(new
        {
            inputs = new object[]
            {
                new { name = "x", shape = new[] { 3, 4, 5 }, datatype = "FP32", data = x },
                new { name = "y", shape = new[] { 3, 4, 5 }, datatype = "FP32", data = yNested },
            },
        });
        var (s, b) = await h.PostAsync("/v2/models/add/infer", body);
        Assert.Equal(200, s);
        Assert.False(b.TryGetProperty("id", out _));
        var o = Assert.Single(b.GetProperty("outputs").EnumerateArray());
        Assert.Equal("[3,4,5]", o.GetProperty("shape").GetRawText());
        var z = o.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        for (int i = 0; i < 60; i++) Assert.Equal(x[i] + y[i], z[i]);
    }

    [Theory]
    [InlineData("""{"inputs":[{"name":"x","shape":[3,4,5],"datatype":"FP16","data":[]}]}""", "datatype")]
    [InlineData("""{"inputs":[{"name":"x","shape":[3,4,5],"datatype":"INT64","data":[1]},{"name":"y","shape":[3,4,5],"datatype":"FP32","data":[1]}]}""", "elements")]
    [InlineData("""{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,3,4]},{"name":"y","shape":[2,2],"datatype":"FP32","data":[1,2,3,4]}]}""", "shape")]
    [InlineData("""{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":["a"]}]}""", "element 0")]
    [InlineData("""{"inputs":[{"name":"x","shape":[-1],"datatype":"FP32","data":[]}]}""", "dimension")]
    [InlineData("""{"inputs":[]}""", "no inputs")]
    [InlineData("""{"inputs":""", "JSON")]
    public async Task Bad_requests_are_400_with_an_error_string(string body, string mentions)
    {
        var (s, b) = await h.PostAsync("/v2/models/add/infer", body);
        Assert.Equal(400, s);
        Assert.Contains(mentions, b.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Wrong_datatype_for_a_model_input_and_unknown_model()
    {
        string wrongType = """{"inputs":[{"name":"x","shape":[3,4,5],"datatype":"INT64","data":[DATA]},{"name":"y","shape":[3,4,5],"datatype":"FP32","data":[DATA]}]}"""
            .Replace("DATA", string.Join(",", Enumerable.Repeat("1", 60)), StringComparison.Ordinal);
        var (s, b) = await h.PostAsync("/v2/models/add/infer", wrongType);
        Assert.Equal(400, s);
        Assert.Contains("INT64", b.GetProperty("error").GetString());
        (s, b) = await h.PostAsync("/v2/models/nope/infer", """{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}""");
        Assert.Equal(404, s);
        Assert.Contains("nope", b.GetProperty("error").GetString());
        _ = CultureInfo.InvariantCulture;
    }
}
