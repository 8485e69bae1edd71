using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Quanta.Models.Vision;

namespace Quanta.Server.Tests.Oip;

/// <summary>
/// A full <see cref="QuantaServer"/> serving ML.NET's ResNet-18 folder (--model resnet18=DIR), the folder found in the
/// NuGet package cache (the Quanta.Models.Tests project downloads the package), plus the same featurizer in-process
/// as the oracle of the served features.
/// </summary>
public sealed class ResNetServerFixture : IAsyncLifetime
{
    public static string Folder
    {
        get
        {
            string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(root, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels");
        }
    }

    public QuantaServer Server { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public ImageFeaturizer Featurizer { get; private set; } = null!;
    public SkiaImageDecoder Decoder { get; } = new();

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Path.Combine(Folder, "ResNet18Onnx", "ResNet18.onnx")), $"{Folder} lacks ResNet18.onnx (restore tests/Quanta.Models.Tests first)");
        Featurizer = ImageFeaturizer.LoadResNet18(Folder);
        Server = new QuantaServer(new ServerOptions { Port = 0, Logging = false, MaxRequestBytes = 8 << 20, Models = [ModelSpec.Parse("resnet18=" + Folder)] });
        await Server.StartAsync();
        Http = new HttpClient { BaseAddress = Server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, float[]> _expected = new();

    /// <summary>Features of <paramref name="image"/> computed in-process (cached by content).</summary>
    public float[] Expected(byte[] image) => _expected.GetOrAdd(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(image)), _ => Featurizer.FeaturizeEncoded(image, Decoder));

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (Server is not null) await Server.DisposeAsync();
    }
}

/// <summary>Encoded images through the HTTP stack: OIP JSON (base64 BYTES), the binary tensor data extension, the raw and multipart image endpoint, hostile images.</summary>
public sealed class ImageInferTests(ResNetServerFixture fx) : IClassFixture<ResNetServerFixture>
{
    private static byte[] Image(string file) => File.ReadAllBytes(SharedDataPath("testdata/images/" + file));

    private static string SharedDataPath(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "..", "shared", relative);
            if (File.Exists(p)) return p;
            p = Path.Combine(d.FullName, "shared", relative);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException("shared test data not found: " + relative);
    }

    private static async Task<(int Status, JsonElement Body)> Send(HttpResponseMessage resp)
    {
        string text = await resp.Content.ReadAsStringAsync();
        return ((int)resp.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    private async Task<(int Status, JsonElement Body)> PostJson(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        return await Send(await fx.Http.PostAsync("/v2/models/resnet18/infer", content));
    }

    private static string Base64Request(params byte[][] images) => JsonSerializer.Serialize(new
    {
        id = "img-1",
        inputs = new[] { new { name = "image_bytes", shape = new[] { images.Length }, datatype = "BYTES", data = images.Select(Convert.ToBase64String).ToArray() } },
    });

    private void AssertFeatures(JsonElement body, params byte[][] images)
    {
        var o = Assert.Single(body.GetProperty("outputs").EnumerateArray());
        Assert.Equal("features", o.GetProperty("name").GetString());
        Assert.Equal($"[{images.Length},512]", o.GetProperty("shape").GetRawText());
        var got = o.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var expected = images.SelectMany(fx.Expected).ToArray();
        Assert.Equal(expected.Length, got.Length);
        // a batch runs as one graph run: equal to the image alone within float32 summation-order rounding
        float maxRef = expected.Max(Math.Abs), maxDiff = expected.Zip(got, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDiff <= 1e-4f * maxRef, $"max |served − in-process| = {maxDiff:E2} vs max |feature| {maxRef:E2}");
    }

    [Fact]
    public async Task Metadata_offers_encoded_images_and_pixels()
    {
        var (s, b) = await Send(await fx.Http.GetAsync("/v2/models/resnet18"));
        Assert.Equal(200, s);
        var inputs = b.GetProperty("inputs").EnumerateArray().ToDictionary(i => i.GetProperty("name").GetString()!, i => i);
        Assert.Equal("BYTES", inputs["image_bytes"].GetProperty("datatype").GetString());
        Assert.Equal("[-1,3,224,224]", inputs["image"].GetProperty("shape").GetRawText());
    }

    [Fact]
    public async Task Json_base64_images_give_the_featurizer_features()
    {
        // three images: run as batches of 2 and 1
        byte[] jpg = Image("grace_hopper.jpg"), png = Image("chelsea.png"), png2 = Image("coffee.png");
        var (s, b) = await PostJson(Base64Request(jpg, png, png2));
        Assert.True(s == 200, b.ToString());
        Assert.Equal("img-1", b.GetProperty("id").GetString());
        AssertFeatures(b, jpg, png, png2);
    }

    [Fact]
    public async Task Binary_tensor_data_extension_carries_raw_image_bytes()
    {
        byte[] png = Image("coffee.png"), jpg = Image("grace_hopper.jpg");
        var data = new MemoryStream();
        foreach (var img in new[] { png, jpg })
        {
            var len = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)img.Length);
            data.Write(len);
            data.Write(img);
        }
        var header = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            inputs = new[] { new { name = "image_bytes", shape = new[] { 2 }, datatype = "BYTES", parameters = new { binary_data_size = data.Length } } },
        }));
        using var content = new ByteArrayContent([.. header, .. data.ToArray()]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var (s, b) = await Send(await fx.Http.PostAsync("/v2/models/resnet18/infer", content));
        Assert.True(s == 200, b.ToString());
        AssertFeatures(b, png, jpg);
    }

    [Fact]
    public async Task Image_endpoint_takes_a_raw_body_or_multipart_files()
    {
        byte[] jpg = Image("grace_hopper.jpg"), png = Image("chelsea.png");
        using (var raw = new ByteArrayContent(jpg))
        {
            raw.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            var (s, b) = await Send(await fx.Http.PostAsync("/v2/models/resnet18/image", raw));
            Assert.True(s == 200, b.ToString());
            AssertFeatures(b, jpg);
        }
        using (var urlencoded = new ByteArrayContent(jpg)) // what curl --data-binary sends without -H
        {
            urlencoded.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
            var (s1, b1) = await Send(await fx.Http.PostAsync("/v2/models/resnet18/image", urlencoded));
            Assert.True(s1 == 200, b1.ToString());
            AssertFeatures(b1, jpg);
        }
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(png), "image", "chelsea.png" },
            { new ByteArrayContent(jpg), "image", "grace_hopper.jpg" },
        };
        var (s2, b2) = await Send(await fx.Http.PostAsync("/v2/models/resnet18/image", form));
        Assert.True(s2 == 200, b2.ToString());
        AssertFeatures(b2, png, jpg);
    }

    public static TheoryData<string> Hostile => ["truncated-jpeg", "png-100000x100000", "random", "empty", "not-base64"];

    private static byte[] MakeHostile(string kind)
    {
        switch (kind)
        {
            case "truncated-jpeg": { var j = Image("grace_hopper.jpg"); return j[..(j.Length * 2 / 3)]; }
            case "png-100000x100000":
            {
                // signature + IHDR claiming 100000×100000 (CRC not needed: refused from the header before any check of it)
                var p = new byte[33];
                new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(p, 0);
                BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(16), 100000);
                BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(20), 100000);
                p[24] = 8; p[25] = 2;
                return p;
            }
            case "random": { var b = new byte[2048]; new Random(Environment.TickCount).NextBytes(b); b[0] = 0xFF; b[1] = 0x00; return b; }
            case "empty": return [];
            default: return "%%% not base64 %%%"u8.ToArray();
        }
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task Hostile_images_are_400_with_an_error_string_on_every_path(string kind)
    {
        var bad = MakeHostile(kind);
        string json = kind == "not-base64"
            ? """{"inputs":[{"name":"image_bytes","shape":[1],"datatype":"BYTES","data":["%%% not base64 %%%"]}]}"""
            : Base64Request(bad);
        var (s, b) = await PostJson(json);
        Assert.True(s == 400, $"{kind}: {s} {b}");
        Assert.Contains("image_bytes", b.GetProperty("error").GetString(), StringComparison.Ordinal);
        using var raw = new ByteArrayContent(bad);
        raw.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        (s, b) = await Send(await fx.Http.PostAsync("/v2/models/resnet18/image", raw));
        Assert.True(s == 400, $"{kind} raw: {s} {b}");
        Assert.False(string.IsNullOrWhiteSpace(b.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task A_hostile_image_fails_alone_while_good_requests_run_beside_it()
    {
        byte[] good = Image("chelsea.png");
        var bad = MakeHostile("truncated-jpeg");
        var tasks = Enumerable.Range(0, 4).Select(i => PostJson(i % 2 == 0 ? Base64Request(good) : Base64Request(bad))).ToArray();
        var results = await Task.WhenAll(tasks);
        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal(i % 2 == 0 ? 200 : 400, results[i].Status);
            if (i % 2 == 0) AssertFeatures(results[i].Body, good);
        }
    }

    [Fact]
    public async Task Malformed_binary_extension_requests_are_400()
    {
        var header = Encoding.UTF8.GetBytes("""{"inputs":[{"name":"image_bytes","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":100}}]}""");
        using var content = new ByteArrayContent([.. header, 1, 2, 3]);
        content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var (s, b) = await Send(await fx.Http.PostAsync("/v2/models/resnet18/infer", content));
        Assert.Equal(400, s);
        Assert.Contains("100 bytes", b.GetProperty("error").GetString(), StringComparison.Ordinal);
        using var content2 = new ByteArrayContent(header);
        content2.Headers.Add("Inference-Header-Content-Length", "99999");
        (s, _) = await Send(await fx.Http.PostAsync("/v2/models/resnet18/infer", content2));
        Assert.Equal(400, s);
    }
}
