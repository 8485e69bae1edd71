using System.Diagnostics;
using Quanta.Models.Vision;

namespace Quanta.Models.Tests.Vision;

/// <summary>
/// SkiaSharp decoding: PNG pixels against the test's own PNG decoder, the IsoCrop/Mitchell resize on synthetic
/// images, hostile inputs refused with <see cref="InvalidImageException"/> (in bounded time, before allocation where
/// the header already tells), and ResNet-18 features of decoded images against ONNX Runtime on the same tensor.
/// </summary>
public sealed class SkiaImageDecoderTests(ResNet18Fixture fx) : IClassFixture<ResNet18Fixture>
{
    private static readonly SkiaImageDecoder Decoder = new();

    private static byte[] Image(string file) => File.ReadAllBytes(SharedData.Get("testdata/images/" + file));

    [Theory]
    [InlineData("chelsea.png")]
    [InlineData("coffee.png")]
    public void Png_pixels_equal_an_independent_png_decoder(string file)
    {
        var (expected, w, h) = PngDecoder.Decode(SharedData.Get("testdata/images/" + file));
        var (rgb, width, height) = Decoder.DecodeRgb(Image(file));
        Assert.Equal((w, h), (width, height));
        Assert.True(expected.AsSpan().SequenceEqual(rgb), $"{file}: decoded pixels differ from the reference PNG decoder");
    }

    [Fact]
    public void Jpeg_decodes_to_its_header_dimensions_with_real_content()
    {
        var (rgb, w, h) = Decoder.DecodeRgb(Image("grace_hopper.jpg"));
        Assert.Equal((517, 606), (w, h));
        // a photograph, not a blank or garbage-filled buffer: many distinct colours, mid-range mean
        int distinct = rgb.Chunk(3).Select(p => (p[0] << 16) | (p[1] << 8) | p[2]).Distinct().Count();
        double mean = rgb.Average(b => (double)b);
        Assert.True(distinct > 5000 && mean is > 40 and < 215, $"distinct colours {distinct}, mean {mean:F1}");
    }

    [Fact]
    public void Resize_crops_the_longer_side_around_the_centre_instead_of_stretching()
    {
        // 600×300: columns 0..149 green, 150..449 red, 450..599 blue. IsoCrop to 100×100 keeps the central 300 columns.
        const int w = 600, h = 300;
        var rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                rgb[(y * w + x) * 3 + (x < 150 ? 1 : x < 450 ? 0 : 2)] = 200;
        var out100 = Decoder.DecodeResizedRgb(PngWriter.Rgb(rgb, w, h), 100);
        Assert.Equal(100 * 100 * 3, out100.Length);
        for (int y = 0; y < 100; y++)
            for (int x = 2; x < 98; x++)
            {
                int i = (y * 100 + x) * 3;
                Assert.True(Math.Abs(out100[i] - 200) <= 1 && out100[i + 1] <= 1 && out100[i + 2] <= 1,
                    $"pixel ({x}, {y}) = ({out100[i]}, {out100[i + 1]}, {out100[i + 2]}), expected red (200, 0, 0)");
            }
    }

    [Fact]
    public void Resize_paints_every_pixel_when_the_scaled_side_lands_just_below_the_size()
    {
        // 319 × (224 / 319) is 223.99998 in float32: a destination truncated to whole pixels leaves column 223 black
        foreach (var (w, h) in new[] { (319, 445), (445, 319) })
        {
            var rgb = Enumerable.Repeat((byte)200, w * h * 3).ToArray();
            var chw = Decoder.DecodeChw(PngWriter.Rgb(rgb, w, h), 224);
            Assert.True(chw.All(v => Math.Abs(v - 200) <= 1), $"{w}×{h}: {chw.Count(v => Math.Abs(v - 200) > 1)} values are not 200");
        }
    }

    [Fact]
    public void Resize_keeps_a_uniform_colour_and_chw_layout()
    {
        var seed = Environment.TickCount;
        var r = new Random(seed);
        byte cr = (byte)r.Next(256), cg = (byte)r.Next(256), cb = (byte)r.Next(256);
        int w = 50 + r.Next(400), h = 50 + r.Next(400);
        var rgb = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++) { rgb[i * 3] = cr; rgb[i * 3 + 1] = cg; rgb[i * 3 + 2] = cb; }
        var chw = Decoder.DecodeChw(PngWriter.Rgb(rgb, w, h), 224);
        Assert.Equal(3 * 224 * 224, chw.Length);
        for (int c = 0; c < 3; c++)
        {
            float want = c == 0 ? cr : c == 1 ? cg : cb;
            for (int i = 0; i < 224 * 224; i++)
                Assert.True(Math.Abs(chw[c * 224 * 224 + i] - want) <= 1, $"seed {seed}: {w}×{h} colour ({cr},{cg},{cb}) channel {c} element {i} = {chw[c * 224 * 224 + i]}");
        }
    }

    [Fact]
    public void Jpeg_decoded_at_a_reduced_dct_scale_stays_close_to_an_area_average_of_the_full_image()
    {
        var bytes = Image("grace_hopper.jpg");
        const int size = 64;
        var scaled = Decoder.DecodeResizedRgb(bytes, size);   // shorter side 517 ≥ 2·64·4: decoded at 1/4 scale first
        var (rgb, w, h) = Decoder.DecodeRgb(bytes);
        var full = Decoder.DecodeResizedRgb(PngWriter.Rgb(rgb, w, h), size); // a PNG is always decoded at full scale
        // reference: each output pixel is the mean of the full-resolution pixels under it (IsoCrop geometry, centred)
        double scale = Math.Max((double)size / w, (double)size / h), ox = (w * scale - size) / 2, oy = (h * scale - size) / 2;
        var reference = new double[size * size * 3];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int sx0 = (int)((x + ox) / scale), sx1 = (int)((x + 1 + ox) / scale), sy0 = (int)((y + oy) / scale), sy1 = (int)((y + 1 + oy) / scale);
                for (int c = 0; c < 3; c++)
                {
                    double sum = 0;
                    for (int sy = sy0; sy < sy1; sy++) for (int sx = sx0; sx < sx1; sx++) sum += rgb[(sy * w + sx) * 3 + c];
                    reference[(y * size + x) * 3 + c] = sum / ((sx1 - sx0) * (sy1 - sy0));
                }
            }
        double errScaled = scaled.Zip(reference, (a, b) => Math.Abs(a - b)).Average();
        double errFull = full.Zip(reference, (a, b) => Math.Abs(a - b)).Average();
        // the DCT prefilter removes most of the aliasing a plain 8× bicubic step has
        Assert.True(errScaled < 8 && errScaled < errFull, $"mean |result − area average|: DCT-scaled {errScaled:F2}, full-scale {errFull:F2} levels");
    }

    public static TheoryData<string> Hostile => ["empty", "random", "random-with-png-signature", "truncated-jpeg", "truncated-png", "png-100000x100000",
        "png-bomb-30000x30000", "png-8192x8192-over-pixel-limit", "jpeg-zero-width", "png-bad-crc", "gif", "jpeg-header-only"];

    private static byte[] MakeHostile(string kind, int seed)
    {
        var r = new Random(seed);
        switch (kind)
        {
            case "empty": return [];
            case "random": { var b = new byte[4096]; r.NextBytes(b); b[0] = 0x42; return b; }
            case "random-with-png-signature":
            {
                var b = new byte[4096];
                r.NextBytes(b);
                new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(b, 0);
                return b;
            }
            case "truncated-jpeg": { var j = Image("grace_hopper.jpg"); return j[..(j.Length / 2 + r.Next(j.Length / 4))]; }
            case "truncated-png": { var p = Image("chelsea.png"); return p[..(p.Length / 2 + r.Next(p.Length / 4))]; }
            case "png-100000x100000": return PngWriter.ZeroFilled(100000, 100000, 1, 0, 1 << 16);
            // 1-bit grey, all zero: 112 MB of scanlines deflate to ~110 KB; 900 megapixels would need 3.6 GB as RGBA
            case "png-bomb-30000x30000": return PngWriter.ZeroFilled(30000, 30000, 1, 0, 30000L * (1 + 30000 / 8));
            case "png-8192x8192-over-pixel-limit": return PngWriter.ZeroFilled(8192, 8192, 1, 0, 8192L * (1 + 8192 / 8));
            case "jpeg-zero-width":
            {
                var j = Image("grace_hopper.jpg");
                int sof = FindSof(j);
                j[sof + 7] = 0; j[sof + 8] = 0;
                return j;
            }
            case "png-bad-crc": { var p = (byte[])Image("chelsea.png").Clone(); p[40] ^= 0x55; p[41] ^= 0x55; return p; }
            case "gif": return "GIF89a\u0001\0\u0001\0\0\0\0;"u8.ToArray();
            case "jpeg-header-only": { var j = Image("grace_hopper.jpg"); return j[..(FindSof(j) + 20)]; }
            default: throw new ArgumentException(kind);
        }
    }

    private static int FindSof(byte[] j)
    {
        for (int i = 2; i + 1 < j.Length; i++)
            if (j[i] == 0xFF && j[i + 1] is 0xC0 or 0xC1 or 0xC2) return i;
        throw new InvalidDataException("no SOF marker");
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_images_are_refused_with_InvalidImageException(string kind)
    {
        int seed = Environment.TickCount;
        var bytes = MakeHostile(kind, seed);
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<InvalidImageException>(() => Decoder.DecodeRgb(bytes));
        Assert.Throws<InvalidImageException>(() => Decoder.DecodeChw(bytes, 224));
        Assert.True(sw.Elapsed.TotalSeconds < 5, $"{kind} (seed {seed}): refused only after {sw.Elapsed.TotalSeconds:F1} s");
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        if (kind.StartsWith("png-", StringComparison.Ordinal) && kind.Contains('x', StringComparison.Ordinal))
            Assert.Contains("exceeds the limit", e.Message, StringComparison.Ordinal); // refused from the header, before decoding
    }

    [Fact]
    public void Png_whose_data_inflates_far_past_its_size_decodes_only_what_its_header_declares()
    {
        // 64×64 RGB needs 64 × 193 bytes of scanlines; the IDAT inflates to 256 MiB of zeros (~260 KB compressed).
        var png = PngWriter.ZeroFilled(64, 64, 8, 2, 256L << 20);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        try
        {
            var (rgb, w, h) = Decoder.DecodeRgb(png);
            Assert.Equal((64, 64), (w, h));
            Assert.All(rgb, b => Assert.Equal(0, b));
        }
        catch (InvalidImageException)
        {
            // refusing the surplus data is as good as ignoring it
        }
        Assert.True(sw.Elapsed.TotalSeconds < 3, $"took {sw.Elapsed.TotalSeconds:F1} s: the surplus data was inflated");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 8 << 20, $"{allocated} managed bytes allocated");
    }

    [Theory]
    [InlineData("zTXt")]
    [InlineData("iCCP")]
    public void Png_with_a_compressed_ancillary_chunk_bomb_is_handled_in_bounded_time_and_memory(string type)
    {
        // an 8×8 image whose text / colour-profile chunk inflates to 512 MiB (~520 KB on the wire)
        var png = PngWriter.WithCompressedChunk(type, 512L << 20);
        long rssBefore = System.Diagnostics.Process.GetCurrentProcess().WorkingSet64;
        var sw = Stopwatch.StartNew();
        try
        {
            var (rgb, w, h) = Decoder.DecodeRgb(png);
            Assert.Equal((8, 8), (w, h));
            Assert.All(rgb, b => Assert.Equal(0, b));
        }
        catch (InvalidImageException)
        {
            // refusing the chunk is as good as skipping it
        }
        long grown = System.Diagnostics.Process.GetCurrentProcess().WorkingSet64 - rssBefore;
        Assert.True(sw.Elapsed.TotalSeconds < 3, $"{type}: took {sw.Elapsed.TotalSeconds:F1} s: the chunk was inflated");
        Assert.True(grown < 256L << 20, $"{type}: resident memory grew by {grown >> 20} MiB");
    }

    [Fact]
    public void Limits_are_configurable_and_checked()
    {
        var small = new SkiaImageDecoder(new ImageDecodeLimits { MaxSide = 500 });
        var e = Assert.Throws<InvalidImageException>(() => small.DecodeRgb(Image("grace_hopper.jpg")));
        Assert.Contains("517", e.Message, StringComparison.Ordinal);
        var tiny = new SkiaImageDecoder(new ImageDecodeLimits { MaxBytes = 1000 });
        Assert.Contains("bytes", Assert.Throws<InvalidImageException>(() => tiny.DecodeRgb(Image("chelsea.png"))).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SkiaImageDecoder(new ImageDecodeLimits { MaxPixels = 0 }));
    }

    // Per sample image: the decoded tensor, our features and ONNX Runtime's on that tensor (computed once per run).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (float[] Chw, float[] Ours, float[] Ort)> Featurized = new();

    private (float[] Chw, float[] Ours, float[] Ort) Featurize(string file) => Featurized.GetOrAdd(file, f =>
    {
        var bytes = Image(f);
        var chw = Decoder.DecodeChw(bytes, 224);
        return (chw, fx.Ours.FeaturizeEncoded(bytes, Decoder), fx.OrtFeatures(chw));
    });

    private static void AssertClose(string what, float[] ours, float[] reference)
    {
        double cos = ResNet18Int8Tests.Cosine(ours, reference);
        double maxAbs = ours.Zip(reference, (a, b) => Math.Abs(a - b)).Max(), maxRef = reference.Max(Math.Abs);
        // same tolerance as ResNet18Tests: cosine ≥ 0.9999 and every feature within 1e-3 of the largest reference feature
        Assert.True(cos >= 0.9999 && maxAbs <= 1e-3 * maxRef, $"{what}: cosine {cos:F7}, max |diff| {maxAbs:E2} vs max |ref| {maxRef:E2}");
    }

    [Theory]
    [InlineData("grace_hopper.jpg")]
    [InlineData("chelsea.png")]
    [InlineData("coffee.png")]
    public void Decoded_images_featurize_as_onnx_runtime_does_on_the_same_tensor(string file)
    {
        var (_, ours, reference) = Featurize(file);
        AssertClose(file, ours, reference);
    }

    [Fact]
    public void A_batch_of_decoded_images_featurizes_as_each_image_alone_and_as_onnx_runtime()
    {
        string[] files = ["grace_hopper.jpg", "chelsea.png", "coffee.png"];
        var each = files.Select(Featurize).ToArray();
        var batch = fx.Ours.FeaturizeBatch(each.SelectMany(e => e.Chw).ToArray(), files.Length);
        Assert.Equal(files.Length * 512, batch.Length);
        for (int i = 0; i < files.Length; i++) AssertClose($"{files[i]} in a batch of 3", batch.AsSpan(i * 512, 512).ToArray(), each[i].Ort);
        Assert.Throws<ArgumentException>(() => fx.Ours.FeaturizeBatch(each[0].Chw, 2));
    }

    [Fact]
    public void Features_tell_the_sample_images_apart()
    {
        var f = new[] { "grace_hopper.jpg", "chelsea.png", "coffee.png" }.Select(n => Featurize(n).Ours).ToArray();
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                Assert.True(ResNet18Int8Tests.Cosine(f[i], f[j]) < 0.9, $"images {i} and {j}: cosine {ResNet18Int8Tests.Cosine(f[i], f[j]):F3}");
    }
}
