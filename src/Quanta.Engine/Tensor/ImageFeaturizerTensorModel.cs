using System.Text;
using Quanta.Models.Vision;

namespace Quanta.Engine.Tensor;

/// <summary>
/// <see cref="ImageFeaturizer"/> as a tensor model. Inputs (exactly one per request):
/// <list type="bullet">
/// <item>"image" FP32 [n, 3, S, S]: RGB planes, values 0..255, S = <see cref="ImageFeaturizer.InputSize"/>;</item>
/// <item>"image_bytes" BYTES [n]: encoded JPEG or PNG images, each element either the raw file bytes (as the binary
/// tensor data extension carries them) or its base64 text (as JSON carries them; a "data:image/...;base64," prefix and
/// whitespace are allowed). Raw and base64 are told apart by the first byte: PNG and JPEG files start with 0x89 and
/// 0xFF, which base64 text never does.</item>
/// </list>
/// Encoded images are checked, decoded, resized and normalized by <see cref="SkiaImageDecoder.DecodeChw"/> in
/// <see cref="Prepare"/>, i.e. on the caller's thread before queueing; a refused image is a
/// <see cref="TensorRequestException"/> (HTTP 400) for its own request only; at most <see cref="MaxConcurrentDecodes"/>
/// images decode at once. Output "features" FP32 [n, F] (F is learnt
/// from a first run on a black image). A batch runs as <see cref="ImageFeaturizer.FeaturizeBatch"/> calls of
/// power-of-two sizes (largest first), each image's features equal to <see cref="ImageFeaturizer.Featurize"/> of it
/// alone within float rounding.
/// </summary>
public sealed class ImageFeaturizerTensorModel : IPreparingTensorModel
{
    /// <summary>Name of the FP32 pixel input.</summary>
    public const string ImageInput = "image";
    /// <summary>Name of the encoded-image input.</summary>
    public const string ImageBytesInput = "image_bytes";
    /// <summary>Name of the output.</summary>
    public const string FeaturesOutput = "features";

    private readonly ImageFeaturizer _model;
    private readonly object _decodeGate = new();
    private int _decoding;

    /// <summary>Wraps <paramref name="model"/>; encoded images go through <paramref name="decoder"/> (default limits when null).</summary>
    public ImageFeaturizerTensorModel(ImageFeaturizer model, string name, int maxBatchSize = 16, SkiaImageDecoder? decoder = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        Name = name ?? throw new ArgumentNullException(nameof(name));
        MaxBatchSize = maxBatchSize > 0 ? maxBatchSize : throw new ArgumentOutOfRangeException(nameof(maxBatchSize));
        Decoder = decoder ?? new SkiaImageDecoder();
        int s = model.InputSize;
        Features = model.Featurize(new float[3 * s * s]).Length;
        Inputs = [new TensorSpec(ImageInput, TensorDataType.Fp32, [-1, 3, s, s], Optional: true), new TensorSpec(ImageBytesInput, TensorDataType.Bytes, [-1], Optional: true)];
        Outputs = [new TensorSpec(FeaturesOutput, TensorDataType.Fp32, [-1, Features])];
    }

    /// <summary>
    /// Most images decoded at once across all callers (the processor count): each decode holds one RGBA buffer of
    /// at most <see cref="ImageDecodeLimits.MaxPixels"/> × 4 bytes, so this bounds the decoding memory of the model.
    /// </summary>
    public int MaxConcurrentDecodes { get; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Features per image.</summary>
    public int Features { get; }
    /// <summary>The decoder of encoded images (its limits are the server's image limits).</summary>
    public SkiaImageDecoder Decoder { get; }
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

    /// <summary>
    /// A request with "image" FP32 [n, 3, S, S]: given as is, or decoded from "image_bytes" (throws
    /// <see cref="TensorRequestException"/> naming the element and the reason when an image is refused).
    /// </summary>
    public InferenceRequest Prepare(InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        bool pixels = request.Inputs.ContainsKey(ImageInput), encoded = request.Inputs.TryGetValue(ImageBytesInput, out var bytes);
        if (pixels == encoded) throw new TensorRequestException($"give exactly one of the inputs '{ImageInput}' and '{ImageBytesInput}'");
        if (pixels) return request;
        int n = bytes!.Shape[0], s = _model.InputSize, per = 3 * s * s;
        var x = new float[n * per]; // [n, 3, S, S]
        for (int i = 0; i < n; i++)
        {
            var file = Unwrap(bytes.Bytes![i], i);
            lock (_decodeGate)
            {
                while (_decoding >= MaxConcurrentDecodes) Monitor.Wait(_decodeGate);
                _decoding++;
            }
            try
            {
                Decoder.DecodeChw(file, s).CopyTo(x, i * per);
            }
            catch (InvalidImageException e)
            {
                throw new TensorRequestException($"input '{ImageBytesInput}' element {i}: {e.Message}", e);
            }
            finally
            {
                lock (_decodeGate)
                {
                    _decoding--;
                    Monitor.Pulse(_decodeGate);
                }
            }
        }
        return new InferenceRequest([InferenceTensor.FromFloats(ImageInput, [n, 3, s, s], x)], request.Outputs, request.Parameters);
    }

    // Raw PNG/JPEG bytes as they are; anything else is read as base64 text (optionally a data: URL).
    private static byte[] Unwrap(byte[] element, int index)
    {
        if (element.Length == 0 || element[0] is 0x89 or 0xFF) return element;
        string text = Encoding.ASCII.GetString(element);
        if (text.StartsWith("data:", StringComparison.Ordinal))
        {
            int comma = text.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || !text.AsSpan(0, comma).EndsWith(";base64", StringComparison.Ordinal))
                throw new TensorRequestException($"input '{ImageBytesInput}' element {index}: a data URL must be base64 (data:<type>;base64,<data>)");
            text = text[(comma + 1)..];
        }
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new TensorRequestException($"input '{ImageBytesInput}' element {index} is neither a PNG or JPEG file nor base64 text of one");
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<IReadOnlyList<InferenceTensor>> Run(IReadOnlyList<InferenceRequest> batch)
    {
        var x = TensorBatching.ConcatInputs(batch)[ImageInput];
        int n = x.Shape[0], per = x.ElementCount / Math.Max(n, 1);
        var y = new float[n * Features]; // [n, F]
        // power-of-two runs, largest first (13 = 8 + 4 + 1): the graph keeps one plan (and buffer pool) per batch
        // size it has seen, so at most log2(MaxBatchSize) + 1 plans exist however the batcher sizes its batches
        for (int done = 0; done < n;)
        {
            int c = 1 << System.Numerics.BitOperations.Log2((uint)(n - done));
            var f = _model.FeaturizeBatch(x.Floats.AsSpan(done * per, c * per), c);
            if (f.Length != c * Features) throw new InvalidOperationException($"featurizer returned {f.Length} values for {c} images of {Features} features");
            f.CopyTo(y, done * Features);
            done += c;
        }
        return TensorBatching.SplitOutputs(batch, this, [InferenceTensor.FromFloats(FeaturesOutput, [n, Features], y)]);
    }
}
