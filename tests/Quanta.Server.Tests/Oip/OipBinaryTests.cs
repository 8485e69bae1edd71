using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Quanta.Server.Tests.Oip;

/// <summary>The binary tensor data extension for fixed-size types (the ONNX Add model): mixed JSON and binary inputs.</summary>
public sealed class OipBinaryTests(OipHarness h) : IClassFixture<OipHarness>
{
    [Fact]
    public async Task Fp32_binary_input_beside_a_json_input_adds_up()
    {
        int seed = Environment.TickCount;
        var rnd = new Random(seed);
        var x = Enumerable.Range(0, 60).Select(_ => (float)(rnd.NextDouble() * 10 - 5)).ToArray();
        var y = Enumerable.Range(0, 60).Select(_ => (float)Math.Round(rnd.NextDouble() * 10 - 5, 3)).ToArray();
        var bin = new byte[60 * 4];
        for (int i = 0; i < 60; i++) BinaryPrimitives.WriteSingleLittleEndian(bin.AsSpan(i * 4), x[i]);
        var header = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            inputs = new object[]
            {
                new { name = "x", shape = new[] { 3, 4, 5 }, datatype = "FP32", parameters = new { binary_data_size = bin.Length } },
                new { name = "y", shape = new[] { 3, 4, 5 }, datatype = "FP32", data = y },
            },
        }));
        using var content = new ByteArrayContent([.. header, .. bin]);
        content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var resp = await h.Http.PostAsync("/v2/models/add/infer", content);
        var body = JsonDocument.Parse(await resp.Content.ReadAsStringAsync()).RootElement;
        Assert.True((int)resp.StatusCode == 200, body.ToString());
        var z = body.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        for (int i = 0; i < 60; i++) Assert.True(x[i] + y[i] == z[i], $"seed {seed}: element {i}: {x[i]} + {y[i]} != {z[i]}");
    }

    [Theory]
    [InlineData(239, "needs 240 bytes")]
    [InlineData(241, "needs 240 bytes")]
    public async Task Binary_data_of_the_wrong_size_is_400(int size, string mentions)
    {
        var header = Encoding.UTF8.GetBytes($$$"""{"inputs":[{"name":"x","shape":[3,4,5],"datatype":"FP32","parameters":{"binary_data_size":{{{size}}}}},{"name":"y","shape":[3,4,5],"datatype":"FP32","parameters":{"binary_data_size":240}}]}""");
        using var content = new ByteArrayContent([.. header, .. new byte[size + 240]]);
        content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var resp = await h.Http.PostAsync("/v2/models/add/infer", content);
        var body = JsonDocument.Parse(await resp.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(400, (int)resp.StatusCode);
        Assert.Contains(mentions, body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Binary_data_without_the_header_is_400()
    {
        using var content = new StringContent("""{"inputs":[{"name":"x","shape":[3,4,5],"datatype":"FP32","parameters":{"binary_data_size":240}}]}""", Encoding.UTF8, "application/json");
        using var resp = await h.Http.PostAsync("/v2/models/add/infer", content);
        var body = JsonDocument.Parse(await resp.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(400, (int)resp.StatusCode);
        Assert.Contains("Inference-Header-Content-Length", body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
