using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Quanta.Models.Tests.Support;
using Quanta.Models.Vision;
using OrtOptions = Microsoft.ML.OnnxRuntime.SessionOptions;
using OrtSession = Microsoft.ML.OnnxRuntime.InferenceSession;

namespace Quanta.Models.Tests.Vision;

/// <summary>ResNet-18 (ML.NET DnnImageFeaturizer package) through the graph executor against ONNX Runtime.</summary>
public sealed class ResNet18Fixture : IDisposable
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    public ResNet18Fixture()
    {
        Assert.True(File.Exists(Path.Combine(Folder, "ResNet18Onnx", "ResNet18.onnx")), $"{Folder} lacks ResNet18.onnx: the PackageDownload/copy did not run");
        Ours = ImageFeaturizer.LoadResNet18(Folder);
        using var opts = new OrtOptions { IntraOpNumThreads = 2 };
        Prep = new OrtSession(Path.Combine(Folder, "ResNetPrepOnnx", "ResNetPreprocess.onnx"), opts);
        Net = new OrtSession(Path.Combine(Folder, "ResNet18Onnx", "ResNet18.onnx"), opts);
    }

    public ImageFeaturizer Ours { get; }
    public OrtSession Prep { get; }
    public OrtSession Net { get; }

    public float[] OrtFeatures(float[] chw)
    {
        using var p = Prep.Run([NamedOnnxValue.CreateFromTensor(Prep.InputMetadata.Keys.First(), new DenseTensor<float>(chw, [1, 3, 224, 224]))]);
        var x = p.First().AsTensor<float>().ToArray();
        using var r = Net.Run([NamedOnnxValue.CreateFromTensor(Net.InputMetadata.Keys.First(), new DenseTensor<float>(x, [1, 3, 224, 224]))]);
        return r.First().AsTensor<float>().ToArray();
    }

    public void Dispose()
    {
        Prep.Dispose();
        Net.Dispose();
    }
}

public sealed class ResNet18Tests(ResNet18Fixture fx) : IClassFixture<ResNet18Fixture>
{
    private static void AssertClose(string what, float[] ours, float[] reference)
    {
        Assert.Equal(reference.Length, ours.Length);
        double dot = 0, na = 0, nb = 0, maxAbs = 0, maxRef = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            dot += (double)ours[i] * reference[i]; na += (double)ours[i] * ours[i]; nb += (double)reference[i] * reference[i];
            maxAbs = Math.Max(maxAbs, Math.Abs(ours[i] - reference[i]));
            maxRef = Math.Max(maxRef, Math.Abs(reference[i]));
        }
        double cos = dot / Math.Sqrt(na * nb);
        // Tolerance: cosine ≥ 0.9999 and every feature within 1e-3 of the largest reference feature (float32 summation order differs).
        Assert.True(cos >= 0.9999 && maxAbs <= 1e-3 * maxRef, $"{what}: cosine {cos:F7}, max |diff| {maxAbs:E2} vs max |ref| {maxRef:E2}");
    }

    [Theory]
    [InlineData("chelsea.png")]
    [InlineData("coffee.png")]
    public void Png_images_match_onnx_runtime(string file)
    {
        var (rgb, w, h) = PngDecoder.Decode(SharedData.Get("testdata/images/" + file));
        var chw = ImageFeaturizer.ToChw(rgb, w, h, 224);
        var ours = fx.Ours.FeaturizeRgb(rgb, w, h);
        Assert.Equal(512, ours.Length);
        AssertClose(file, ours, fx.OrtFeatures(chw));
    }

    [Fact]
    public void Random_pixels_match_onnx_runtime()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        var chw = Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)r.Next(256)).ToArray();
        AssertClose($"random image (seed {seed})", fx.Ours.Featurize(chw), fx.OrtFeatures(chw));
    }

    [Fact]
    public void Resize_of_an_image_already_224_is_the_identity_and_rejects_bad_sizes()
    {
        var r = new Random(1);
        var rgb = new byte[224 * 224 * 3];
        r.NextBytes(rgb);
        var chw = ImageFeaturizer.ToChw(rgb, 224, 224, 224);
        for (int y = 0; y < 224; y += 37) for (int x = 0; x < 224; x += 41) for (int c = 0; c < 3; c++)
            Assert.Equal(rgb[(y * 224 + x) * 3 + c], chw[(c * 224 + y) * 224 + x]);
        Assert.Throws<ArgumentException>(() => ImageFeaturizer.ToChw(rgb, 100, 100, 224));
    }
}
