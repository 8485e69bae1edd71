using Quanta.Models.Vision;

namespace Quanta.Engine.Tensor;

/// <summary>
/// <see cref="ImageFeaturizer"/> as a tensor model: input "image" FP32 [n, 3, S, S] (RGB, 0..255, S =
/// <see cref="ImageFeaturizer.InputSize"/>); output "features" FP32 [n, F] (F is learnt from a first run on a black image).
/// The featurizer runs image by image, so a batch only saves queueing, and each image's features equal
/// <see cref="ImageFeaturizer.Featurize"/> of it alone.
/// </summary>
public sealed class ImageFeaturizerTensorModel : ITensorModel
{
    private readonly ImageFeaturizer _model;

    /// <summary>Wraps <paramref name="model"/>.</summary>
    public ImageFeaturizerTensorModel(ImageFeaturizer model, string name, int maxBatchSize = 16)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        Name = name ?? throw new ArgumentNullException(nameof(name));
        MaxBatchSize = maxBatchSize > 0 ? maxBatchSize : throw new ArgumentOutOfRangeException(nameof(maxBatchSize));
        int s = model.InputSize;
        Features = model.Featurize(new float[3 * s * s]).Length;
        Inputs = [new TensorSpec("image", TensorDataType.Fp32, [-1, 3, s, s])];
        Outputs = [new TensorSpec("features", TensorDataType.Fp32, [-1, Features])];
    }

    /// <summary>Features per image.</summary>
    public int Features { get; }
    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public string Platform => "quanta_vision";
    /// <inheritdoc/>
    public IReadOnlyList<TensorSpec> Inputs { get; }
    /// <inheritdoc/>
    public IReadOnlyList<TensorSpec> Outputs { get; }
    /// <inheritdoc/>
    public int MaxBatchSize { get; }

    /// <inheritdoc/>
    public string BatchKey(InferenceRequest request) => TensorBatching.ShapeKey(request);

    /// <inheritdoc/>
    public IReadOnlyList<IReadOnlyList<InferenceTensor>> Run(IReadOnlyList<InferenceRequest> batch)
    {
        var x = TensorBatching.ConcatInputs(batch)["image"];
        int n = x.Shape[0], per = x.ElementCount / Math.Max(n, 1);
        var y = new float[n * Features]; // [n, F]
        for (int i = 0; i < n; i++)
        {
            var f = _model.Featurize(x.Floats.AsSpan(i * per, per));
            if (f.Length != Features) throw new InvalidOperationException($"featurizer returned {f.Length} features, expected {Features}");
            f.CopyTo(y, i * Features);
        }
        return TensorBatching.SplitOutputs(batch, this, [InferenceTensor.FromFloats("features", [n, Features], y)]);
    }
}
