using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Graph;
using Quanta.Models.Tests.Vision;
using OrtOptions = Microsoft.ML.OnnxRuntime.SessionOptions;
using OrtSession = Microsoft.ML.OnnxRuntime.InferenceSession;

namespace Quanta.Models.Tests.Graph;

/// <summary>
/// ResNet-18 with a symbolic batch run on three images at once, where the 14×14 and 7×7 convolutions fold the images
/// into shared products: the batch must equal the three single-image runs bit for bit (a product column's reduction does
/// not depend on the other columns) and ONNX Runtime's batched run within cosine 0.9999.
/// </summary>
public sealed class ConvBatchTests
{
    private static float[] Image(Random r) => Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)(r.NextDouble() * 4 - 2)).ToArray();

    [Fact]
    public void Batched_resnet_equals_single_image_runs_and_onnx_runtime()
    {
        int seed = Environment.TickCount;
        var r = new Random(seed);
        const int batch = 3;
        var bytes = SymbolicBatch.Rewrite(File.ReadAllBytes(Path.Combine(ResNet18Fixture.Folder, "ResNet18Onnx", "ResNet18.onnx")));
        var ours = new GraphSession(OnnxModel.Parse(bytes, "ResNet18 (symbolic batch)"));
        string input = ours.InputNames[0], output = ours.OutputNames[0];
        var x = Enumerable.Range(0, batch).SelectMany(_ => Image(r)).ToArray();
        var batched = ours.Run(new Dictionary<string, GraphTensor> { [input] = GraphTensor.FromFloats([batch, 3, 224, 224], x) })[output].Floats.ToArray();
        Assert.Equal(0, batched.Length % batch);
        int per = batched.Length / batch;
        for (int i = 0; i < batch; i++)
        {
            var one = ours.Run(new Dictionary<string, GraphTensor> { [input] = GraphTensor.FromFloats([1, 3, 224, 224], x.AsSpan(i * 3 * 224 * 224, 3 * 224 * 224).ToArray()) })[output].Floats.ToArray();
            Assert.Equal(per, one.Length);
            for (int j = 0; j < per; j++)
                Assert.True(BitConverter.SingleToInt32Bits(one[j]) == BitConverter.SingleToInt32Bits(batched[i * per + j]),
                    $"seed {seed}: image {i} feature {j}: batched {batched[i * per + j]} vs alone {one[j]}");
        }

        using var opts = new OrtOptions { IntraOpNumThreads = 2 };
        using var ort = new OrtSession(bytes, opts);
        using var res = ort.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(x, [batch, 3, 224, 224]))]);
        var theirs = res.First().AsTensor<float>().ToArray();
        Assert.Equal(theirs.Length, batched.Length);
        for (int i = 0; i < batch; i++)
        {
            double dot = 0, na = 0, nb = 0;
            for (int j = i * per; j < (i + 1) * per; j++) { dot += (double)batched[j] * theirs[j]; na += (double)batched[j] * batched[j]; nb += (double)theirs[j] * theirs[j]; }
            double cos = dot / Math.Sqrt(na * nb);
            Assert.True(cos >= 0.9999, $"seed {seed}: image {i} cosine {cos:F7} against ONNX Runtime");
        }
    }
}
