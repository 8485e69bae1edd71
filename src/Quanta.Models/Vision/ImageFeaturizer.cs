using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Graph;

namespace Quanta.Models.Vision;

/// <summary>
/// Image features from a CNN exported to ONNX, run by <see cref="GraphSession"/>: an optional preprocessing model
/// (e.g. ML.NET's ResNetPreprocess.onnx: RGB→BGR and mean-image subtraction) followed by the feature model
/// (e.g. ResNet18.onnx, which ends at the global average pool: 512 features). Input is one image as float
/// [3, H, W] (channels RGB, values 0..255, H = W = <see cref="InputSize"/>) or interleaved RGB bytes of any size,
/// resized bilinearly. Thread-safe (runs serialize).
/// </summary>
public sealed class ImageFeaturizer
{
    private readonly GraphSession? _prep;
    private readonly GraphSession _net;
    private readonly Lock _gate = new();

    private ImageFeaturizer(GraphSession? prep, GraphSession net, int inputSize)
    {
        if (net.InputNames.Count != 1) throw new InvalidDataException($"feature model has {net.InputNames.Count} inputs, expected 1");
        if (prep is not null && prep.InputNames.Count != 1) throw new InvalidDataException($"preprocessing model has {prep.InputNames.Count} inputs, expected 1");
        _prep = prep;
        _net = net;
        InputSize = inputSize;
    }

    /// <summary>Loads the feature model and (optionally) a preprocessing model that runs first.</summary>
    public static ImageFeaturizer Load(string modelPath, string? preprocessPath = null, int inputSize = 224) =>
        new(preprocessPath is null ? null : new GraphSession(OnnxModel.Load(preprocessPath)), new GraphSession(OnnxModel.Load(modelPath)), inputSize);

    /// <summary>ML.NET's ResNet-18 featurizer from the folder holding ResNet18Onnx/ResNet18.onnx and ResNetPrepOnnx/ResNetPreprocess.onnx.</summary>
    public static ImageFeaturizer LoadResNet18(string dnnImageModelsFolder) =>
        Load(Path.Combine(dnnImageModelsFolder, "ResNet18Onnx", "ResNet18.onnx"), Path.Combine(dnnImageModelsFolder, "ResNetPrepOnnx", "ResNetPreprocess.onnx"));

    /// <summary>Side of the square input image.</summary>
    public int InputSize { get; }

    /// <summary>Per-op-type timing of the feature graph's runs (<see cref="GraphSession.Profile"/>; the preprocessing graph is not recorded); null (default) records nothing.</summary>
    public GraphProfile? Profile
    {
        get => _net.Profile;
        set => _net.Profile = value;
    }

    /// <summary>Features of one image given as float [3, InputSize, InputSize] (RGB, 0..255).</summary>
    public float[] Featurize(ReadOnlySpan<float> chw) => FeaturizeBatch(chw, 1);

    /// <summary>
    /// Features of <paramref name="count"/> images given as float [count, 3, InputSize, InputSize] (RGB, 0..255), run
    /// as one batch through both graphs (the graphs' declared batch dimension of 1 is not enforced: every operator of
    /// the ResNet graphs works per image); returns [count, features], each row equal to <see cref="Featurize"/> of
    /// that image within float rounding.
    /// </summary>
    public float[] FeaturizeBatch(ReadOnlySpan<float> nchw, int count)
    {
        int s = InputSize;
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "must be at least 1");
        if (nchw.Length != (long)count * 3 * s * s) throw new ArgumentException($"expected {count}×3×{s}×{s} = {(long)count * 3 * s * s} values, got {nchw.Length}", nameof(nchw));
        var x = GraphTensor.FromFloats([count, 3, s, s], nchw.ToArray());
        lock (_gate)
        {
            if (_prep is not null) x = _prep.Run(new Dictionary<string, GraphTensor> { [_prep.InputNames[0]] = x })[_prep.OutputNames[0]];
            var y = _net.Run(new Dictionary<string, GraphTensor> { [_net.InputNames[0]] = x })[_net.OutputNames[0]];
            if (y.Shape.Length == 0 || y.Shape[0] != count)
                throw new InvalidDataException($"feature model output has shape [{string.Join(", ", y.Shape)}] for a batch of {count}");
            return y.Floats.ToArray();
        }
    }

    /// <summary>
    /// Switches the feature model to INT8 (<see cref="GraphQuantizer.Quantize"/>: per-channel symmetric weights,
    /// activation scales calibrated on <paramref name="calibrationImages"/>, each float [3, InputSize, InputSize]
    /// RGB 0..255, passed through the preprocessing model first). Call before serving; not concurrently with runs.
    /// </summary>
    public Int8Report QuantizeInt8(IEnumerable<float[]> calibrationImages)
    {
        ArgumentNullException.ThrowIfNull(calibrationImages);
        int s = InputSize;
        var inputs = new List<IReadOnlyDictionary<string, GraphTensor>>();
        lock (_gate)
        {
            foreach (var chw in calibrationImages)
            {
                if (chw.Length != 3 * s * s) throw new ArgumentException($"calibration image of {chw.Length} values, expected {3 * s * s}", nameof(calibrationImages));
                var x = GraphTensor.FromFloats([1, 3, s, s], (float[])chw.Clone());
                if (_prep is not null) x = _prep.Run(new Dictionary<string, GraphTensor> { [_prep.InputNames[0]] = x })[_prep.OutputNames[0]];
                inputs.Add(new Dictionary<string, GraphTensor> { [_net.InputNames[0]] = x });
            }
            if (inputs.Count == 0) throw new ArgumentException("at least one calibration image is needed", nameof(calibrationImages));
            return GraphQuantizer.Quantize(_net, inputs);
        }
    }

    /// <summary>Features of an image of interleaved RGB bytes [height, width, 3], resized to the input size.</summary>
    public float[] FeaturizeRgb(ReadOnlySpan<byte> rgb, int width, int height) => Featurize(ToChw(rgb, width, height, InputSize));

    /// <summary>
    /// Features of an encoded image (JPEG or PNG): checked, decoded and resized by <paramref name="decoder"/>
    /// (<see cref="SkiaImageDecoder.DecodeChw"/>); throws <see cref="InvalidImageException"/> for a refused image.
    /// </summary>
    public float[] FeaturizeEncoded(ReadOnlySpan<byte> encoded, SkiaImageDecoder decoder)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        return Featurize(decoder.DecodeChw(encoded, InputSize));
    }

    /// <summary>
    /// Bilinear resize (pixel centers aligned, half-pixel mapping, edge clamped) of RGB bytes [height, width, 3] to
    /// float [3, size, size] with values 0..255.
    /// </summary>
    public static float[] ToChw(ReadOnlySpan<byte> rgb, int width, int height, int size)
    {
        if (width <= 0 || height <= 0 || rgb.Length != width * height * 3)
            throw new ArgumentException($"expected {width}×{height}×3 bytes, got {rgb.Length}", nameof(rgb));
        var y = new float[3 * size * size]; // [3, size, size]
        float sy = (float)height / size, sx = (float)width / size;
        for (int oy = 0; oy < size; oy++)
        {
            float fy = Math.Clamp((oy + 0.5f) * sy - 0.5f, 0, height - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, height - 1);
            float wy = fy - y0;
            for (int ox = 0; ox < size; ox++)
            {
                float fx = Math.Clamp((ox + 0.5f) * sx - 0.5f, 0, width - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, width - 1);
                float wx = fx - x0;
                for (int c = 0; c < 3; c++)
                {
                    float a = rgb[(y0 * width + x0) * 3 + c], b = rgb[(y0 * width + x1) * 3 + c];
                    float d = rgb[(y1 * width + x0) * 3 + c], e = rgb[(y1 * width + x1) * 3 + c];
                    y[(c * size + oy) * size + ox] = (a + (b - a) * wx) * (1 - wy) + (d + (e - d) * wx) * wy;
                }
            }
        }
        return y;
    }
}
