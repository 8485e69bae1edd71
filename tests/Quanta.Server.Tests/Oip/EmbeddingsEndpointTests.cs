using System.Buffers.Binary;
using System.Text.Json;
using OpenAI.Embeddings;

namespace Quanta.Server.Tests.Oip;

/// <summary>POST /v1/embeddings with raw HTTP (float format) and the official OpenAI .NET SDK (base64 format).</summary>
public sealed class EmbeddingsEndpointTests(OipHarness h) : IClassFixture<OipHarness>
{
    private static readonly string[] Texts = ["The cat sat on the mat.", "Quantized tensors are dequantized once at load.", "hi"];

    [Fact]
    public async Task Float_format_over_raw_http_equals_EmbeddingModel()
    {
        string body = JsonSerializer.Serialize(new { model = "minilm", input = Texts, encoding_format = "float", user = "u1" });
        var (s, b) = await h.PostAsync("/v1/embeddings", body);
        Assert.Equal(200, s);
        Assert.Equal("list", b.GetProperty("object").GetString());
        Assert.Equal("minilm", b.GetProperty("model").GetString());
        var expected = h.Embedding.Embed(Texts);
        var data = b.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(Texts.Length, data.Length);
        for (int i = 0; i < data.Length; i++)
        {
            Assert.Equal("embedding", data[i].GetProperty("object").GetString());
            Assert.Equal(i, data[i].GetProperty("index").GetInt32());
            Assert.Equal(expected[i], data[i].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        }
        int tokens = Texts.Sum(t => h.Embedding.Tokenizer.EncodeForModel(t, h.Embedding.MaxTokens).Length);
        Assert.Equal(tokens, b.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(tokens, b.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        // a single string, base64 over raw HTTP: little-endian float32 bytes
        (s, b) = await h.PostAsync("/v1/embeddings", """{"model":"minilm","input":"hi","encoding_format":"base64"}""");
        Assert.Equal(200, s);
        var bytes = Convert.FromBase64String(b.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        var floats = Enumerable.Range(0, bytes.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))).ToArray();
        Assert.Equal(h.Embedding.Embed(["hi"])[0], floats);
    }

    [Fact]
    public async Task OpenAI_sdk_embeddings_equal_EmbeddingModel_and_honour_dimensions()
    {
        EmbeddingClient client = h.OpenAI().GetEmbeddingClient("minilm");
        OpenAIEmbeddingCollection all = await client.GenerateEmbeddingsAsync(Texts);
        var expected = h.Embedding.Embed(Texts);
        Assert.Equal(Texts.Length, all.Count);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(i, all[i].Index);
            Assert.Equal(expected[i], all[i].ToFloats().ToArray());
        }
        OpenAIEmbedding small = await client.GenerateEmbeddingAsync(Texts[1], new EmbeddingGenerationOptions { Dimensions = 96 });
        var v = small.ToFloats().ToArray();
        Assert.Equal(96, v.Length);
        Assert.Equal(h.Embedding.Embed([Texts[1]], 96)[0], v);
        Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 5);
    }

    [Fact]
    public async Task Token_arrays_embed_like_their_text()
    {
        var ids = h.Embedding.Tokenizer.Encode(Texts[0]);
        var (s, b) = await h.PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { model = "minilm", input = new[] { ids, ids.Take(3).ToList() } }));
        Assert.Equal(200, s);
        Assert.Equal(h.Embedding.Embed([Texts[0]])[0], b.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        Assert.Equal(1, b.GetProperty("data")[1].GetProperty("index").GetInt32());
    }

    [Theory]
    [InlineData("""{"model":"nope","input":"x"}""", 404, "model_not_found")]
    [InlineData("""{"model":"add","input":"x"}""", 400, "invalid_value")]
    [InlineData("""{"input":"x"}""", 400, "invalid_value")]
    [InlineData("""{"model":"minilm","input":[]}""", 400, "invalid_value")]
    [InlineData("""{"model":"minilm","input":""}""", 400, "invalid_value")]
    [InlineData("""{"model":"minilm","input":"x","dimensions":385}""", 400, "invalid_value")]
    [InlineData("""{"model":"minilm","input":"x","encoding_format":"int8"}""", 400, "invalid_value")]
    [InlineData("""{"model":"minilm","input":[[1,2],[999999]]}""", 400, "invalid_value")]
    [InlineData("""{"model":"minilm","input":[1.5]}""", 400, "invalid_value")]
    public async Task Errors_are_openai_error_json(string body, int status, string code)
    {
        var (s, b) = await h.PostAsync("/v1/embeddings", body);
        Assert.Equal(status, s);
        var e = b.GetProperty("error");
        Assert.Equal(code, e.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(e.GetProperty("message").GetString()));
        Assert.Equal("invalid_request_error", e.GetProperty("type").GetString());
    }
}
